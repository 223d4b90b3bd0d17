"""Session archives stay bounded: parts of at most PART_CHARS below the session node, written
once each; the session node holds a summary, never the transcript; a commit takes the backlog
in bounded steps."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

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


def _committer_in_steps_of_8(engine: Engine) -> SessionCommitter:
    """A committer over the engine's sessions (spied on by the test) that takes 8 messages
    a step."""
    return SessionCommitter(
        engine.sessions._sessions, engine.writer, engine.committer._extractor,
        engine.committer._archiver, step_messages=8,
    )  # fmt: skip


def _assert_committed(engine: Engine, *, written: int) -> None:
    state = engine.session("long", CTX)
    assert (state.status, state.written, state.uncommitted_tokens) == (
        SessionStatus.COMMITTED, written, 0
    )  # fmt: skip


def test_a_commit_takes_the_backlog_in_bounded_steps(engine: Engine) -> None:
    sessions = engine.sessions._sessions
    seen: list[int] = []
    real = sessions.uncommitted

    def spy(*args: Any, **kwargs: Any) -> Any:
        found = real(*args, **kwargs)
        seen.append(len(found))
        return found

    sessions.uncommitted = spy  # type: ignore[method-assign]
    committer = _committer_in_steps_of_8(engine)
    engine.ingest(_messages(0, 50, size=200), CTX)
    report = committer.run("acme", "long")
    assert seen == [8, 8, 8, 8, 8, 8, 2, 0]
    assert (report.messages, report.written) == (50, 50)
    _assert_committed(engine, written=50)


def test_a_commit_records_each_step_once_and_settles_the_status_with_the_last(
    engine: Engine,
) -> None:
    """One transaction per step: the last step's record also settles the status (no extra
    record after it), and the claim is not renewed right after it was taken."""
    sessions = engine.sessions._sessions
    finals: list[bool] = []
    claims: list[str] = []
    record, claim = sessions.record_commit, sessions.claim_commit

    def recording(*args: Any, **kwargs: Any) -> None:
        finals.append(kwargs.get("final", True))
        record(*args, **kwargs)

    def claiming(*args: Any, **kwargs: Any) -> Any:
        claims.append(args[2])
        return claim(*args, **kwargs)

    sessions.record_commit = recording  # type: ignore[method-assign]
    sessions.claim_commit = claiming  # type: ignore[method-assign]
    committer = _committer_in_steps_of_8(engine)
    engine.ingest(_messages(0, 20, size=200), CTX)
    report = committer.run("acme", "long")
    assert (report.messages, report.written) == (20, 20)
    assert finals == [False, False, True]  # steps of 8, 8 and 4 messages
    assert len(claims) == 1  # taken once; each window's renewal came within seconds of it
    _assert_committed(engine, written=20)
