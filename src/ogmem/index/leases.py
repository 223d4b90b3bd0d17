"""LeaseKeeper: a worker's heartbeat. While the worker holds claimed events, a thread renews
their lease every third of it, so the lease can be short (another worker takes over soon
after a crash) without ever expiring under a worker that is merely slow (an LLM commit, a
big embedding batch)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from ogmem.core.ports import Outbox

logger = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(
        self,
        outbox: Outbox,
        worker_id: str,
        lease: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self._outbox = outbox
        self._worker_id = worker_id
        self._lease = lease
        self._clock = clock
        self._interval = lease.total_seconds() / 3
        self._holding = 0  # batches in hand (drain() may run beside the worker thread)
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @contextmanager
    def holding(self) -> Iterator[None]:
        """Keep this worker's leases alive while the block works on its claimed events."""
        with self._guard:
            self._holding += 1
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(
                    target=self._run, name="ogmem-lease-keeper", daemon=True
                )
                self._thread.start()
        try:
            yield
        finally:
            with self._guard:
                self._holding -= 1

    def renew_now(self) -> int:
        return self._outbox.renew(self._worker_id, now=self._clock(), lease=self._lease)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            with self._guard:
                if not self._holding:
                    continue
            try:
                self.renew_now()
            except Exception:  # a store hiccup: the next beat tries again, well inside the lease
                logger.warning("renewing the leases of %s failed", self._worker_id, exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
