"""The outbox as the writers and the worker see it, over a backend's OutboxStore.

The rule of which events coalesce lives here: an event marked ``coalesce`` is written only if
no untried pending event of its account, type and URI exists (that one reads the current
state when it runs, so it covers this change); of several such events in one write, only the
first is offered.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from ogmem.core import errors
from ogmem.core.models import EventStatus, EventType, OutboxEvent, utcnow
from ogmem.core.storage import NodeStore, OutboxStore


def store_events(outbox: OutboxStore, events: Sequence[OutboxEvent]) -> None:
    """Write ``events`` in the caller's transaction, coalescing ones only if needed."""
    plain = [e for e in events if not e.coalesce]
    if plain:
        outbox.insert(plain)
    first: dict[tuple[str, EventType, str], OutboxEvent] = {}
    for event in events:
        if event.coalesce:
            first.setdefault((event.account_id, event.type, event.uri), event)
    if first:
        outbox.insert_unless_pending(list(first.values()))


class OutboxManager:
    """The Outbox port (``ogmem.core.ports.Outbox``): the worker's side of the outbox."""

    def __init__(self, outbox: OutboxStore, accounts: NodeStore) -> None:
        self._outbox = outbox
        self._accounts = accounts

    def claim(
        self, worker_id: str, *, now: datetime, lease: timedelta, limit: int, eager: bool = False
    ) -> list[OutboxEvent]:
        return self._outbox.claim(worker_id, now=now, until=now + lease, limit=limit, eager=eager)

    def renew(self, worker_id: str, *, now: datetime, lease: timedelta) -> int:
        return self._outbox.renew(worker_id, now + lease)

    def finish(self, events: Sequence[OutboxEvent], note: str | None = None) -> None:
        ids: dict[str, list[int]] = {}
        for event in events:
            ids.setdefault(event.account_id, []).append(event.id or 0)
        for account_id, account_ids in ids.items():  # one statement per account
            self._outbox.finish(account_id, account_ids, note)

    def retry(self, event: OutboxEvent, error: str, available_at: datetime) -> None:
        self._outbox.retry(event, error, available_at)

    def defer(self, event: OutboxEvent, available_at: datetime, note: str) -> None:
        self._outbox.defer(event, available_at, note)

    def dead_letter(self, event: OutboxEvent, error: str, attempts: int) -> None:
        self._outbox.dead_letter(event, error, attempts)

    def requeue_dead(self, account_id: str, event_id: int) -> None:
        """An operator's retry of a dead-lettered event (its cause mended, or worth a try)."""
        if not self._outbox.requeue_dead(account_id, event_id, utcnow()):
            raise errors.NotFound(f"no dead-lettered event {event_id}")

    def enqueue(self, events: Sequence[OutboxEvent]) -> None:
        store_events(self._outbox, events)

    def latest_pending_event_id(self, account_id: str, uri: str, event_type: EventType) -> int:
        return self._outbox.latest_pending_id(account_id, uri, event_type.value)

    def absorb(
        self, account_id: str, uri: str, event_type: EventType, up_to_id: int, note: str
    ) -> int:
        """Mark pending events of the URI up to ``up_to_id`` done: a run already covered them."""
        return self._outbox.absorb(account_id, uri, event_type.value, up_to_id, note)

    def purge_done(self, before: datetime, limit: int) -> int:
        return self._outbox.purge_done(before, limit)

    def oldest_pending_age(self, account_id: str, now: datetime | None = None) -> float | None:
        """Seconds since the oldest pending event of the account was written, or None."""
        oldest = self._outbox.oldest_pending(account_id)
        return None if oldest is None else ((now or utcnow()) - oldest).total_seconds()

    def stats(self, account_id: str) -> dict[str, float | None]:
        counts: dict[str, float | None] = dict(self._outbox.counts(account_id))
        counts["oldest_pending_age_s"] = self.oldest_pending_age(account_id)
        return counts

    def list_events(
        self, account_id: str, status: EventStatus | None = None, limit: int = 100
    ) -> list[OutboxEvent]:
        return self._outbox.list_events(account_id, status, limit)

    def account_ids(self) -> list[str]:
        return self._accounts.account_ids()
