"""GroupedWrites: concurrent callers' small writes in one transaction.

Under load every turn queued for the store's one writer (SQLite's write lock), and each hand
over of the lock waited for a thread to wake and take the GIL back from the searches running
beside it (`make stress`, `load`). Turns arriving together now share a transaction
(ogmem.batches: the first caller leads), each in a savepoint of it.

A write refused for its own input (``errors.InvalidInput``: another user's session) fails
alone, its savepoint rolled back. Anything else fails the whole group: every caller gets the
error and nothing of the group is written. Nothing was acknowledged, so a client's retry
(message ids make it idempotent) loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ogmem.batches import Batches, Waiter
from ogmem.core import errors
from ogmem.core.storage import UnitOfWork

T = TypeVar("T")
MAX_GROUP = 64  # writes per transaction: a bound on how long the writer is held


@dataclass(kw_only=True)
class _Pending(Waiter):
    work: Callable[[], Any]
    result: Any = None


class GroupedWrites:
    def __init__(self, uow: UnitOfWork, *, max_group: int = MAX_GROUP) -> None:
        self._uow = uow
        self.batches: Batches[_Pending] = Batches(self._write_group, max_batch=max_group)
        self.groups = 0  # transactions committed, for tests and figures

    def run(self, work: Callable[[], T]) -> T:
        """``work``'s result, once the transaction it ran in has committed. A caller already
        in a transaction runs its work in it, alone: grouped, it would wait for a group that
        waits for the write lock it holds, or commit others' writes with its own."""
        if self._uow.in_transaction():
            with self._uow.transaction():
                return work()
        pending = _Pending(work=work)
        self.batches.wait_for(pending)
        result: T = pending.result
        return result

    def _write_group(self, group: list[_Pending]) -> None:
        with self._uow.transaction():
            for pending in group:
                _write_one(self._uow, pending)
        self.groups += 1


def _write_one(uow: UnitOfWork, pending: _Pending) -> None:
    try:
        with uow.transaction():  # a savepoint: a refused write leaves the others
            pending.result = pending.work()
    except errors.InvalidInput as exc:
        pending.error = exc
