"""``ogmem export`` / ``ogmem import`` (``ogmem.export``): a round trip SQLite -> PostgreSQL ->
SQLite gives identical nodes and histories; importing twice changes nothing; a different row
is a conflict, reported and left as it is; a user's export holds only that user; a bad file is
refused before anything is written, with the line and the field named."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ogmem.copy import CopyReport
from ogmem.core.models import ContextNode, Message, NodeVersion, SessionState
from ogmem.engine import Engine
from ogmem.export import Header, export_file, import_file
from ogmem.export_codec import ExportFormatError
from tests.erase_fill import Person, fill, open_engine

ALICE = Person("acme", "zulu7canary", "Jabberwockyquux")
BOB = Person("acme", "zulu7", "Marzipanvortex")  # his id is a prefix of alice's


State = tuple[
    list[ContextNode], dict[str, list[NodeVersion]], list[SessionState],
    list[tuple[str, Message, bool]],
]  # fmt: skip


def _state(engine: Engine, account: str) -> State:
    """Every node of the account with its history, and every session with its messages."""
    nodes = engine.backend.nodes.export_nodes(account, "", 10_000)
    history = engine.backend.nodes.history_of_many(account, [n.uri for n in nodes])
    sessions = engine.backend.sessions.export_sessions(account, "", 10_000)
    stored = engine.backend.sessions.export_messages(account, 0, 10_000)
    messages = [(sid, m.message, m.committed) for sid, m in stored]
    return nodes, history, sessions, messages


def _export(engine: Engine, path: Path, user: str | None = None) -> Path:
    export_file(engine.backend, path, "acme", user, sessions=True)
    return path


def _import(engine: Engine, path: Path) -> tuple[Header, CopyReport, CopyReport]:
    with path.open(encoding="utf-8") as text:
        return import_file(engine.backend, text, engine.embedder.model_id)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "source.sqlite"
    with open_engine(str(path)) as engine:
        fill(engine, ALICE)
        fill(engine, BOB)
    return path


def test_a_round_trip_through_postgresql_gives_identical_nodes_and_histories(
    source: Path, tmp_path: Path, pg_url: str
) -> None:
    with open_engine(str(source)) as engine:
        original = _state(engine, "acme")
        first = _export(engine, tmp_path / "first.jsonl")
    with open_engine(pg_url) as engine:
        _, done, checked = _import(engine, first)
        assert not done.conflicts and not checked.missing()
        assert _state(engine, "acme") == original
        second = _export(engine, tmp_path / "second.jsonl")
    with open_engine(str(tmp_path / "back.sqlite")) as engine:
        _import(engine, second)
        assert _state(engine, "acme") == original
        engine.repair("acme")
        engine.drain()  # the file had no index records: the store indexed the nodes itself
        hits = engine.search(ALICE.canary, ALICE.ctx).hits
        assert hits and all(h.uri.startswith(ALICE.root + "/") for h in hits)
    nodes, history, sessions, messages = original
    assert len(nodes) > 10 and sessions and messages
    assert any(len(versions) > 1 for versions in history.values())


def test_importing_twice_changes_nothing_and_a_conflict_is_left_as_it_is(
    source: Path, tmp_path: Path
) -> None:
    with open_engine(str(source)) as engine:
        path = _export(engine, tmp_path / "acme.jsonl")
    with open_engine(str(tmp_path / "dest.sqlite")) as engine:
        _import(engine, path)
        before = _state(engine, "acme")
        _, again, _ = _import(engine, path)
        assert all(c.written == 0 for c in again.counts.values())
        assert again.counts["nodes"].present > 10
        assert _state(engine, "acme") == before
        target = next(n for n in before[0] if "/memories/events/" in n.uri)
        changed = engine.archive(target.uri, ALICE.ctx)  # the store's own change since the export
        _, conflicted, _ = _import(engine, path)
        assert any(changed.uri in c for c in conflicted.conflicts)
        assert engine.read(changed.uri, ALICE.ctx) == changed


def test_a_users_export_holds_only_that_user(source: Path, tmp_path: Path) -> None:
    with open_engine(str(source)) as engine:
        path = _export(engine, tmp_path / "alice.jsonl", ALICE.user)
    text = path.read_text(encoding="utf-8")
    assert ALICE.canary in text and BOB.canary not in text
    assert f'"{BOB.root}/' not in text and '"user_id": "zulu7"' not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["format"] == "ogmem-export" and lines[0]["user_id"] == ALICE.user
    kinds = {line.get("kind") for line in lines[1:]}
    assert kinds == {"node", "version", "applied", "session", "message"}


def _bad(header: dict[str, object], *rows: dict[str, object]) -> io.StringIO:
    return io.StringIO("\n".join(json.dumps(r) for r in (header, *rows)) + "\n")


HEADER = {"format": "ogmem-export", "version": 1, "account_id": "acme", "user_id": None,
          "sessions": False, "exported_at": "2026-12-01T00:00:00+00:00"}  # fmt: skip
APPLIED = {"kind": "applied", "account_id": "acme", "fingerprint": "f", "action": "write",
           "uri": "ctx://acme/users/u/x", "version": 1,
           "applied_at": "2026-12-01T00:00:00+00:00"}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (io.StringIO(""), "empty"),
        (io.StringIO("not json\n"), "line 1: not JSON"),
        (_bad({**HEADER, "format": "other"}), "not an ogmem-export file"),
        (_bad({**HEADER, "version": 2}), "version 2; this ogmem reads version 1"),
        (_bad(HEADER, {"kind": "nodes"}), "line 2: unknown kind 'nodes'"),
        (_bad(HEADER, {"kind": "applied", "account_id": "acme"}), "field 'fingerprint' is missing"),
        (_bad(HEADER, {**APPLIED, "version": "1"}), "field 'version': expected int"),
        (_bad(HEADER, {**APPLIED, "applied_at": "2026-12-01"}), "has no UTC offset"),
        (_bad(HEADER, {**APPLIED, "account_id": "other", "uri": "ctx://other/users/u/x"}),
         "account 'other'"),
        (_bad(HEADER, {**APPLIED, "uri": "ctx://other/users/u/x"}), "outside what the file"),
    ],
)  # fmt: skip
def test_a_bad_file_is_refused_before_anything_is_written(
    text: io.StringIO, message: str, tmp_path: Path
) -> None:
    with open_engine(str(tmp_path / "dest.sqlite")) as engine:
        with pytest.raises(ExportFormatError, match=message):
            import_file(engine.backend, text, engine.embedder.model_id)
        assert engine.backend.nodes.account_ids() == []
