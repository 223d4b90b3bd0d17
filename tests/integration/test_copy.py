"""``ogmem copy SOURCE DEST`` as a user runs it: SQLite -> PostgreSQL -> SQLite keeps nodes with
their history, sessions with their messages, keys and the index (search finds the same top
hit); a second run changes nothing; a conflicting row is reported and left alone; an index
of another model is re-embedded by the destination's workers; bad arguments get one line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ogmem import CandidateMemory, Engine, Message, RequestContext
from ogmem.core.models import EventStatus
from ogmem.core.storage import Backend
from ogmem.index.embedders import HashEmbedder
from ogmem.store import open_backend

CTX = RequestContext("acme", "alice", agent_id="coder", session_id="s1")
OTHER = RequestContext("beta", "bob", session_id="b1")
QUERY = "neovim editor with a dark theme"


def _ogmem(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from ogmem.cli import main; main()", *args]
    environment = {**os.environ, "OGMEM_EMBEDDER": "hash", "COLUMNS": "200", **env}
    return subprocess.run(command, capture_output=True, text=True, timeout=180, env=environment)


def _fact(key: str, text: str, category: str = "preference") -> CandidateMemory:
    return CandidateMemory(category=category, routing_key=key, abstract=text, content=text + ".")


def _messages(session: str, *texts: str) -> list[Message]:
    at = datetime(2024, 5, 8, 10, tzinfo=UTC)
    return [
        Message("user", text, created_at=at, message_id=f"{session}-{i}")
        for i, text in enumerate(texts)
    ]


def _seed(path: Path) -> None:
    """Two accounts: merged nodes (history), an archived one, a committed session and one
    still buffering, keys (one revoked), everything indexed."""
    with Engine.open(path, embedder=HashEmbedder(), worker=False) as engine:
        engine.remember([_fact("editor", "Alice edits in vim")], CTX)
        engine.remember([_fact("editor", "Alice moved to neovim with a dark theme")], CTX)
        engine.remember([_fact("tea", "Alice drinks green tea"), _fact("bike", "Owns a bike")], CTX)
        engine.archive("ctx://acme/users/alice/memories/preferences/bike", CTX)
        engine.ingest(_messages("s1", "I adopted a puppy called Rex.", "He is tiny."), CTX)
        engine.commit("s1", CTX, wait=True)
        engine.ingest(_messages("b1", "Bob likes chess."), OTHER)
        engine.keys.create("acme", "alice", name="alice's laptop")
        key, _ = engine.keys.create("beta", admin=True)
        engine.keys.revoke(key.key_id, "beta")
        engine.drain()


def _messages_of(backend: Backend, account: str) -> list[tuple[Any, ...]]:
    found = backend.sessions.export_messages(account, 0, 1000)
    return [(session, m.message, m.tokens, m.committed) for session, m in found]


def _records_of(backend: Backend, account: str, uris: list[str]) -> list[tuple[Any, ...]]:
    found = backend.index.export_records(account, uris)
    return [(r.record, r.vector.tolist(), r.model_id) for r in found]


def _snapshot(store: str) -> dict[str, Any]:
    """What a copy must keep, read through the ports (stored ids aside)."""
    backend = open_backend(store)
    try:
        nodes = {a: backend.nodes.export_nodes(a, "", 1000) for a in ("acme", "beta")}
        uris = {a: [n.uri for n in found] for a, found in nodes.items()}
        return {
            "nodes": nodes,
            "history": {a: backend.nodes.history_of_many(a, u) for a, u in uris.items()},
            "sessions": {a: backend.sessions.export_sessions(a, "", 100) for a in uris},
            "messages": {a: _messages_of(backend, a) for a in uris},
            "keys": sorted(backend.keys.export_keys(), key=lambda k: k[0].key_id),
            "records": {a: _records_of(backend, a, u) for a, u in uris.items()},
        }
    finally:
        backend.close()


def _top_hit(store: str) -> str:
    with Engine.open(store, embedder=HashEmbedder(), worker=False) as engine:
        return engine.search(QUERY, CTX, limit=3).hits[0].uri


def _counts(out: str) -> dict[str, str]:
    """kind -> the rest of its line."""
    return dict(line.split(": ", 1) for line in out.splitlines() if " in the source, " in line)


def test_sqlite_to_postgresql_and_back_keeps_everything(tmp_path: Path, pg_url: str) -> None:
    source = tmp_path / "source.sqlite"
    _seed(source)
    before = _snapshot(str(source))
    assert before["nodes"]["acme"] and before["messages"]["beta"] and len(before["keys"]) == 2

    there = _ogmem("copy", str(source), pg_url)
    assert there.returncode == 0, there.stdout + there.stderr
    counts = _counts(there.stdout)
    assert counts["nodes"].startswith(f"{len(before['nodes']['acme'])} in the source, ")
    assert (
        counts["api keys"] == "2 in the source, 2 written, 0 already there, 0 conflicts; 2 verified"
    )
    assert "verified: every row of the source is in the destination" in there.stdout
    assert _snapshot(pg_url) == before
    assert (
        _top_hit(pg_url)
        == _top_hit(str(source))
        == ("ctx://acme/users/alice/memories/preferences/editor")
    )

    again = _ogmem("copy", str(source), pg_url)
    assert again.returncode == 0, again.stdout
    assert all(" 0 written, " in line for line in _counts(again.stdout).values())
    assert _snapshot(pg_url) == before

    back = tmp_path / "back.sqlite"
    home = _ogmem("copy", pg_url, f"sqlite:///{back}")
    assert home.returncode == 0, home.stdout + home.stderr
    assert _snapshot(str(back)) == before
    assert _top_hit(str(back)) == _top_hit(pg_url)


def test_a_different_row_is_reported_and_left_alone(tmp_path: Path) -> None:
    source, dest = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    with Engine.open(source, embedder=HashEmbedder(), worker=False) as engine:
        engine.remember([_fact("tea", "Alice drinks green tea")], CTX)
    with Engine.open(dest, embedder=HashEmbedder(), worker=False) as engine:
        engine.remember([_fact("tea", "Alice drinks black tea")], CTX)
    done = _ogmem("copy", str(source), str(dest))
    assert done.returncode == 1
    assert "conflict, left as it is: nodes: ctx://acme/users/alice/memories/preferences/tea" in (
        done.stdout
    )
    with Engine.open(dest, embedder=HashEmbedder(), worker=False) as engine:
        node = engine.read("ctx://acme/users/alice/memories/preferences/tea", CTX)
    assert node.abstract == "Alice drinks black tea"


def test_an_index_of_another_model_is_re_embedded_by_the_destination(tmp_path: Path) -> None:
    source, dest = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    _seed(source)
    done = _ogmem("copy", str(source), str(dest), OGMEM_EMBEDDER_DIMENSIONS="32")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _counts(done.stdout)["index records"].startswith("0 in the source, ")
    with Engine.open(dest, embedder=HashEmbedder(32), worker=False) as engine:
        pending = engine.outbox_events(CTX, EventStatus.PENDING)
        assert pending and not engine.index.records_of_many("acme", [e.uri for e in pending])
        engine.drain()
        assert engine.search(QUERY, CTX).hits[0].uri.endswith("/preferences/editor")
    again = _ogmem("copy", str(source), str(dest), OGMEM_EMBEDDER_DIMENSIONS="32")
    assert again.returncode == 0 and "nodes to re-index: " in again.stdout
    assert " 0 written, " in _counts(again.stdout)["nodes to re-index"]


def test_bad_arguments_get_one_line(tmp_path: Path) -> None:
    existing = tmp_path / "a.sqlite"
    Engine.open(existing, embedder=HashEmbedder(), worker=False).close()
    cases = {
        (str(tmp_path / "missing.sqlite"), str(tmp_path / "b.sqlite")): "does not exist",
        (str(existing), f"sqlite:///{existing}"): "the same store",
        (str(existing), ":memory:"): "in-memory store",
        (str(existing), "mysql://somewhere/db"): "unknown store mysql://",
    }
    for (source, dest), message in cases.items():
        done = _ogmem("copy", source, dest)
        assert done.returncode == 2, (source, dest, done.stdout, done.stderr)
        assert done.stdout.startswith("error: ") and message in done.stdout
        assert len(done.stdout.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "b.sqlite").exists()
