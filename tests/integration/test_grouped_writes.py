"""Turns arriving together are written in one transaction (session/grouped.py), on each
backend: every caller gets its own result, a refused turn fails alone, any other failure
fails its group and writes nothing, and a caller already in a transaction is not grouped."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from ogmem import Engine, Message, RequestContext
from ogmem.core import errors
from ogmem.core.storage import UnitOfWork
from ogmem.index.embedders import HashEmbedder
from ogmem.session.grouped import GroupedWrites

CALLERS = 24


@pytest.fixture
def engine(engine_url: str) -> Iterator[Engine]:
    with Engine.open(engine_url, embedder=HashEmbedder(), worker=False) as opened:
        yield opened


def _turn(n: int) -> list[Message]:
    return [Message("user", f"turn number {n}", message_id=f"m{n}")]


def _together(work: Callable[[int], object]) -> list[object]:
    """``work(n)`` from CALLERS threads released at once; each one's result or error."""
    start = threading.Barrier(CALLERS)
    outcomes: list[object] = [None] * CALLERS

    def one(n: int) -> None:
        start.wait()
        try:
            outcomes[n] = work(n)
        except Exception as exc:  # handed back to the test, which checks it
            outcomes[n] = exc

    threads = [threading.Thread(target=one, args=(n,)) for n in range(CALLERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_turns_each_get_their_own_result(engine: Engine) -> None:
    def turn(n: int) -> object:
        ctx = RequestContext("acme", f"user{n % 3}", session_id=f"s{n}")
        return engine.after_turn(_turn(n), ctx)

    results = _together(turn)
    for n, result in enumerate(results):
        assert not isinstance(result, Exception), result
        assert result.session.session_id == f"s{n}" and result.added == 1  # type: ignore[attr-defined]
    for user in range(3):
        listed = engine.list_sessions(RequestContext("acme", f"user{user}"))
        assert sorted(s.session_id for s in listed) == sorted(
            f"s{n}" for n in range(CALLERS) if n % 3 == user
        )


def test_a_refused_turn_fails_alone(engine: Engine) -> None:
    engine.after_turn(_turn(0), RequestContext("acme", "owner", session_id="taken"))

    def turn(n: int) -> object:
        session = "taken" if n % 4 == 0 else f"s{n}"  # every fourth: another user's session
        return engine.after_turn(_turn(n), RequestContext("acme", "intruder", session_id=session))

    results = _together(turn)
    refused = [n for n, r in enumerate(results) if isinstance(r, errors.InvalidInput)]
    assert refused == [n for n in range(CALLERS) if n % 4 == 0]
    listed = engine.list_sessions(RequestContext("acme", "intruder"))
    assert len(listed) == CALLERS - len(refused)
    owner = engine.session("taken", RequestContext("acme", "owner"))
    assert owner.messages == 1  # nothing of the intruder's


def test_a_failure_fails_its_whole_group_and_writes_nothing(engine: Engine) -> None:
    uow: UnitOfWork = engine.backend.uow
    grouped = GroupedWrites(uow)
    inside, release = threading.Event(), threading.Event()
    now = datetime.now(UTC)

    def opening(session: str) -> Callable[[], object]:
        return lambda: engine.backend.sessions.open("acme", session, "u", None, now)

    def blocker() -> None:  # holds the first group open until the others have queued
        inside.set()
        release.wait(10)

    def failing() -> None:
        raise RuntimeError("disk gone")

    first = threading.Thread(target=grouped.run, args=(blocker,))
    first.start()
    inside.wait(10)
    outcomes: list[object] = []

    def queue(work: Callable[[], object]) -> threading.Thread:
        def call() -> None:
            try:
                outcomes.append(grouped.run(work))
            except RuntimeError as exc:
                outcomes.append(exc)

        thread = threading.Thread(target=call)
        thread.start()
        return thread

    queued = [queue(opening("g1")), queue(failing), queue(opening("g2"))]
    while len(grouped._queue) < 3:  # all three wait behind the first group
        threading.Event().wait(0.01)
    release.set()
    first.join()
    for thread in queued:
        thread.join()
    assert [str(o) for o in outcomes] == ["disk gone"] * 3  # one group: all failed together
    assert grouped.groups == 1  # only the blocker's committed
    assert engine.list_sessions(RequestContext("acme", "u")) == []  # g1, g2 rolled back


def test_a_caller_inside_a_transaction_is_not_grouped(engine: Engine) -> None:
    uow: UnitOfWork = engine.backend.uow
    grouped = GroupedWrites(uow)
    with uow.transaction():
        assert grouped.run(lambda: 42) == 42  # no wait on a group that needs this lock
    assert grouped.groups == 0
