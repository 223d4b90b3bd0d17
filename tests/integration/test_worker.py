"""The outbox worker: leases, retries and DLQ, coalescing, stale events, repair."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from ogmem import Engine, RequestContext
from ogmem.cli import stop_soon
from ogmem.core.models import (
    ContextType,
    EventStatus,
    EventType,
    IndexRecord,
    NodeStatus,
    OutboxEvent,
    utcnow,
)
from ogmem.index.directories import DirectorySummarizer
from ogmem.index.embedders import HashEmbedder
from ogmem.index.sync import IndexSync
from ogmem.index.worker import OutboxWorker, backoff
from tests.helpers import candidate

CTX = RequestContext("acme", "alice", agent_id="coder", session_id="s1")


class Clock:
    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=1)  # events written from now on are due

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class PoisonEmbedder(HashEmbedder):
    """Fails on any batch containing the poison word."""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if any("poison" in text for text in texts):
            raise RuntimeError("cannot embed poison")
        return super().embed(texts)


@pytest.fixture
def engine(engine_url: str) -> Iterator[Engine]:
    with Engine.open(engine_url, embedder=PoisonEmbedder(), worker=False) as opened:
        yield opened


def _worker(engine: Engine, clock: Clock, **options: object) -> OutboxWorker:
    sync = IndexSync(engine.store, engine.index, engine.embedder)
    summarizer = DirectorySummarizer(engine.store)
    return OutboxWorker(engine.outbox, sync, summarizer, clock=clock, **options)  # type: ignore[arg-type]


def _statuses(engine: Engine) -> list[str]:
    return [e.status.value for e in engine.outbox_events(CTX, limit=1000)]


def test_drain_indexes_every_write(engine: Engine) -> None:
    uri = str(engine.remember([candidate("preference", "Alice edits code in vim.")], CTX)[0].uri)
    stats = engine.drain()
    # the node, its directory, then the directory's summary node written by the worker
    assert stats.claimed == 3 and stats.dead_lettered == 0
    assert set(_statuses(engine)) == {"DONE"}
    assert [r.level for r in engine.index.records_of_many("acme", [uri]).get(uri, [])] == [
        0
    ]  # abstract == content
    directory = uri.rsplit("/", 1)[0]
    assert engine.read(directory, CTX).abstract.startswith("1 preference memory")
    assert engine.search("vim editor", CTX).hits[0].uri == uri


def test_expired_lease_is_taken_over_by_another_worker(engine: Engine) -> None:
    clock = Clock()
    engine.remember([candidate("preference", "Alice edits code in vim.")], CTX)
    crashed = _worker(engine, clock, lease=timedelta(seconds=30))
    claimed = engine.outbox.claim(
        crashed.worker_id, now=clock(), lease=timedelta(seconds=30), limit=10, eager=True
    )
    assert len(claimed) == 2 and set(_statuses(engine)) == {"PROCESSING"}
    other = _worker(engine, clock)
    assert other.run_once().claimed == 0  # the lease still holds
    clock.advance(seconds=31)
    stats = other.run_once()
    assert stats.claimed == 2 and stats.done == 2
    other.drain()
    assert set(_statuses(engine)) == {"DONE"}


def test_poison_event_goes_to_dlq_while_the_others_drain(engine: Engine) -> None:
    clock = Clock()
    worker = _worker(engine, clock, max_attempts=3, base_backoff=timedelta(seconds=1))
    # only the content is poisonous: the directory summary (built from abstracts) stays healthy
    engine.remember(
        [candidate("event", "A poison pill.", abstract="A bad pill", routing_key="bad")], CTX
    )
    engine.remember(
        [candidate("event", f"Good event {i}.", routing_key=f"good{i}") for i in range(5)], CTX
    )
    first = worker.run_once()
    assert first.retried == 1 and first.done > 0
    poisoned = [
        e
        for e in engine.outbox_events(CTX, limit=100)
        if e.type is EventType.UPSERT_CONTEXT and "bad" in e.uri
    ]
    assert poisoned[0].status is EventStatus.PENDING and poisoned[0].attempts == 1
    assert "cannot embed poison" in str(poisoned[0].last_error)
    worker.drain()  # the healthy rest (the directory summary's own event)
    again = [e for e in engine.outbox_events(CTX, limit=100) if e.id == poisoned[0].id]
    assert again[0].attempts == 1  # backing off: not due yet, so not tried again
    for attempts in (1, 2):
        clock.advance(seconds=backoff(attempts, timedelta(seconds=1)).total_seconds() + 0.001)
        worker.run_once()
    dead = engine.outbox_events(CTX, EventStatus.DLQ)
    assert [e.uri for e in dead] == [poisoned[0].uri]
    assert dead[0].attempts == 3 and "RuntimeError: cannot embed poison" in str(dead[0].last_error)
    assert engine.outbox_stats(CTX)["PENDING"] == 0
    good = engine.search("good event", CTX, limit=10).hits
    assert len([h for h in good if "good" in h.uri]) == 5


def test_events_of_one_uri_coalesce(engine: Engine) -> None:
    for i in range(5):
        engine.remember([candidate("preference", f"Editor fact {i}.")], CTX)
    # the directory's summary was already pending after the first write: no more events for it
    types = [e.type for e in engine.outbox_events(CTX, limit=100)]
    assert types.count(EventType.UPSERT_DIRECTORY) == 1
    stats = engine.drain()
    assert stats.coalesced == 4  # 5 upserts of the node: 1 sync
    assert stats.claimed == 7  # and the directory's event, and the summary node's own upsert
    assert stats.embedded_texts <= 4  # node (abstract + content) and directory summary, once
    notes = [e.last_error for e in engine.outbox_events(CTX, limit=100)]
    assert sum(1 for n in notes if n and n.startswith("coalesced")) == 4


def _pending_directory_events(engine: Engine) -> list[OutboxEvent]:
    return [
        e
        for e in engine.outbox_events(CTX, limit=100)
        if e.type is EventType.UPSERT_DIRECTORY and e.status is EventStatus.PENDING
    ]


def test_a_write_after_the_directory_run_started_gets_its_own_event(engine: Engine) -> None:
    clock = Clock()
    engine.remember([candidate("preference", "Editor fact one.")], CTX)
    (first,) = _pending_directory_events(engine)
    claimed = engine.outbox.claim("w1", now=clock(), lease=timedelta(minutes=1), limit=10,
                                  eager=True)  # fmt: skip
    assert first.id in {e.id for e in claimed}
    # the run has started (it may already have read the directory): the next write must not
    # count on it, nor on an event that failed once (it waits out a backoff)
    engine.remember([candidate("preference", "Editor fact two.", routing_key="shell")], CTX)
    (second,) = _pending_directory_events(engine)
    engine.outbox.retry(second, "summary failed", clock.now + timedelta(hours=1))
    engine.remember([candidate("preference", "Editor fact three.", routing_key="tabs")], CTX)
    assert len(_pending_directory_events(engine)) == 2


def test_event_older_than_the_indexed_version_is_dropped(engine: Engine) -> None:
    uri = str(engine.remember([candidate("preference", "Editor fact one.")], CTX)[0].uri)
    engine.remember([candidate("preference", "Editor fact two.")], CTX)
    engine.drain()
    stale = OutboxEvent("acme", EventType.UPSERT_CONTEXT, uri, {"version": 1})
    engine.outbox.enqueue([stale])
    embedder = engine.embedder
    assert isinstance(embedder, HashEmbedder)
    embedder.reset()
    stats = engine.drain()
    assert stats.claimed == 1 and stats.unchanged == 1 and embedder.calls == []
    assert {r.node_version for r in engine.index.records_of_many("acme", [uri]).get(uri, [])} == {2}


def test_repair_after_records_are_deleted_behind_the_engines_back(engine: Engine) -> None:
    results = engine.remember(
        [candidate("event", f"Event {i}.", routing_key=f"e{i}") for i in range(4)], CTX
    )
    engine.drain()
    victim = str(results[1].uri)
    engine.index.remove("acme", victim)  # behind the engine's back: no event, no new version
    ghost = IndexRecord(
        "acme", "ctx://acme/gone", 0, "ghost", "user:alice", "event", ContextType.MEMORY,
        NodeStatus.ACTIVE, 1,
    )  # fmt: skip
    vector = engine.embedder.embed(["ghost"])[0]
    engine.index.replace_many("acme", [(ghost.uri, [ghost], [vector])], engine.embedder.model_id)
    assert victim not in [h.uri for h in engine.search("Event", CTX, limit=10).hits]
    report = engine.repair()
    assert (report.requeued, report.removed) == (1, 1)
    engine.drain()
    assert victim in [h.uri for h in engine.search("Event", CTX, limit=10).hits]
    assert engine.index.orphan_uris("acme") == [] and engine.index.lagging_nodes("acme") == []


def test_archive_and_delete_reach_the_index(engine: Engine) -> None:
    uri = str(engine.remember([candidate("preference", "Alice edits code in vim.")], CTX)[0].uri)
    engine.drain()
    engine.archive(uri, CTX)
    engine.drain()
    assert engine.search("vim", CTX).hits == []
    assert engine.search("vim", CTX, include_archived=True).hits[0].uri == uri
    engine.delete(uri, CTX)
    engine.drain()
    assert engine.index.records_of_many("acme", [uri]).get(uri, []) == []
    assert engine.search("vim", CTX, include_archived=True).hits == []


def test_background_thread_indexes_without_drain() -> None:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=True) as engine:
        engine.remember([candidate("preference", "Alice edits code in vim.")], CTX)
        deadline = utcnow() + timedelta(seconds=20)
        while engine.outbox_stats(CTX)["DONE"] != 3 and utcnow() < deadline:
            time.sleep(0.02)
        assert engine.outbox_stats(CTX)["DONE"] == 3
        assert engine.worker.alive
    assert not engine.worker.alive


def test_backoff_grows_and_is_capped() -> None:
    assert [backoff(n, timedelta(seconds=1)).total_seconds() for n in (1, 2, 3)] == [1, 2, 4]
    assert backoff(50) == timedelta(minutes=10)


def _old_events(engine: Engine) -> list[OutboxEvent]:
    """Every kind of event: finished, dead-lettered and pending."""
    engine.remember([candidate("preference", "Alice edits code in vim.")], CTX)
    engine.drain()
    engine.outbox.enqueue(
        [OutboxEvent("acme", EventType.UPSERT_CONTEXT, f"ctx://acme/x/{i}") for i in range(2)]
    )
    pending = engine.outbox_events(CTX, EventStatus.PENDING)
    engine.outbox.dead_letter(pending[0], "poison", 1)
    return engine.outbox_events(CTX, limit=100)


def test_finished_events_past_the_retention_are_purged(engine: Engine) -> None:
    before = _old_events(engine)
    clock = Clock()
    worker = _worker(engine, clock, retention=timedelta(days=7))

    assert worker.purge_finished() == 0  # all younger than a week
    clock.advance(days=8)
    purged = worker.purge_finished()

    done = [e for e in before if e.status is EventStatus.DONE]
    assert purged == len(done) == 3
    kept = engine.outbox_events(CTX, limit=100)
    assert sorted(e.status.value for e in kept) == ["DLQ", "PENDING"]  # never purged


def test_an_idle_worker_purges_on_its_own(engine: Engine) -> None:
    _old_events(engine)
    clock = Clock()
    clock.advance(days=8)
    worker = _worker(engine, clock, poll_interval=0.01)
    worker.start()
    try:
        deadline = time.monotonic() + 20
        while engine.outbox_stats(CTX)["DONE"] and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        worker.stop()
    assert engine.outbox_stats(CTX)["DONE"] == 0
    assert engine.outbox_stats(CTX)["DLQ"] == 1


def test_a_stop_signal_landing_inside_the_workers_lock_still_stops_it(tmp_path: Path) -> None:
    """`ogmem worker` runs the worker in the main thread, where Python runs signal handlers
    between bytecodes: the handler must not take a lock that thread may be holding."""
    engine = Engine.open(tmp_path / "stop.sqlite", embedder=HashEmbedder(16), worker=False)
    handler = stop_soon(engine)
    lock = engine.worker._wake._cond  # what the loop holds inside Event.clear() and wait()

    def signal_while_holding() -> None:
        with lock:  # the interrupted frame's lock, held by the thread the handler runs on
            handler(signal.SIGTERM, None)

    interrupted = threading.Thread(target=signal_while_holding, daemon=True)
    interrupted.start()
    interrupted.join(timeout=5)
    if interrupted.is_alive():  # left open: closing would wait for the same lock
        pytest.fail("the handler waited for a lock its own thread held")
    deadline = time.monotonic() + 5
    while not engine.worker._stop.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine.worker._stop.is_set()  # asked to stop once the lock was free
    engine.close()
