"""Sessions: the session rules above a backend's SessionStore, written once: who owns a
session, the id of a message sent without one, how long an error or a reason may be."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

from ogmem.core import errors
from ogmem.core.models import (
    Message,
    RequestContext,
    SessionState,
    SessionStatus,
    StoredMessage,
    as_utc,
    utcnow,
)
from ogmem.core.storage import NewMessage, SessionStore

TEXT_LIMIT = 2_000  # of a stored reason or error: enough to act on, bounded whatever happened


def default_message_id(message: Message) -> str:
    """A stable id for a message sent without one, so that a retried ingest is not doubled."""
    stamp = as_utc(message.created_at).isoformat(timespec="microseconds")
    parts = (message.role, message.name or "", stamp, message.content)
    return "m-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


class Sessions:
    def __init__(self, store: SessionStore) -> None:
        self._store = store

    def append(
        self, ctx: RequestContext, messages: Sequence[Message], tokens: Sequence[int]
    ) -> tuple[int, SessionState]:
        """Buffer messages (a message id seen before is ignored); returns (added, state).
        A session belongs to the user who opened it; another user's request is refused."""
        if not ctx.session_id:
            raise errors.InvalidInput("session_id is required to ingest messages")
        now = utcnow()
        new = [
            NewMessage(
                message_id=m.message_id or default_message_id(m), role=m.role, name=m.name,
                content=m.content, created_at=m.created_at, tokens=count,
            )
            for m, count in zip(messages, tokens, strict=True)
        ]  # fmt: skip
        # atomic in the store on its own, with no transaction around it: every turn holds
        # the store's write lock while its statements run, and under load turns queue for
        # it (stress `load`); on SQLite a one-message turn is one statement
        added, state = self._store.append(
            ctx.account_id, ctx.session_id, ctx.user_id, ctx.agent_id, new, now
        )
        if state is None:  # the session is another user's: nothing of the turn was written
            raise errors.InvalidInput(f"session {ctx.session_id} belongs to another user")
        return added, state

    def get(self, account_id: str, session_id: str) -> SessionState | None:
        return self._store.get(account_id, session_id)

    def list_sessions(
        self, account_id: str, user_id: str | None = None, limit: int = 100
    ) -> list[SessionState]:
        return self._store.list_sessions(account_id, user_id, limit)

    def totals(self, account_id: str) -> dict[str, dict[str, int]]:
        """Per session status: how many sessions, and the sums of their commit counts."""
        return self._store.totals(account_id)

    def uncommitted(
        self, account_id: str, session_id: str, max_tokens: int, limit: int, after_id: int = 0
    ) -> list[StoredMessage]:
        """The oldest uncommitted messages after ``after_id`` that fit in ``max_tokens`` (at
        least one) and ``limit``: one bounded step of a commit."""
        return self._store.uncommitted(account_id, session_id, max_tokens, limit, after_id)

    def message_before(
        self, account_id: str, session_id: str, stored_id: int
    ) -> StoredMessage | None:
        return self._store.message_before(account_id, session_id, stored_id)

    def message(self, account_id: str, session_id: str, message_id: str) -> StoredMessage | None:
        return self._store.message(account_id, session_id, message_id)

    def message_after(
        self, account_id: str, session_id: str, stored_id: int
    ) -> StoredMessage | None:
        return self._store.message_after(account_id, session_id, stored_id)

    def redact_message(
        self, account_id: str, session_id: str, message_id: str, content: str
    ) -> None:
        self._store.redact_message(account_id, session_id, message_id, content)

    def set_status(self, account_id: str, session_id: str, status: SessionStatus) -> None:
        self._store.set_status(account_id, session_id, status.value, utcnow())

    def claim_commit(
        self, account_id: str, session_id: str, owner: str, now: datetime, until: datetime
    ) -> datetime | None:
        """Take or renew the session's commit for ``owner`` until ``until``; None when taken,
        else until when another commit holds it."""
        return self._store.claim_commit(account_id, session_id, owner, now, until)

    def release_commit(self, account_id: str, session_id: str, owner: str) -> None:
        self._store.release_commit(account_id, session_id, owner)

    def record_commit(
        self,
        account_id: str,
        session_id: str,
        up_to_id: int,
        counts: dict[str, int],
        reason: str,
        *,
        final: bool = True,
    ) -> None:
        """Mark messages up to ``up_to_id`` committed and add the step's counts, atomically;
        the ``final`` step of a commit also settles the session's status."""
        self._store.record_commit(
            account_id, session_id, up_to_id, counts, reason[:TEXT_LIMIT], utcnow(), final=final
        )

    def record_failure(self, account_id: str, session_id: str, error: str, llm_tokens: int) -> None:
        self._store.record_failure(account_id, session_id, error[:TEXT_LIMIT], llm_tokens, utcnow())
