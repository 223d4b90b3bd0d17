"""SqlEraseStore: the EraseStore port over any SQL connector. It deletes what it is told to;
``ogmem.erase`` decides what belongs to the user."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ogmem.core.models import OutboxEvent
from ogmem.core.storage_erase import UriSpan
from ogmem.store import rows
from ogmem.store.database import Database


def _span(account_id: str, span: UriSpan) -> dict[str, Any]:
    return {"account_id": account_id, "uri": span.uri, "lower": span.lower, "upper": span.upper}


class SqlEraseStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    @contextmanager
    def scrubbing(self) -> Iterator[None]:
        with self._db.transaction():
            yield

    def delete_nodes(self, account_id: str, span: UriSpan) -> dict[str, int]:
        return {
            "history": self._db.execute("erase_node_versions", **_span(account_id, span)),
            "nodes": self._db.execute("erase_nodes", **_span(account_id, span)),
        }

    def delete_applied(self, account_id: str, span: UriSpan) -> int:
        return self._db.execute("erase_applied_ops", **_span(account_id, span))

    def delete_index(self, account_id: str, span: UriSpan) -> dict[str, int]:
        params = _span(account_id, span)
        with self._db.transaction():
            counts = {
                "index records": self._db.execute("erase_index_records", **params),
                "index tombstones": self._db.execute("erase_index_tombstones", **params),
                "recall signals": self._db.execute("erase_recall_signals", **params),
            }
            (row,) = self._db.returning("tick_index_clock", account_id=account_id)
            self._db.execute("insert_erased_tombstone", account_id=account_id, seq=row["seq"])
        return counts

    def delete_sessions(self, account_id: str, user_id: str) -> dict[str, int]:
        params = {"account_id": account_id, "user_id": user_id}
        return {
            "messages": self._db.execute("erase_session_messages", **params),
            "sessions": self._db.execute("erase_sessions", **params),
        }

    def delete_keys(self, account_id: str, user_id: str) -> int:
        return self._db.execute("erase_user_keys", account_id=account_id, user_id=user_id)

    def delete_dream_runs(self, account_id: str, user_id: str) -> int:
        return self._db.execute("erase_dream_runs", account_id=account_id, user_id=user_id)

    def events_containing(self, account_id: str, text: str) -> list[OutboxEvent]:
        found = self._db.fetch_all("events_containing", account_id=account_id, text=text)
        return [rows.event_from_row(r) for r in found]

    def delete_events(self, account_id: str, ids: Sequence[int]) -> int:
        self._db.execute_many(
            "erase_events", [{"account_id": account_id, "id": event_id} for event_id in ids]
        )
        return len(ids)
