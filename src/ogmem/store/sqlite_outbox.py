"""SqliteOutbox: the worker's side of the outbox (claim under a lease, finish, retry, DLQ)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from ogmem.core.models import EventType, OutboxEvent, utcnow
from ogmem.store import rows
from ogmem.store.sqlite import SqliteStore


class SqliteOutbox:
    """The Outbox port on the SQLite store (same file, same connection)."""

    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    def claim(
        self, worker_id: str, *, now: datetime, lease: timedelta, limit: int, eager: bool = False
    ) -> list[OutboxEvent]:
        """Take up to ``limit`` due events, and events whose lease has expired, in id order;
        ``eager`` also takes events that are only deferred (never tried), e.g. debounced."""
        with self._store.transaction() as conn:
            claimed = self._store.run(
                conn, "claim_events", worker=worker_id, limit=limit, eager=eager,
                now=rows.dump_time(now), locked_until=rows.dump_time(now + lease),
            ).fetchall()  # fmt: skip
        return sorted((rows.event_from_row(r) for r in claimed), key=lambda e: e.id or 0)

    def finish(self, events: Sequence[OutboxEvent], note: str | None = None) -> None:
        ids: dict[str, list[int]] = {}
        for event in events:
            ids.setdefault(event.account_id, []).append(event.id or 0)
        with self._store.transaction() as conn:
            for account_id, account_ids in ids.items():  # one statement per account
                self._store.run(
                    conn, "finish_events", account_id=account_id, ids=json.dumps(account_ids),
                    note=note,
                )  # fmt: skip

    def defer(self, event: OutboxEvent, available_at: datetime, note: str) -> None:
        with self._store.transaction() as conn:
            self._store.run(
                conn, "defer_event", account_id=event.account_id, id=event.id,
                available_at=rows.dump_time(available_at), note=note,
            )  # fmt: skip

    def retry(self, event: OutboxEvent, error: str, available_at: datetime) -> None:
        with self._store.transaction() as conn:
            self._store.run(
                conn, "retry_event", account_id=event.account_id, id=event.id,
                error=error, available_at=rows.dump_time(available_at),
            )  # fmt: skip

    def renew(self, worker_id: str, *, now: datetime, lease: timedelta) -> int:
        """Extend the lease of every event ``worker_id`` is processing; how many."""
        with self._store.transaction() as conn:
            cursor = self._store.run(
                conn, "renew_leases", worker=worker_id, locked_until=rows.dump_time(now + lease)
            )
            return int(cursor.rowcount)

    def dead_letter(self, event: OutboxEvent, error: str, attempts: int) -> None:
        with self._store.transaction() as conn:
            self._store.run(
                conn, "dead_letter_event", account_id=event.account_id, id=event.id,
                error=error, attempts=attempts,
            )  # fmt: skip

    def enqueue(self, events: Sequence[OutboxEvent]) -> None:
        with self._store.transaction() as conn:
            self._store.insert_events(conn, events)

    def latest_pending_event_id(self, account_id: str, uri: str, event_type: EventType) -> int:
        row = self._store.fetch_one(
            "latest_pending_event_id", account_id=account_id, uri=uri, type=event_type.value
        )
        return int(row["id"]) if row and row["id"] is not None else 0

    def absorb(
        self, account_id: str, uri: str, event_type: EventType, up_to_id: int, note: str
    ) -> int:
        """Mark pending events of the URI up to ``up_to_id`` done: a run already covered them."""
        with self._store.transaction() as conn:
            cursor = self._store.run(
                conn, "absorb_events", account_id=account_id, uri=uri, type=event_type.value,
                up_to_id=up_to_id, note=note,
            )  # fmt: skip
            return int(cursor.rowcount)

    def purge_done(self, before: datetime, limit: int) -> int:
        with self._store.transaction() as conn:
            cursor = self._store.run(
                conn, "purge_done_events", before=rows.dump_time(before), limit=limit
            )
            return int(cursor.rowcount)

    def oldest_pending_age(self, account_id: str, now: datetime | None = None) -> float | None:
        """Seconds since the oldest pending event of the account was written, or None."""
        row = self._store.fetch_one("oldest_pending_event", account_id=account_id)
        oldest = rows.load_time(row["oldest"]) if row else None
        return None if oldest is None else ((now or utcnow()) - oldest).total_seconds()

    def stats(self, account_id: str) -> dict[str, float | None]:
        counts: dict[str, float | None] = dict(self._store.outbox_counts(account_id))
        counts["oldest_pending_age_s"] = self.oldest_pending_age(account_id)
        return counts

    def account_ids(self) -> list[str]:
        found = self._store.fetch_all("account_ids", after_account_id="")
        return [row["account_id"] for row in found]
