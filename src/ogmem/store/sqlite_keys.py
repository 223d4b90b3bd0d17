"""SqliteKeys: API keys that map a Bearer token to an account (and optionally one user).

Only ``sha256(key)`` is stored. A slow password hash (bcrypt, argon2) protects guessable
secrets; these keys are 32 random bytes, so no dictionary or brute force can invert their hash
and a fast hash loses nothing, while it lets a request find its key by an indexed equality
lookup instead of trying a slow hash against every row.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ogmem.core.models import utcnow
from ogmem.store import rows
from ogmem.store.sqlite_db import SqliteDatabase

KEY_PREFIX = "ogm_"
# last_used_at is informative; writing it on every request would turn each read into a write
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key_id: str
    account_id: str
    user_id: str | None
    admin: bool
    name: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    agents: tuple[str, ...] = ()  # of a user-bound key: the agents it may act with

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _info(row: dict[str, Any]) -> KeyInfo:
    created = rows.load_time(row["created_at"])
    assert created is not None
    return KeyInfo(
        key_id=row["key_id"],
        account_id=row["account_id"],
        user_id=row["user_id"],
        admin=bool(row["admin"]),
        name=row["name"],
        created_at=created,
        revoked_at=rows.load_time(row["revoked_at"]),
        last_used_at=rows.load_time(row["last_used_at"]),
        agents=tuple(json.loads(row["agents"] or "[]")),
    )


class SqliteKeys:
    def __init__(self, store: SqliteDatabase) -> None:
        self._store = store

    def create(
        self,
        account_id: str,
        user_id: str | None = None,
        admin: bool = False,
        name: str = "",
        agents: Sequence[str] = (),
    ) -> tuple[KeyInfo, str]:
        """A new key; the plaintext is returned here once and never stored. ``agents``: the
        agents a user-bound key may act with (an account key acts with any)."""
        plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
        info = KeyInfo(
            key_id="key_" + secrets.token_hex(8),
            account_id=account_id,
            user_id=user_id,
            admin=admin,
            name=name,
            created_at=utcnow(),
            agents=tuple(dict.fromkeys(agents)),
        )
        with self._store.transaction() as conn:
            self._store.run(
                conn, "insert_api_key", key_id=info.key_id, account_id=account_id,
                user_id=user_id, admin=int(admin), name=name, key_hash=hash_key(plaintext),
                created_at=rows.dump_time(info.created_at), agents=json.dumps(info.agents),
            )  # fmt: skip
        return info, plaintext

    def verify(self, plaintext: str) -> KeyInfo | None:
        """The active key with this plaintext, or None (revoked and unknown keys alike).

        No constant-time compare: the lookup is by the hash, so timing reveals nothing of the
        key itself.
        """
        if not plaintext.startswith(KEY_PREFIX):
            return None
        row = self._store.fetch_one("find_api_key_by_hash", key_hash=hash_key(plaintext))
        if row is None:
            return None
        info = _info(row)
        now = utcnow()
        if info.last_used_at is None or now - info.last_used_at > TOUCH_INTERVAL:
            with self._store.transaction() as conn:
                self._store.run(
                    conn, "touch_api_key", account_id=info.account_id, key_id=info.key_id,
                    now=rows.dump_time(now),
                )  # fmt: skip
        return info

    def list_keys(self, account_id: str | None = None) -> list[KeyInfo]:
        """The keys of an account, or of every account (the operator's view)."""
        return [_info(r) for r in self._store.fetch_all("list_api_keys", account_id=account_id)]

    def revoke(self, key_id: str, account_id: str | None = None) -> bool:
        """Revoke a key at once (the next request with it gets 401); False if no active key."""
        with self._store.transaction() as conn:
            cursor = self._store.run(
                conn, "revoke_api_key", key_id=key_id, account_id=account_id,
                now=rows.dump_time(utcnow()),
            )  # fmt: skip
            return cursor.rowcount > 0

    def has_active(self, account_id: str | None = None) -> bool:
        row = self._store.fetch_one("count_active_api_keys", account_id=account_id)
        return bool(row and row["n"])
