"""The `ogmem` command as a user runs it: a subprocess, no network, no key."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from ogmem import CandidateMemory, Engine, RequestContext
from ogmem.index.embedders import HashEmbedder
from ogmem.store.queries import migration_scripts
from tests.pg import PgCluster


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
        kinds = dict(conn.execute("SELECT context_type, count(*) FROM context_nodes GROUP BY 1"))
        pending = conn.execute("SELECT count(*) FROM outbox_events WHERE status != 'DONE'")
        assert kinds == {"MEMORY": 5, "DIRECTORY": 3} and pending.fetchone()[0] == 0
    assert "worker drained" in out and "0 dead-lettered" in out
    searches = out.split("search: ")[1:]
    assert len(searches) == 2
    assert "preferences/editor" in searches[0].split("\n")[4]  # the first row of the table
    assert "cases/flaky-sqlite-tests" in searches[1].split("\n")[4]
    assert "compose (" in out and "neovim" in out.split("compose (")[1]


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


def test_search_compose_repair_reindex(tmp_path: Path) -> None:
    _ogmem("demo", "--data-dir", str(tmp_path))
    env = {"OGMEM_STORE": str(tmp_path / "demo.sqlite")}
    found = _ogmem(
        "search", "what editor does she use", "--account", "demo", "--user", "alice", env=env
    )
    assert found.returncode == 0 and "preferences/editor" in found.stdout
    block = _ogmem(
        "compose", "editor", "--account", "demo", "--user", "alice", "--budget", "50", env=env
    )
    assert (
        block.returncode == 0 and "## preference" in block.stdout and "of 50 tokens" in block.stdout
    )
    assert "re-enqueued 0 nodes" in _ogmem("repair", env=env).stdout
    assert "reindexed 8 nodes" in _ogmem("reindex", env=env).stdout


def test_worker_process_indexes_and_stops_on_sigterm(tmp_path: Path) -> None:
    store = tmp_path / "w.sqlite"
    env = {**os.environ, "OGMEM_STORE": str(store), "OGMEM_EMBEDDER": "hash"}
    seed = (
        "from ogmem import Engine, CandidateMemory, RequestContext\n"
        "from ogmem.index.embedders import HashEmbedder\n"
        f"e = Engine.open({str(store)!r}, embedder=HashEmbedder(), worker=False)\n"
        "e.remember([CandidateMemory(category='preference', routing_key='tea',"
        " abstract='Likes tea', content='Alice likes green tea.')],"
        " RequestContext('acme', 'alice'))\n"
        "e.close()\n"
    )
    subprocess.run([sys.executable, "-c", seed], check=True, timeout=60, env=env)
    command = [
        sys.executable,
        "-c",
        "from ogmem.cli import main; main()",
        "worker",
        "--poll",
        "0.1",
    ]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with closing(sqlite3.connect(store)) as conn:
                left = conn.execute("SELECT count(*) FROM outbox_events WHERE status != 'DONE'")
                if left.fetchone()[0] == 0:
                    break
            time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0 and "worker stopped" in out
    with closing(sqlite3.connect(store)) as conn:
        assert conn.execute("SELECT count(*) FROM index_records").fetchone()[0] >= 2


def test_ingest_sessions_commit_and_eval(tmp_path: Path) -> None:
    env = {"OGMEM_STORE": str(tmp_path / "s.sqlite"), "OGMEM_EMBEDDER": "hash"}
    conversation = {
        "session_id": "chat-1",
        "user_id": "ann",
        "messages": [
            {"role": "user", "content": "I adopted a puppy called Rex.", "message_id": "a1",
             "created_at": "2024-03-02T10:00:00+00:00", "name": "Ann"},
            {"role": "assistant", "content": "Congratulations!", "message_id": "a2"},
        ],
    }  # fmt: skip
    source = tmp_path / "chat.json"
    source.write_text(json.dumps(conversation))
    ingested = _ogmem("ingest", str(source), env=env)
    assert ingested.returncode == 0, ingested.stderr
    listing = _ogmem("sessions", "--user", "ann", env=env)
    assert "chat-1" in listing.stdout and "committed" in listing.stdout
    assert "1 written" in listing.stdout  # raw mode: the user's message, not the assistant's
    again = _ogmem("commit", "chat-1", "--user", "ann", env=env)
    assert again.returncode == 0 and "nothing new to commit" in again.stdout
    found = _ogmem("search", "puppy", "--user", "ann", env=env)
    assert "Ann: I adopted a puppy" in found.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"messages": [{"role": "user"}]}))
    refused = _ogmem("ingest", str(bad), env=env)
    assert refused.returncode == 2 and "messages[0]" in refused.stdout


def test_eval_locomo_prints_recall_and_writes_json(tmp_path: Path) -> None:
    from tests.unit.test_locomo_eval import tiny_locomo

    data = tmp_path / "tiny.json"
    data.write_text(json.dumps(tiny_locomo()))
    out = tmp_path / "report.json"
    env = {"OGMEM_EMBEDDER": "hash"}
    done = _ogmem(
        "eval", "locomo", "--data", str(data), "--k", "1", "--k", "3", "--json", str(out), env=env
    )
    assert done.returncode == 0, done.stderr
    assert "single-hop" in done.stdout and "R@3" in done.stdout and "J score" not in done.stdout
    assert "answer accuracy (J) skipped" in done.stdout
    report = json.loads(out.read_text())
    assert report["overall"]["R@3"] == 1.0 and report["ks"] == [1, 3]


def test_eval_locomo_replays_the_annotations_through_llm_extraction(tmp_path: Path) -> None:
    from tests.unit.test_replay_llm import sample

    data = tmp_path / "tiny.json"
    data.write_text(json.dumps(sample()))
    out = tmp_path / "report.json"
    env = {"OGMEM_EMBEDDER": "hash", "OGMEM_LLM_MODEL": ""}
    done = _ogmem(
        "eval", "locomo", "--data", str(data), "--extractor", "replay", "--json", str(out), env=env
    )
    assert done.returncode == 0, done.stderr
    # the model's 2 events and, kept beside them (OGMEM_KEEP_MESSAGES), the 6 messages
    assert (
        "(llm mode)" in done.stdout and "1 entity, 8 event, 1 preference, 1 profile" in done.stdout
    )
    report = json.loads(out.read_text())
    assert report["overall"]["R@5"] == 1.0 and report["qa"].endswith("skipped")
    refused = _ogmem("eval", "locomo", "--data", str(data), "--extractor", "gpt", env=env)
    assert refused.returncode == 2 and "--extractor" in refused.stderr + refused.stdout


def test_migrate_creates_or_upgrades_the_store(tmp_path: Path, pg_cluster: PgCluster) -> None:
    env = {"OGMEM_STORE": str(tmp_path / "m.sqlite")}
    done = _ogmem("migrate", env=env)
    latest = {dialect: len(migration_scripts(dialect)) for dialect in ("sqlite", "postgres")}
    assert done.returncode == 0, done.stderr
    assert f"m.sqlite: schema version {latest['sqlite']}" in done.stdout
    url = pg_cluster.empty_database()
    try:
        for _ in range(2):  # creates, then finds nothing left to do
            done = _ogmem("migrate", env={"OGMEM_STORE": url})
            assert done.returncode == 0, done.stderr
            assert f"schema version {latest['postgres']}" in done.stdout
            assert "ogmem_owner@" in done.stdout
    finally:
        pg_cluster.drop(url)


def test_a_postgresql_worker_wakes_up_for_another_process_write(pg_url: str) -> None:
    """The worker polls once a minute here: indexing within seconds is the NOTIFY."""
    env = {**os.environ, "OGMEM_STORE": pg_url, "OGMEM_EMBEDDER": "hash"}
    command = [sys.executable, "-c", "from ogmem.cli import main; main()", "worker", "--poll", "60"]
    worker = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert worker.stdout is not None and "worker" in worker.stdout.readline()
        time.sleep(1.0)  # its first look found nothing; it now sleeps until woken
        with Engine.open(pg_url, embedder=HashEmbedder(), worker=False) as engine:
            memory = CandidateMemory(
                category="preference", routing_key="tea", abstract="Likes tea",
                content="Alice likes green tea.",
            )  # fmt: skip
            uri = str(engine.remember([memory], RequestContext("acme", "alice"))[0].uri)
            deadline = time.monotonic() + 15
            while not engine.index.records_of_many("acme", [uri]):
                assert time.monotonic() < deadline, "the worker was not woken"
                time.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0 and "worker stopped" in out
