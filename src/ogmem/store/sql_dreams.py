"""SqlDreamStore: the DreamStore port over any SQL connector."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ogmem.core.storage_dreams import DreamRecord
from ogmem.store import rows
from ogmem.store.database import Database
from ogmem.store.sql_nodes import prefix_range

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _record(row: dict[str, Any]) -> DreamRecord:
    started = rows.load_time(row["started_at"])
    assert started is not None
    return DreamRecord(
        account_id=row["account_id"],
        run_id=row["run_id"],
        user_id=row["user_id"],
        trigger=row["trigger"],
        status=row["status"],
        started_at=started,
        finished_at=rows.load_time(row["finished_at"]),
        steps=rows.load_json(row["steps"]).get("steps", []),
        error=row["error"],
    )


class SqlDreamStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save_run(self, record: DreamRecord) -> None:
        self._db.execute(
            "save_dream_run", account_id=record.account_id, run_id=record.run_id,
            user_id=record.user_id, trigger=record.trigger, status=record.status,
            started_at=record.started_at, finished_at=record.finished_at,
            steps={"steps": [dict(step) for step in record.steps]}, error=record.error,
        )  # fmt: skip

    def find_run(self, account_id: str, run_id: str) -> DreamRecord | None:
        row = self._db.fetch_one("find_dream_run", account_id=account_id, run_id=run_id)
        return None if row is None else _record(row)

    def list_runs(self, account_id: str, user_id: str | None, limit: int) -> list[DreamRecord]:
        found = self._db.fetch_all(
            "list_dream_runs", account_id=account_id, user_id=user_id or "", limit=limit
        )
        return [_record(row) for row in found]

    def new_memory_counts(
        self, account_id: str, uri: str, since: datetime | None
    ) -> dict[str, int]:
        found = self._db.fetch_all(
            "count_new_memories", account_id=account_id, since=since or EPOCH,
            **prefix_range(uri),
        )  # fmt: skip
        return {row["category"]: int(row["n"]) for row in found}

    def run_totals(self, account_id: str) -> dict[str, int]:
        found = self._db.fetch_all("dream_run_totals", account_id=account_id)
        return {row["status"]: int(row["n"]) for row in found}
