"""SqlKeyStore: the KeyStore port over any SQL connector (hashes only, never a key)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ogmem.core.storage import KeyRecord
from ogmem.store import rows
from ogmem.store.database import Database


def _record(row: dict[str, Any]) -> KeyRecord:
    created = rows.load_time(row["created_at"])
    assert created is not None
    return KeyRecord(
        key_id=row["key_id"],
        account_id=row["account_id"],
        user_id=row["user_id"],
        admin=bool(row["admin"]),
        name=row["name"],
        created_at=created,
        revoked_at=rows.load_time(row["revoked_at"]),
        last_used_at=rows.load_time(row["last_used_at"]),
        agents=tuple(rows.load_list(row["agents"])),
    )


class SqlKeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def insert(self, key: KeyRecord, key_hash: str) -> None:
        self._db.execute(
            "insert_api_key", key_id=key.key_id, account_id=key.account_id,
            user_id=key.user_id, admin=key.admin, name=key.name, key_hash=key_hash,
            created_at=key.created_at, agents=list(key.agents),
        )  # fmt: skip

    def find_by_hash(self, key_hash: str) -> KeyRecord | None:
        row = self._db.fetch_one("find_api_key_by_hash", key_hash=key_hash)
        return None if row is None else _record(row)

    def touch(self, account_id: str, key_id: str, now: datetime) -> None:
        self._db.execute("touch_api_key", account_id=account_id, key_id=key_id, now=now)

    def list_keys(self, account_id: str | None) -> list[KeyRecord]:
        return [_record(r) for r in self._db.fetch_all("list_api_keys", account_id=account_id)]

    def revoke(self, key_id: str, account_id: str | None, now: datetime) -> bool:
        return self._db.execute("revoke_api_key", key_id=key_id, account_id=account_id, now=now) > 0

    def count_active(self, account_id: str | None) -> int:
        row = self._db.fetch_one("count_active_api_keys", account_id=account_id)
        return int(row["n"]) if row else 0

    def export_keys(self) -> list[tuple[KeyRecord, str]]:
        found = self._db.fetch_all("list_api_keys", account_id=None)
        return [(_record(row), row["key_hash"]) for row in found]

    def import_key(self, key: KeyRecord, key_hash: str) -> None:
        self._db.execute(
            "import_api_key", key_id=key.key_id, account_id=key.account_id,
            user_id=key.user_id, admin=key.admin, name=key.name, key_hash=key_hash,
            created_at=key.created_at, revoked_at=key.revoked_at,
            last_used_at=key.last_used_at, agents=list(key.agents),
        )  # fmt: skip
