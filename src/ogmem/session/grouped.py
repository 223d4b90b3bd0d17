"""GroupedWrites: concurrent callers' small writes in one transaction.

Under load every turn queued for the store's one writer (SQLite's write lock), and each hand
over of the lock waited for a thread to wake and take the GIL back from the searches running
beside it (`make stress`, `load`). Here the first caller to find no group running leads: it
runs every write queued at that moment, each in a savepoint of one transaction, and hands
each caller its result; callers arriving meanwhile wait and go in the next group, led by the
first of them. Nobody waits for a timer: a caller alone writes at once.

A write refused for its own input (``errors.InvalidInput``: another user's session) fails
alone, its savepoint rolled back. Anything else fails the whole group, every caller gets the
error and nothing of the group is written: nothing was acknowledged, so a client's retry
(message ids make it idempotent) loses nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ogmem.core import errors
from ogmem.core.storage import UnitOfWork

T = TypeVar("T")
MAX_GROUP = 64  # writes per transaction: a bound on how long the writer is held


@dataclass
class _Pending(Generic[T]):
    work: Callable[[], T]
    ready: threading.Event = field(default_factory=threading.Event)
    result: T | None = None
    error: BaseException | None = None
    lead: bool = False  # told to run the next group instead of receiving a result


class GroupedWrites:
    def __init__(self, uow: UnitOfWork, *, max_group: int = MAX_GROUP) -> None:
        self._uow = uow
        self._max_group = max_group
        self._queue: list[_Pending[Any]] = []
        self._running = False
        self._lock = threading.Lock()
        self.groups = 0  # transactions run, for tests and figures

    def run(self, work: Callable[[], T]) -> T:
        """``work``'s result, once the transaction it ran in has committed. A caller already
        in a transaction runs its work in it, alone: grouped, it would wait for a group that
        waits for the write lock it holds, or commit others' writes with its own."""
        if self._uow.in_transaction():
            with self._uow.transaction():
                return work()
        pending: _Pending[T] = _Pending(work)
        with self._lock:
            self._queue.append(pending)
            lead = not self._running
            self._running = True
        while True:
            if lead:
                self._run_next_group()
            pending.ready.wait()
            if not pending.lead:
                break
            pending.lead, lead = False, True
            pending.ready.clear()
        if pending.error is not None:
            raise pending.error
        return pending.result  # type: ignore[return-value]  # set when error is None

    def _run_next_group(self) -> None:
        with self._lock:
            group = self._queue[: self._max_group]
            del self._queue[: self._max_group]
        try:
            with self._uow.transaction():
                for pending in group:
                    _run_one(self._uow, pending)
            self.groups += 1
        except BaseException as exc:  # the group is rolled back: every caller gets the error
            for pending in group:
                pending.error = pending.error or exc
        self._hand_over()
        for pending in group:
            pending.ready.set()

    def _hand_over(self) -> None:
        """The first caller still waiting leads the next group; none: no group runs."""
        with self._lock:
            if self._queue:
                self._queue[0].lead = True
                self._queue[0].ready.set()
            else:
                self._running = False


def _run_one(uow: UnitOfWork, pending: _Pending[Any]) -> None:
    try:
        with uow.transaction():  # a savepoint: a refused write leaves the others
            pending.result = pending.work()
    except errors.InvalidInput as exc:
        pending.error = exc
