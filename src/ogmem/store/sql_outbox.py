"""SqlOutboxStore: the OutboxStore port over any SQL connector."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ogmem.core.models import EventStatus, OutboxEvent
from ogmem.store import rows
from ogmem.store.database import Database


class SqlOutboxStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def insert(self, events: Sequence[OutboxEvent]) -> None:
        self._db.execute_many("insert_event", [rows.event_params(e) for e in events])

    def insert_unless_pending(self, events: Sequence[OutboxEvent]) -> None:
        self._db.execute_many("insert_event_unless_pending", [rows.event_params(e) for e in events])

    def claim(
        self, worker_id: str, *, now: datetime, until: datetime, limit: int, eager: bool
    ) -> list[OutboxEvent]:
        claimed = self._db.returning(
            "claim_events", worker=worker_id, limit=limit, eager=eager, now=now,
            locked_until=until,
        )  # fmt: skip
        return sorted((rows.event_from_row(r) for r in claimed), key=lambda e: e.id or 0)

    def renew(self, worker_id: str, until: datetime) -> int:
        return self._db.execute("renew_leases", worker=worker_id, locked_until=until)

    def finish(self, account_id: str, ids: Sequence[int], note: str | None) -> None:
        self._db.execute("finish_events", account_id=account_id, ids=list(ids), note=note)

    def retry(self, event: OutboxEvent, error: str, available_at: datetime) -> None:
        self._db.execute(
            "retry_event", account_id=event.account_id, id=event.id, error=error,
            available_at=available_at,
        )  # fmt: skip

    def defer(self, event: OutboxEvent, available_at: datetime, note: str) -> None:
        self._db.execute(
            "defer_event", account_id=event.account_id, id=event.id,
            available_at=available_at, note=note,
        )  # fmt: skip

    def dead_letter(self, event: OutboxEvent, error: str, attempts: int) -> None:
        self._db.execute(
            "dead_letter_event", account_id=event.account_id, id=event.id, error=error,
            attempts=attempts,
        )  # fmt: skip

    def requeue_dead(self, account_id: str, event_id: int, available_at: datetime) -> bool:
        changed = self._db.execute(
            "requeue_dead_event", account_id=account_id, id=event_id, available_at=available_at
        )
        return changed > 0

    def latest_pending_id(self, account_id: str, uri: str, event_type: str) -> int:
        row = self._db.fetch_one(
            "latest_pending_event_id", account_id=account_id, uri=uri, type=event_type
        )
        return int(row["id"]) if row and row["id"] is not None else 0

    def absorb(self, account_id: str, uri: str, event_type: str, up_to_id: int, note: str) -> int:
        return self._db.execute(
            "absorb_events", account_id=account_id, uri=uri, type=event_type,
            up_to_id=up_to_id, note=note,
        )  # fmt: skip

    def purge_done(self, before: datetime, limit: int) -> int:
        return self._db.execute("purge_done_events", before=before, limit=limit)

    def export_events(self, account_id: str, after_id: int, limit: int) -> list[OutboxEvent]:
        found = self._db.fetch_all(
            "export_events", account_id=account_id, after_id=after_id, limit=limit
        )
        return [rows.event_from_row(r) for r in found]

    def has_event(self, event: OutboxEvent) -> bool:
        found = self._db.fetch_one(
            "event_exists", account_id=event.account_id, type=event.type.value, uri=event.uri,
            created_at=event.created_at,
        )  # fmt: skip
        return found is not None

    def import_event(self, event: OutboxEvent) -> bool:
        # a claim does not travel: its worker serves the other store
        status = EventStatus.PENDING if event.status is EventStatus.PROCESSING else event.status
        inserted = self._db.execute(
            "import_event", **rows.event_params(event), status=status.value,
            attempts=event.attempts, last_error=event.last_error,
        )  # fmt: skip
        return inserted == 1

    def oldest_pending(self, account_id: str) -> datetime | None:
        row = self._db.fetch_one("oldest_pending_event", account_id=account_id)
        return rows.load_time(row["oldest"]) if row else None

    def counts(self, account_id: str) -> dict[str, int]:
        found = self._db.fetch_all("outbox_counts", account_id=account_id)
        counts = {status.value: 0 for status in EventStatus}
        counts.update({r["status"]: int(r["n"]) for r in found})
        return counts

    def list_events(
        self, account_id: str, status: EventStatus | None, limit: int
    ) -> list[OutboxEvent]:
        if status is None:
            found = self._db.fetch_all("list_events", account_id=account_id, limit=limit)
        else:
            found = self._db.fetch_all(
                "list_events_by_status", account_id=account_id, status=status.value, limit=limit
            )
        return [rows.event_from_row(r) for r in found]
