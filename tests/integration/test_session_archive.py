"""Session archives stay bounded: parts of at most PART_CHARS below the session node, written
once each; the session node holds a summary, never the transcript; a commit takes the backlog
in bounded steps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ogmem import Engine, Message, RequestContext
from ogmem.core.models import ContextNode, ContextType, SessionStatus
from ogmem.index.embedders import HashEmbedder
from ogmem.session.archive import PART_CHARS
from ogmem.session.committer import SessionCommitter

CTX = RequestContext("acme", "caroline", session_id="long")
SESSION = "ctx://acme/users/caroline/sessions/long"
START = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


@pytest.fixture
def engine(engine_url: str) -> Iterator[Engine]:
    with Engine.open(engine_url, embedder=HashEmbedder(), worker=False) as opened:
        yield opened


def _messages(first: int, count: int, size: int = 900) -> list[Message]:
    return [
        Message("user", f"Turn {n}: " + "lorem ipsum " * (size // 12), START + timedelta(minutes=n),
                f"m{n}", "Caroline")
        for n in range(first, first + count)
    ]  # fmt: skip


def _parts(engine: Engine) -> list[ContextNode]:
    return [e.node for e in engine.ls(SESSION, CTX) if e.node is not None]


def test_parts_are_bounded_and_written_once_across_commits(engine: Engine) -> None:
    engine.ingest(_messages(0, 20), CTX)
    engine.commit("long", CTX, wait=True)
    first = {p.uri: p.version for p in _parts(engine)}
    engine.ingest(_messages(20, 20), CTX)
    state = engine.commit("long", CTX, wait=True)
    assert state.status is SessionStatus.COMMITTED and state.written == 40
    parts = _parts(engine)
    assert all(len(p.content) <= PART_CHARS for p in parts)
    assert all(p.context_type is ContextType.SESSION for p in parts)
    assert {p.uri: p.version for p in parts if p.uri in first} == first  # never rewritten
    covered = [i for p in parts for i in p.metadata["source_message_ids"]]
    assert covered == [f"m{n}" for n in range(40)]
    node = engine.read(SESSION, CTX)
    assert node.content == "" and node.metadata["messages"] == 40
    assert node.metadata["parts"] == len(parts)
    assert node.abstract.endswith("(40 messages)")


def test_a_message_longer_than_a_part_is_split_into_pieces(engine: Engine) -> None:
    engine.ingest(_messages(0, 1, size=100_000), CTX)
    engine.commit("long", CTX, wait=True)
    pieces = _parts(engine)
    assert len(pieces) == 7 and all(len(p.content) <= PART_CHARS for p in pieces)
    assert [p.metadata["piece"] for p in pieces] == list(range(1, 8))
    assert "".join(p.content for p in pieces).count("lorem") == 100_000 // 12


def test_a_commit_takes_the_backlog_in_bounded_steps(engine: Engine) -> None:
    sessions = engine.sessions._sessions
    seen: list[int] = []
    real = sessions.uncommitted

    def spy(*args: object) -> object:
        found = real(*args)  # type: ignore[arg-type]
        seen.append(len(found))
        return found

    sessions.uncommitted = spy  # type: ignore[method-assign]
    committer = SessionCommitter(
        sessions, engine.writer, engine.committer._extractor, engine.committer._archiver,
        step_messages=8,
    )  # fmt: skip
    engine.ingest(_messages(0, 50, size=200), CTX)
    report = committer.run("acme", "long")
    assert seen == [8, 8, 8, 8, 8, 8, 2, 0]
    assert (report.messages, report.written) == (50, 50)
    state = engine.session("long", CTX)
    assert (state.status, state.written, state.uncommitted_tokens) == (
        SessionStatus.COMMITTED, 50, 0
    )  # fmt: skip
