"""Batches: concurrent callers' work done in shared batches, led by the callers themselves.

Some work costs little more for many items than for one (an embedding call, a transaction
holding the store's writer). The first caller to find no batch running leads: it processes
every item queued at that moment, its own included; callers arriving meanwhile wait and go
in the next batch, led by the first of them. Nobody waits for a timer, and no thread of its
own runs: a caller alone is served at once. Used by the query embeddings
(index/query_vectors.py) and by the turns' writes (session/grouped.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar


@dataclass(kw_only=True)
class Waiter:
    """One caller's item; subclasses add what it brings and what it gets back."""

    ready: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    lead: bool = False  # told to process the next batch instead of receiving a result


W = TypeVar("W", bound=Waiter)


class Batches(Generic[W]):
    def __init__(self, process: Callable[[list[W]], None], *, max_batch: int) -> None:
        """``process`` does a batch's work and sets each item's result (or ``error``); an
        exception it raises goes to every item of the batch."""
        self._process = process
        self._max_batch = max_batch
        self._queue: list[W] = []
        self._running = False
        self._lock = threading.Lock()

    def wait_for(self, waiter: W) -> None:
        """Queue ``waiter`` and return once a batch processed it (raising its error)."""
        with self._lock:
            self._queue.append(waiter)
            lead = not self._running
            self._running = True
        while True:
            if lead:
                self._next_batch()
            waiter.ready.wait()
            if not waiter.lead:
                break
            waiter.lead, lead = False, True
            waiter.ready.clear()
        if waiter.error is not None:
            raise waiter.error

    def queued(self) -> int:
        """Items waiting for a batch (tests)."""
        with self._lock:
            return len(self._queue)

    def _next_batch(self) -> None:
        with self._lock:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        try:
            self._process(batch)
        except BaseException as exc:  # every caller of the batch gets the error
            for waiter in batch:
                waiter.error = waiter.error or exc
        self._hand_over()
        for waiter in batch:
            waiter.ready.set()

    def _hand_over(self) -> None:
        """The first caller still waiting leads the next batch; none: no batch runs."""
        with self._lock:
            if self._queue:
                self._queue[0].lead = True
                self._queue[0].ready.set()
            else:
                self._running = False
