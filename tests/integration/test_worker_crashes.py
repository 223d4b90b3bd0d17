"""A worker that dies mid-batch: another takes over within a lease, the unfinished claim counts
as an attempt (an event that kills every worker ends in the DLQ), and a live worker's
heartbeat keeps its lease however long its work takes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest

from ogmem import Engine, RequestContext
from ogmem.core.models import EventStatus, EventType, OutboxEvent
from ogmem.index.directories import DirectorySummarizer
from ogmem.index.embedders import HashEmbedder
from ogmem.index.sync import IndexSync
from ogmem.index.worker import OutboxWorker
from tests.integration.test_worker import Clock

CTX = RequestContext("acme", "alice", session_id="s1")
URI = "ctx://acme/users/alice/memories/events/e1"


@pytest.fixture
def engine() -> Iterator[Engine]:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as opened:
        yield opened


def _worker(engine: Engine, clock: Clock | None, **options: object) -> OutboxWorker:
    """A worker on the engine's store; ``clock`` None keeps real time."""
    sync = IndexSync(engine.store, engine.index, engine.embedder)
    if clock is not None:
        options["clock"] = clock
    return OutboxWorker(engine.outbox, sync, DirectorySummarizer(engine.store), **options)  # type: ignore[arg-type]


def _event(engine: Engine) -> OutboxEvent:
    (event,) = [e for e in engine.outbox_events(CTX, limit=10) if e.uri == URI]
    return event


def test_an_unfinished_claim_counts_as_an_attempt_up_to_the_dlq(engine: Engine) -> None:
    clock = Clock()
    engine.outbox.enqueue([OutboxEvent("acme", EventType.UPSERT_CONTEXT, URI)])
    lease = timedelta(seconds=10)
    for crash in range(1, 4):  # three workers claim it and die before finishing
        claimed = engine.outbox.claim(f"dead-{crash}", now=clock(), lease=lease, limit=10)
        assert [e.uri for e in claimed] == [URI]
        clock.advance(seconds=11)
        if crash > 1:
            assert _event(engine).status is EventStatus.PROCESSING
    survivor = _worker(engine, clock, max_attempts=3, lease=lease)
    stats = survivor.run_once()
    event = _event(engine)
    assert (stats.claimed, stats.dead_lettered, stats.done) == (1, 1, 0)
    assert event.status is EventStatus.DLQ and event.attempts == 3
    assert "gave up after 3 attempts" in str(event.last_error)
    assert "the lease of worker dead-3 ended before it finished" in str(event.last_error)


def test_a_claim_taken_over_once_is_still_processed(engine: Engine) -> None:
    clock = Clock()
    engine.outbox.enqueue([OutboxEvent("acme", EventType.UPSERT_CONTEXT, URI)])
    engine.outbox.claim("dead", now=clock(), lease=timedelta(seconds=10), limit=10)
    clock.advance(seconds=11)
    stats = _worker(engine, clock).run_once()
    assert (stats.claimed, stats.done) == (1, 1)
    event = _event(engine)
    assert event.status is EventStatus.DONE and event.attempts == 1


class _SlowCommitter:
    """A session commit that outlasts the lease several times over (a slow LLM)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = threading.Event()

    def __call__(self, account_id: str, session_id: str, owner: str) -> None:
        self.started.set()
        time.sleep(self.seconds)


def test_the_heartbeat_keeps_a_slow_workers_lease(engine: Engine) -> None:
    lease = timedelta(seconds=1.5)  # renewed every 0.5 s while the 4 s commit runs
    engine.outbox.enqueue(
        [OutboxEvent("acme", EventType.COMMIT_SESSION, "ctx://acme/users/alice/sessions/s1",
                     {"session_id": "s1"})]
    )  # fmt: skip
    slow = _SlowCommitter(4.0)
    busy = _worker(engine, None, lease=lease, session_committer=slow, worker_id="busy")
    other = _worker(engine, None, lease=lease, worker_id="other")
    runner = threading.Thread(target=busy.run_once)
    runner.start()
    try:
        assert slow.started.wait(10)
        stolen = 0
        while runner.is_alive():
            stolen += other.run_once().claimed
            time.sleep(0.25)
    finally:
        runner.join()
        busy.stop()
    assert stolen == 0
    (event,) = engine.outbox_events(CTX, limit=10)
    assert event.status is EventStatus.DONE and event.attempts == 0


def test_a_live_worker_taking_back_its_own_claims_counts_no_attempt(engine: Engine) -> None:
    """It could not finish them (the store refused a write): that is no crash."""
    clock = Clock()
    engine.outbox.enqueue([OutboxEvent("acme", EventType.UPSERT_CONTEXT, URI)])
    worker = _worker(engine, clock, worker_id="alive")
    engine.outbox.claim("alive", now=clock(), lease=timedelta(seconds=10), limit=10)
    clock.advance(seconds=11)
    assert worker.run_once().done == 1
    assert _event(engine).attempts == 0
