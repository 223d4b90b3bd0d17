"""OutboxWorker: claims outbox events under a lease and keeps the index in step with the nodes.

A claimed batch is grouped by (account, URI, kind): several events about one URI coalesce
into one sync. A failing group is retried with exponential backoff and goes to the DLQ (with
its error) after ``max_attempts``; the rest of the batch is not held up. The lease is short and
renewed by a heartbeat while the worker works (see leases.py); a worker that dies stops
renewing, so within a lease another worker takes the events over, and that unfinished claim
counts as an attempt: an event that kills its worker every time ends in the DLQ too. A batch
is finished in steps (CHUNK_URIS per embedding call), so a crash loses at most a step's work.
Notifications are hints (``wake()``), polling is the truth.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ogmem.core import errors
from ogmem.core.models import EventType, OutboxEvent, utcnow
from ogmem.core.ports import Outbox
from ogmem.index.directories import DirectorySummarizer
from ogmem.index.leases import LeaseKeeper
from ogmem.index.sync import IndexSync

logger = logging.getLogger(__name__)

# one embedding call per batch, and texts sorted by length pad less in a bigger call: 1,000
# sentences embed ~5 % faster in one call than in two of 500 (bench: ingest)
BATCH_SIZE = 1024
# URIs synced (embedded, indexed) and finished together within a batch: a crash loses at most
# one step, ~10 s of the model. 256 split a LoCoMo conversation's drain into two calls: the
# model made 284 runs of the dev file instead of 183, padded 1 % more (docs/decisions.md)
CHUNK_URIS = 1024
# short, because the heartbeat renews it every third: after a crash, another worker resumes
# within LEASE + POLL_INTERVAL_S
LEASE = timedelta(seconds=10)
MAX_ATTEMPTS = 5
BASE_BACKOFF = timedelta(seconds=2)
MAX_BACKOFF = timedelta(minutes=10)
POLL_INTERVAL_S = 1.0
LINGER_S = 0.05
# finished events are kept a while (to look into what happened), then purged: the outbox is
# a queue, not a log, and would otherwise grow by every write ever made
RETENTION = timedelta(days=7)
PURGE_EVERY = timedelta(minutes=10)
PURGE_LIMIT = 10_000  # per transaction: a big backlog is purged over several idle moments
EXPIRE_EVERY = timedelta(minutes=1)  # search hides expired memories already; this archives them
CONTEXT_EVENTS = {EventType.UPSERT_CONTEXT, EventType.ARCHIVE_CONTEXT, EventType.DELETE_CONTEXT}

Handler = Callable[[str, list[str]], object]


@dataclass
class WorkerStats:
    claimed: int = 0
    done: int = 0
    coalesced: int = 0
    retried: int = 0
    dead_lettered: int = 0
    embedded_texts: int = 0
    unchanged: int = 0
    deferred: int = 0

    def add(self, other: WorkerStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def backoff(
    attempts: int, base: timedelta = BASE_BACKOFF, cap: timedelta = MAX_BACKOFF
) -> timedelta:
    """Delay before the next try after ``attempts`` failures: base * 2^(attempts-1), capped."""
    exponent = min(max(attempts - 1, 0), 30)  # beyond 2^30 the cap has long been reached
    delay: timedelta = base * (2**exponent)
    return min(delay, cap)


Group = tuple[str, str, str]  # (account, uri, kind)


def _kind(event: OutboxEvent) -> str:
    if event.type is EventType.UPSERT_DIRECTORY:
        return "directory"
    if event.type is EventType.DREAM:
        return "dream"
    return "session" if event.type is EventType.COMMIT_SESSION else "context"


def _group(events: list[OutboxEvent]) -> dict[Group, list[OutboxEvent]]:
    groups: dict[Group, list[OutboxEvent]] = {}
    for event in events:
        groups.setdefault((event.account_id, event.uri, _kind(event)), []).append(event)
    return groups


class OutboxWorker:
    def __init__(
        self,
        outbox: Outbox,
        sync: IndexSync,
        summarizer: DirectorySummarizer,
        *,
        worker_id: str | None = None,
        batch_size: int = BATCH_SIZE,
        lease: timedelta = LEASE,
        max_attempts: int = MAX_ATTEMPTS,
        base_backoff: timedelta = BASE_BACKOFF,
        poll_interval: float = POLL_INTERVAL_S,
        linger: float = LINGER_S,
        clock: Callable[[], datetime] = utcnow,
        session_committer: Callable[[str, str, str], object] | None = None,
        retention: timedelta = RETENTION,
        expirer: Callable[[datetime], int] | None = None,
        dreamer: Callable[[OutboxEvent], object] | None = None,
        on_indexed: Callable[[str, list[str]], object] | None = None,
    ) -> None:
        self.worker_id = worker_id or f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._outbox = outbox
        self._sync = sync
        self._summarizer = summarizer
        self._batch_size = batch_size
        self._lease = lease
        self._max_attempts = max_attempts
        self._base_backoff = base_backoff
        self.poll_interval = poll_interval
        self._linger = linger
        self._session_committer = session_committer
        self._retention = retention
        self._dreamer = dreamer  # runs a DREAM event's job (ogmem.dream)
        self._on_indexed = on_indexed  # told which URIs of an account were indexed
        self._next_purge: datetime | None = None  # the first idle moment purges
        self._expirer = expirer
        self._next_expiry: datetime | None = None
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._leases = LeaseKeeper(outbox, self.worker_id, lease, clock)
        self.last_heartbeat: datetime | None = None

    # -- one batch ----------------------------------------------------------------------------

    def run_once(self, *, eager: bool = False) -> WorkerStats:
        """Claim one batch and process it; ``eager`` also takes deferred (debounced) events."""
        stats = WorkerStats()
        events = self._outbox.claim(
            self.worker_id, now=self._clock(), lease=self._lease, limit=self._batch_size,
            eager=eager,
        )  # fmt: skip
        self.last_heartbeat = self._clock()
        stats.claimed = len(events)
        if events:
            with self._leases.holding():
                self._process_batch(self._give_up_on_exhausted(events, stats), stats)
        return stats

    def _give_up_on_exhausted(
        self, events: list[OutboxEvent], stats: WorkerStats
    ) -> list[OutboxEvent]:
        """Events whose earlier claims all ended unfinished (their worker died each time) go
        to the DLQ instead of being tried once more."""
        kept = []
        for event in events:
            if event.attempts < self._max_attempts:
                kept.append(event)
                continue
            error = f"gave up after {event.attempts} attempts: {event.last_error}"[:2000]
            logger.error("event %s (%s %s) to DLQ: %s", event.id, event.type, event.uri, error)
            self._outbox.dead_letter(event, error, event.attempts)
            stats.dead_lettered += 1
        return kept

    def _process_batch(self, events: list[OutboxEvent], stats: WorkerStats) -> None:
        groups = _group(events)
        # session commits first: they write the memories that the context events then index
        for (account_id, _, kind), group in groups.items():
            if kind == "session":
                self._commit_session(account_id, group, stats)
        context = [(key, group) for key, group in groups.items() if key[2] == "context"]
        for start in range(0, len(context), CHUNK_URIS):
            self._process_context_groups(dict(context[start : start + CHUNK_URIS]), stats)
        for (account_id, directory, kind), group in groups.items():
            if kind == "directory":
                refresh = functools.partial(
                    self._refresh_directory, account_id, directory, group, stats
                )
                self._process(group, stats, refresh)
        for (_, _, kind), group in groups.items():
            if kind == "dream":  # last: it reads the memories this batch indexed
                self._process(group, stats, functools.partial(self._dream, group[-1]))

    def _dream(self, event: OutboxEvent) -> None:
        if self._dreamer is None:
            raise RuntimeError("this worker has no dreamer")
        self._dreamer(event)

    def _commit_session(
        self, account_id: str, group: list[OutboxEvent], stats: WorkerStats
    ) -> None:
        """Run the session's commit; while another commit of it runs (a commit?wait=true),
        the job waits for it, no attempt counted."""
        session_id = str(group[-1].payload.get("session_id"))
        committer = self._session_committer
        if committer is None:
            self._fail(group, RuntimeError("this worker has no session committer"), stats)
            return
        try:
            committer(account_id, session_id, self.worker_id)
        except errors.Busy as busy:
            for event in group:
                self._outbox.defer(event, busy.until, str(busy))
            stats.deferred += 1
        except Exception as exc:
            self._fail(group, exc, stats)
        else:
            self._finish(group, stats)

    def _refresh_directory(
        self, account_id: str, directory: str, group: list[OutboxEvent], stats: WorkerStats
    ) -> None:
        """One summary for every event of the directory written so far, claimed or not: any
        event with an id up to the watermark was committed before the children are read."""
        watermark = self._outbox.latest_pending_event_id(
            account_id, directory, EventType.UPSERT_DIRECTORY
        )
        self._summarizer.refresh(account_id, directory)
        note = f"absorbed by the summary run of event {group[-1].id}"
        stats.coalesced += self._outbox.absorb(
            account_id, directory, EventType.UPSERT_DIRECTORY, watermark, note
        )

    def _process_context_groups(
        self, groups: dict[Group, list[OutboxEvent]], stats: WorkerStats
    ) -> None:
        """Sync all URIs of an account in one call (one embedding batch); if that fails, sync
        them one by one so that a poison event cannot hold the others back."""
        by_account: dict[str, list[tuple[str, list[OutboxEvent]]]] = {}
        for (account_id, uri, _), group in groups.items():
            by_account.setdefault(account_id, []).append((uri, group))
        for account_id, entries in by_account.items():
            try:
                outcome = self._sync.sync(account_id, [uri for uri, _ in entries])
            except Exception as exc:
                logger.info("batch sync of %d URIs failed (%s); isolating", len(entries), exc)
                for uri, group in entries:
                    self._process(
                        group, stats, functools.partial(self._sync.sync, account_id, [uri])
                    )
                continue
            stats.embedded_texts += outcome.embedded_texts
            stats.unchanged += outcome.unchanged
            self._finish_all([group for _, group in entries], stats)
            self._indexed(account_id, [uri for uri, _ in entries])

    def _indexed(self, account_id: str, uris: list[str]) -> None:
        """Tell the listener (the dream trigger); its failure never fails the indexing."""
        if self._on_indexed is None:
            return
        try:
            self._on_indexed(account_id, uris)
        except Exception:
            logger.exception("after-index hook failed for account %s", account_id)

    def _process(
        self, group: list[OutboxEvent], stats: WorkerStats, handler: Callable[[], object]
    ) -> None:
        try:
            handler()
        except Exception as exc:
            self._fail(group, exc, stats)
        else:
            self._finish(group, stats)

    def _finish(self, group: list[OutboxEvent], stats: WorkerStats) -> None:
        self._finish_all([group], stats)

    def _finish_all(self, groups: list[list[OutboxEvent]], stats: WorkerStats) -> None:
        """Mark groups done: the newest event of each as done, the others as coalesced into it
        (two statements for the whole batch)."""
        self._outbox.finish([group[-1] for group in groups])
        for group in groups:
            if len(group) > 1:
                self._outbox.finish(group[:-1], note=f"coalesced into event {group[-1].id}")
            stats.done += 1
            stats.coalesced += len(group) - 1

    def _fail(self, group: list[OutboxEvent], exc: Exception, stats: WorkerStats) -> None:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        for event in group:
            attempts = event.attempts + 1
            if attempts >= self._max_attempts:
                logger.error("event %s (%s %s) to DLQ: %s", event.id, event.type, event.uri, error)
                self._outbox.dead_letter(event, error, attempts)
                stats.dead_lettered += 1
            else:
                delay = backoff(attempts, self._base_backoff)
                self._outbox.retry(event, error, self._clock() + delay)
                stats.retried += 1

    # -- loops --------------------------------------------------------------------------------

    def drain(self, max_batches: int | None = None) -> WorkerStats:
        """Process until nothing is left but events waiting for a retry; for tests, scripts
        and `ogmem commit --wait`. Due events go first, deferred (debounced) ones last, so a
        burst of writes costs one directory summary."""
        total = WorkerStats()
        batches = 0
        for eager in (False, True):
            while max_batches is None or batches < max_batches:
                stats = self.run_once(eager=eager)
                total.add(stats)
                batches += 1
                if stats.claimed == 0:
                    break
        return total

    def purge_finished(self) -> int:
        """Delete finished events older than the retention (one bounded transaction)."""
        purged = self._outbox.purge_done(self._clock() - self._retention, PURGE_LIMIT)
        if purged:
            logger.info("purged %d finished outbox events", purged)
        return purged

    def _housekeep(self) -> None:
        """When idle, now and then: archive expired memories, purge finished events. Never
        stops the worker."""
        now = self._clock()
        if self._expirer is not None and (self._next_expiry is None or now >= self._next_expiry):
            self._next_expiry = now + EXPIRE_EVERY
            try:
                self._expirer(now)
            except Exception:
                logger.exception("expiry sweep failed")
        if self._next_purge is not None and now < self._next_purge:
            return
        self._next_purge = now + PURGE_EVERY
        try:
            self.purge_finished()
        except Exception:
            logger.exception("outbox housekeeping failed")

    def wake(self) -> None:
        self._wake.set()

    def run(self, report: Callable[[WorkerStats], None] | None = None) -> None:
        """Loop until stop(): a batch, then sleep until woken or the poll interval passes;
        ``report`` is told of every batch that claimed something."""
        self._stop.clear()
        while not self._stop.is_set():
            try:
                stats = self.run_once()
            except Exception:  # the store may be briefly unavailable; keep the loop alive
                logger.exception("worker batch failed")
                stats = WorkerStats()
            claimed = stats.claimed
            if claimed and report is not None:
                report(stats)
            if claimed < self._batch_size:
                # idle or a partial batch: wait for more work, then linger a moment so that a
                # burst of writes is embedded in one large batch (small batches pad more)
                if claimed == 0:
                    self._housekeep()
                    self._wake.wait(self.poll_interval)
                self._wake.clear()
                self._stop.wait(self._linger)

    def start(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self.run, name="ogmem-worker", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the batch in hand, then return; unclaimed events stay for the next run."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._leases.stop()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
