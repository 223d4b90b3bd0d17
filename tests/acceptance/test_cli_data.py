"""``ogmem forget-user``, ``export`` and ``import`` as a user runs them (a subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _ogmem(tmp: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from ogmem.cli import main; main()", *args]
    env = {**os.environ, "COLUMNS": "200", "OGMEM_STORE": str(tmp / "store.sqlite"),
           "OGMEM_EMBEDDER": "hash"}  # fmt: skip
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, input=stdin
    )


def test_forget_user_needs_a_user_and_a_yes(tmp_path: Path) -> None:
    assert _ogmem(tmp_path, "add", "Carol likes tea", "--user", "carol").returncode == 0
    unnamed = _ogmem(tmp_path, "forget-user", "--yes")
    assert unnamed.returncode == 2 and "name the user" in unnamed.stdout
    declined = _ogmem(tmp_path, "forget-user", "--user", "carol", stdin="n\n")
    assert declined.returncode == 1
    listing = ("--user", "carol", "ls", "ctx://default/users", "--json")
    assert "ctx://default/users/carol" in _ogmem(tmp_path, *listing).stdout
    erased = _ogmem(tmp_path, "forget-user", "--user", "carol", stdin="y\n")
    assert erased.returncode == 0 and "1 nodes" in erased.stdout, erased.stdout
    assert "ctx://default/users/carol" not in _ogmem(tmp_path, *listing).stdout


def test_export_then_import_twice_into_another_store(tmp_path: Path) -> None:
    assert _ogmem(tmp_path, "add", "Carol likes tea", "--user", "carol").returncode == 0
    exported = _ogmem(tmp_path, "--user", "carol", "export", str(tmp_path / "c.jsonl"))
    assert exported.returncode == 0 and "1 nodes" in exported.stdout, exported.stdout
    other = tmp_path / "other"
    other.mkdir()
    first = _ogmem(other, "import", str(tmp_path / "c.jsonl"))
    assert first.returncode == 0 and "nodes: 1 in the file, 1 written" in first.stdout
    second = _ogmem(other, "import", str(tmp_path / "c.jsonl"))
    assert second.returncode == 0 and "nodes: 1 in the file, 0 written, 1 already" in second.stdout
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "something-else"}\n')
    refused = _ogmem(other, "import", str(bad))
    assert refused.returncode == 2 and "not an ogmem-export file" in refused.stdout
