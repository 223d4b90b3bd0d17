"""Recall signals are written in batches: after FLUSH_EVERY searches or FLUSH_AFTER_S."""

from __future__ import annotations

from ogmem.core.storage import Backend
from ogmem.retrieval.recall import RecallLog

URI = "ctx://acme/users/alice/memories/events/e1"


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def _written(backend: Backend) -> int:
    return len(backend.index.recall_signals("acme", URI))  # type: ignore[attr-defined]


def test_signals_wait_for_a_full_batch_or_a_second(backend: Backend) -> None:
    clock = Clock()
    log = RecallLog(backend.index, flush_every=3, flush_after_s=1.0, clock=clock)
    log.record("acme", "q1", [(URI, 0.9)])
    log.record("acme", "q2", [(URI, 0.8)])
    assert _written(backend) == 0
    log.record("acme", "q3", [(URI, 0.7)])
    assert _written(backend) == 3  # a full batch, in one transaction
    log.record("acme", "q4", [(URI, 0.6)])
    clock.now += 1.5
    log.record("acme", "q5", [(URI, 0.5)])
    assert _written(backend) == 5  # the oldest waited a second
    log.record("acme", "q6", [])  # nothing found, nothing to remember
    log.flush()
    assert _written(backend) == 5
