"""The `ogmem` command as a user runs it: a subprocess, no network, no key."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path


def _ogmem(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from ogmem.cli import main; main()", *args]
    environment = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment)


def test_demo_prints_the_tree_versions_and_outbox(tmp_path: Path) -> None:
    done = _ogmem("demo", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "editor v2 ACTIVE" in out and "indentation v2 ARCHIVED" in out
    assert "profile v1 ACTIVE" in out
    assert "case is agent-scoped and the request has no agent_id" in out
    assert "duplicate: this candidate was already applied" in out
    assert "UPSERT_DIRECTORY" in out and "ARCHIVE_CONTEXT" in out
    with closing(sqlite3.connect(tmp_path / "demo.sqlite")) as conn:
        assert conn.execute("SELECT count(*) FROM context_nodes").fetchone()[0] == 5


def test_demo_starts_from_a_fresh_file(tmp_path: Path) -> None:
    assert _ogmem("demo", "--data-dir", str(tmp_path)).returncode == 0
    again = _ogmem("demo", "--data-dir", str(tmp_path))
    assert again.returncode == 0 and "editor v2 ACTIVE" in again.stdout


def test_ls_cat_history_read_the_store_named_by_the_environment(tmp_path: Path) -> None:
    _ogmem("demo", "--data-dir", str(tmp_path))
    env = {"OGMEM_STORE": str(tmp_path / "demo.sqlite")}
    editor = "ctx://demo/users/alice/memories/preferences/editor"
    listing = _ogmem(
        "ls", "ctx://demo/users/alice/memories/preferences", "--account", "demo", env=env
    )
    assert editor in listing.stdout and "v2 ACTIVE" in listing.stdout
    shown = _ogmem("cat", editor, "--account", "demo", env=env)
    assert "neovim" in shown.stdout and "vim" in shown.stdout
    history = _ogmem("history", editor, "--account", "demo", env=env)
    assert "create" in history.stdout and "merge" in history.stdout


def test_errors_are_reported_without_a_traceback(tmp_path: Path) -> None:
    env = {"OGMEM_STORE": str(tmp_path / "empty.sqlite")}
    missing = _ogmem("cat", "ctx://demo/users/alice/nothing", "--account", "demo", env=env)
    assert missing.returncode == 2
    assert "no node at ctx://demo/users/alice/nothing" in missing.stdout
    assert "Traceback" not in missing.stderr
    bad = _ogmem("cat", "ctx://demo/../etc", "--account", "demo", env=env)
    assert bad.returncode == 2 and "may not be '..'" in bad.stdout
