"""API keys: a Bearer token maps to an account (and optionally one user and its agents).

The rules live here, above a backend's KeyStore: how a key is made, how it is checked, how
often its last use is written down. Only ``sha256(key)`` is stored. A slow password hash
(bcrypt, argon2) protects guessable secrets; these keys are 32 random bytes, so no dictionary
or brute force can invert their hash, and a fast hash lets a request find its key by an
indexed equality look-up instead of trying a slow hash against every row.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import timedelta

from ogmem.core.models import utcnow
from ogmem.core.storage import KeyRecord, KeyStore

KEY_PREFIX = "ogm_"
# last_used_at is informative; writing it on every request would turn each read into a write
TOUCH_INTERVAL = timedelta(minutes=1)

KeyInfo = KeyRecord


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


class Keys:
    def __init__(self, store: KeyStore) -> None:
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
        info = KeyRecord(
            key_id="key_" + secrets.token_hex(8),
            account_id=account_id,
            user_id=user_id,
            admin=admin,
            name=name,
            created_at=utcnow(),
            agents=tuple(dict.fromkeys(agents)),
        )
        self._store.insert(info, hash_key(plaintext))
        return info, plaintext

    def verify(self, plaintext: str) -> KeyInfo | None:
        """The active key with this plaintext, or None (revoked and unknown keys alike).

        No constant-time compare: the look-up is by the hash, so timing reveals nothing of the
        key itself.
        """
        if not plaintext.startswith(KEY_PREFIX):
            return None
        info = self._store.find_by_hash(hash_key(plaintext))
        if info is None:
            return None
        now = utcnow()
        if info.last_used_at is None or now - info.last_used_at > TOUCH_INTERVAL:
            self._store.touch(info.account_id, info.key_id, now)
        return info

    def list_keys(self, account_id: str | None = None) -> list[KeyInfo]:
        """The keys of an account, or of every account (the operator's view)."""
        return self._store.list_keys(account_id)

    def revoke(self, key_id: str, account_id: str | None = None) -> bool:
        """Revoke a key at once (the next request with it gets 401); False if no active key."""
        return self._store.revoke(key_id, account_id, utcnow())

    def has_active(self, account_id: str | None = None) -> bool:
        return self._store.count_active(account_id) > 0
