"""RecallLog: the recall signals searches leave (which memory came back, for which query, how
high), written in batches. One write per search would put a write transaction on the hot path
of every read; a batch costs one statement per account for up to FLUSH_EVERY searches or
FLUSH_AFTER, whichever comes first. A crash loses at most that much of these hints, never a
memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

from ogmem.core.models import utcnow
from ogmem.core.storage import IndexStore, Recall
from ogmem.retrieval.keywords import query_hash

FLUSH_EVERY = 256  # searches
FLUSH_AFTER_S = 1.0

Signal = tuple[str, str, list[tuple[str, float]], datetime]  # account, query hash, hits, when


class RecallLog:
    def __init__(
        self,
        index: IndexStore,
        *,
        flush_every: int = FLUSH_EVERY,
        flush_after_s: float = FLUSH_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._index = index
        self._flush_every = flush_every
        self._flush_after_s = flush_after_s
        self._clock = clock
        self._pending: list[Signal] = []
        self._oldest = 0.0
        self._lock = threading.Lock()

    def record(self, account_id: str, query: str, hits: Sequence[tuple[str, float]]) -> None:
        if not hits:
            return
        with self._lock:
            if not self._pending:
                self._oldest = self._clock()
            self._pending.append((account_id, query_hash(query), list(hits), utcnow()))
            due = (
                len(self._pending) >= self._flush_every
                or self._clock() - self._oldest >= self._flush_after_s
            )
        if due:
            self.flush()

    def flush(self) -> None:
        """Write what is pending: one statement per account."""
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return
        by_account: dict[str, list[Recall]] = {}
        for account_id, digest, hits, at in pending:
            by_account.setdefault(account_id, []).append((digest, hits, at))
        # a statement per account, each its own transaction: the rows are built before the
        # store's write lock is taken, and no turn waits behind a batch of other accounts
        for account_id, recalls in by_account.items():
            self._index.record_recall(account_id, recalls)
