"""`ogmem dream` as a user runs it: plan, run, history, show, undo, errors in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _ogmem(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from ogmem.cli import main; main()", *args]
    env = {**os.environ, "COLUMNS": "200", "OGMEM_DATA_DIR": str(tmp_path),
           "OGMEM_EMBEDDER": "hash"}  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)


def test_plan_run_history_show_and_undo(tmp_path: Path) -> None:
    for text in ("I moved to Berlin last spring with my sister Anna",
                 "Last spring I moved to Berlin with Anna, my sister"):  # fmt: skip
        assert _ogmem(tmp_path, "add", text, "--user", "sam").returncode == 0
    plan = _ogmem(tmp_path, "dream", "--user", "sam", "--dry-run")
    assert plan.returncode == 0 and "1 steps planned" in plan.stdout and "absorb " in plan.stdout
    assert "no dream runs" in _ogmem(tmp_path, "dream", "--user", "sam", "--history").stdout

    ran = _ogmem(tmp_path, "dream", "--user", "sam", "--json")
    run = json.loads(ran.stdout)
    assert run["counts"] == {"merge": 1} and run["steps"][0]["status"] == "applied"
    absorbed = run["steps"][0]["absorbed"][0]
    cat = json.loads(_ogmem(tmp_path, "cat", absorbed, "--user", "sam", "--json").stdout)
    assert (
        cat["status"] == "ARCHIVED"
        and cat["metadata"]["absorbed_into"] == run["steps"][0]["survivor"]
    )
    history = _ogmem(tmp_path, "dream", "--user", "sam", "--history").stdout
    assert run["run_id"] in history and "1 merge" in history
    shown = _ogmem(tmp_path, "dream", "--user", "sam", "--show", run["run_id"]).stdout
    assert "#0 merge (applied)" in shown and absorbed in shown

    undone = _ogmem(tmp_path, "dream", "--user", "sam", "--undo", run["run_id"], "--step", "0")
    assert undone.returncode == 0 and "#0 merge (undone)" in undone.stdout
    cat = json.loads(_ogmem(tmp_path, "cat", absorbed, "--user", "sam", "--json").stdout)
    assert cat["status"] == "ACTIVE"
    again = _ogmem(tmp_path, "dream", "--user", "sam", "--undo", run["run_id"], "--step", "0")
    assert again.returncode == 2 and "not applied: nothing to undo" in again.stdout
    other = _ogmem(tmp_path, "dream", "--user", "bob", "--show", run["run_id"])
    assert other.returncode == 2 and "no dream run" in other.stdout


def test_queue_leaves_the_job_to_a_worker(tmp_path: Path) -> None:
    queued = _ogmem(tmp_path, "dream", "--user", "sam", "--queue")
    assert queued.returncode == 0 and "queued" in queued.stdout
    assert "no dream runs" in _ogmem(tmp_path, "dream", "--user", "sam", "--history").stdout
