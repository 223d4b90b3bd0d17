"""The storage ports of sessions and API keys (see ``ogmem.core.storage``, which bundles them
into the Backend and re-exports them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ogmem.core.models import SessionState, StoredMessage


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to buffer, with what the rules above decided: its id and token count."""

    message_id: str
    role: str
    name: str | None
    content: str
    created_at: datetime
    tokens: int


class SessionStore(Protocol):
    """Rows of sessions and their buffered messages."""

    def append(
        self,
        account_id: str,
        session_id: str,
        user_id: str,
        agent_id: str | None,
        messages: Sequence[NewMessage],
        now: datetime,
    ) -> tuple[int, SessionState | None]:
        """Buffer the messages (one or more) whose id is new to the session, the session
        created for ``user_id`` if it is new; (how many, the state after). A session of
        another user takes nothing and gives None. Atomic on its own: the messages and the
        session's counts are one change (the caller's unit of work, if one is open)."""
        ...

    def get(self, account_id: str, session_id: str) -> SessionState | None: ...

    def list_sessions(
        self, account_id: str, user_id: str | None, limit: int
    ) -> list[SessionState]: ...

    def totals(self, account_id: str) -> dict[str, dict[str, int]]: ...

    def uncommitted(
        self, account_id: str, session_id: str, max_tokens: int, limit: int, after_id: int = 0
    ) -> list[StoredMessage]: ...

    def message_before(
        self, account_id: str, session_id: str, stored_id: int
    ) -> StoredMessage | None: ...

    def message(
        self, account_id: str, session_id: str, message_id: str
    ) -> StoredMessage | None: ...

    def message_after(
        self, account_id: str, session_id: str, stored_id: int
    ) -> StoredMessage | None: ...

    def redact_message(
        self, account_id: str, session_id: str, message_id: str, content: str
    ) -> None:
        """Replace a message's text (a forgotten memory's source), keeping its place."""
        ...

    def set_status(self, account_id: str, session_id: str, status: str, now: datetime) -> None: ...

    def claim_commit(
        self, account_id: str, session_id: str, owner: str, now: datetime, until: datetime
    ) -> datetime | None:
        """None when ``owner`` now holds the session's commit, else until when another does."""
        ...

    def release_commit(self, account_id: str, session_id: str, owner: str) -> None: ...

    def record_commit(
        self,
        account_id: str,
        session_id: str,
        up_to_id: int,
        counts: dict[str, int],
        reason: str,
        now: datetime,
        *,
        final: bool,
    ) -> None: ...

    def record_failure(
        self, account_id: str, session_id: str, error: str, llm_tokens: int, now: datetime
    ) -> None: ...

    # -- bulk export and import (``ogmem copy``) ------------------------------------------

    def account_ids(self) -> list[str]:
        """Every account with sessions (spans accounts, like NodeStore.account_ids)."""
        ...

    def export_sessions(self, account_id: str, after: str, limit: int) -> list[SessionState]:
        """The account's sessions with an id after ``after``, by id."""
        ...

    def import_sessions(self, states: Sequence[SessionState]) -> None:
        """Store sessions as they are (no commit claim); an existing id is left alone."""
        ...

    def export_messages(
        self, account_id: str, after_id: int, limit: int
    ) -> list[tuple[str, StoredMessage]]:
        """(session id, message) of the account's messages stored after ``after_id``, in the
        order they were stored."""
        ...

    def messages_by_id(
        self, account_id: str, session_id: str, message_ids: Sequence[str]
    ) -> dict[str, StoredMessage]:
        """The session's messages among ``message_ids``, by message id."""
        ...

    def import_messages(
        self, account_id: str, messages: Sequence[tuple[str, StoredMessage]]
    ) -> None:
        """Buffer (session id, message) pairs in this order, committed or not as given, without
        touching the sessions' counters; a message id the session has is left alone."""
        ...


@dataclass(frozen=True, slots=True)
class KeyRecord:
    key_id: str
    account_id: str
    user_id: str | None
    admin: bool
    name: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    agents: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class KeyStore(Protocol):
    """Rows of API keys: only their hashes."""

    def insert(self, key: KeyRecord, key_hash: str) -> None: ...

    def find_by_hash(self, key_hash: str) -> KeyRecord | None:
        """The active key with this hash (the one look-up that spans accounts)."""
        ...

    def touch(self, account_id: str, key_id: str, now: datetime) -> None: ...

    def list_keys(self, account_id: str | None) -> list[KeyRecord]: ...

    def revoke(self, key_id: str, account_id: str | None, now: datetime) -> bool: ...

    def count_active(self, account_id: str | None) -> int: ...

    def export_keys(self) -> list[tuple[KeyRecord, str]]:
        """Every key of every account with its hash (``ogmem copy``)."""
        ...

    def import_key(self, key: KeyRecord, key_hash: str) -> None:
        """Store a key as it is (revoked, last used); an existing id or hash is left alone."""
        ...
