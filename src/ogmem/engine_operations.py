"""What the Engine offers an operator and the edges that run it: the store's description and
figures, the worker's lifecycle, the outbox (drain, repair, re-index, dead letters) and
readiness. A base of Engine, apart from the memory and session calls users make."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ogmem.core import errors
from ogmem.core.models import EventStatus, OutboxEvent, RequestContext
from ogmem.core.storage import Backend
from ogmem.index import repair as repair_module
from ogmem.index.worker import OutboxWorker, WorkerStats

if TYPE_CHECKING:
    from ogmem.core.storage import IndexStore
    from ogmem.index.sync import IndexSync
    from ogmem.nodes import Nodes
    from ogmem.outbox import OutboxManager
    from ogmem.retrieval.recall import RecallLog
    from ogmem.session.sessions import Sessions


@dataclass(frozen=True, slots=True)
class EngineStats:
    """What an operator watches, summed over every account (``/metrics``)."""

    outbox: dict[str, int]
    oldest_pending_age_s: float
    sessions: dict[str, int]
    outcomes: dict[str, int]
    llm_tokens: int


class EngineOperations:
    backend: Backend
    worker: OutboxWorker
    store: Nodes
    index: IndexStore
    outbox: OutboxManager
    sync: IndexSync
    _sessions: Sessions
    recall: RecallLog
    _stop_listening: Callable[[], None] | None

    def flush(self) -> None:
        """Write what searches left buffered (their recall signals; a batch a second)."""
        self.recall.flush()

    def describe_store(self) -> str:
        """Where the data lives (a path, or a database URL without its password)."""
        return self.backend.uow.describe()

    def stats(self) -> EngineStats:
        """Outbox and session figures summed over every account (the operator's view)."""
        outbox = dict.fromkeys((s.value for s in EventStatus), 0)
        sessions: dict[str, int] = {}
        outcomes = dict.fromkeys(("proposed", "written", "skipped", "failed"), 0)
        ages: list[float] = []
        spent = 0
        for account in self.outbox.account_ids():
            for status, count in self.backend.outbox.counts(account).items():
                outbox[status] = outbox.get(status, 0) + count
            age = self.outbox.oldest_pending_age(account)
            if age is not None:
                ages.append(age)
            for status, sums in self._sessions.totals(account).items():
                sessions[status] = sessions.get(status, 0) + sums["sessions"]
                for outcome in outcomes:
                    outcomes[outcome] += sums[outcome]
                spent += sums["llm_tokens"]
        return EngineStats(outbox, max(ages, default=0.0), sessions, outcomes, spent)

    def start_worker(self) -> None:
        """Index (and commit sessions) in a background thread of this process."""
        self.worker.start()
        if self._stop_listening is None:
            self._stop_listening = self._listen()

    def stop_worker(self) -> None:
        """Let the worker finish its batch and stop."""
        if self._stop_listening is not None:
            self._stop_listening()
            self._stop_listening = None
        self.worker.stop()

    def run_worker(
        self,
        report: Callable[[WorkerStats], None] | None = None,
        *,
        poll_interval: float | None = None,
    ) -> None:
        """Run the worker in this thread until ``stop_worker()`` (``ogmem worker``); it
        polls every ``poll_interval`` seconds when idle, and wakes at once when the backend
        tells of new events."""
        if poll_interval is not None:
            self.worker.poll_interval = poll_interval
        stop_listening = self._listen()
        try:
            self.worker.run(report)
        finally:
            if stop_listening is not None:
                stop_listening()

    def _listen(self) -> Callable[[], None] | None:
        """Wake the worker when the backend tells of new events (PostgreSQL's NOTIFY); the
        stop function, or None when the backend has no such signal (polling does)."""
        if self.backend.wake_on_events is None:
            return None
        return self.backend.wake_on_events(self.worker.wake)

    @property
    def worker_alive(self) -> bool:
        return self.worker.alive

    @property
    def worker_id(self) -> str:
        return self.worker.worker_id

    def ready(self) -> dict[str, str]:
        """Readiness checks: ``store`` is "ok" when it answers and can take writes (else the
        error), ``worker`` "ok" or "stopped"."""
        checks = {"store": "ok", "worker": "ok" if self.worker.alive else "stopped"}
        try:
            self.store.check_writable()
        except errors.OgmemError as exc:
            checks["store"] = f"error: {exc}"
        return checks

    # -- background work ----------------------------------------------------------------------

    def drain(self) -> WorkerStats:
        """Process every due outbox event now, in this thread."""
        return self.worker.drain()

    def repair(self, account_id: str | None = None) -> repair_module.RepairReport:
        return repair_module.repair(self.outbox, self.index, self._accounts(account_id))

    def reindex(
        self, account_id: str | None = None, progress: Callable[[int, int], None] | None = None
    ) -> int:
        return repair_module.reindex(self.store, self.sync, self._accounts(account_id), progress)

    def outbox_events(
        self, ctx: RequestContext, status: EventStatus | None = None, limit: int = 100
    ) -> list[OutboxEvent]:
        return self.outbox.list_events(ctx.account_id, status, limit)

    def retry_event(self, event_id: int, ctx: RequestContext) -> None:
        """Put a dead-lettered event of the account back in the queue, its attempts reset."""
        self.outbox.requeue_dead(ctx.account_id, event_id)
        self.worker.wake()

    def outbox_stats(self, ctx: RequestContext) -> dict[str, float | None]:
        return self.outbox.stats(ctx.account_id)

    def searches_per_day(self, ctx: RequestContext, since: datetime) -> dict[str, int]:
        """The account's searches that found anything, per UTC day ("YYYY-MM-DD")."""
        self.flush()  # the last second's searches are still buffered
        return self.index.searches_per_day(ctx.account_id, since)

    def _accounts(self, account_id: str | None) -> list[str]:
        return [account_id] if account_id else self.outbox.account_ids()
