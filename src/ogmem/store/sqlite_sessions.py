"""SqliteSessions: the message buffer of each session and the state of its commits."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ogmem.core import errors
from ogmem.core.models import (
    Message,
    RequestContext,
    SessionState,
    SessionStatus,
    StoredMessage,
    utcnow,
)
from ogmem.store import rows
from ogmem.store.sqlite_db import SqliteDatabase

COUNTS = ("proposed", "written", "skipped", "failed", "llm_tokens")


def default_message_id(message: Message) -> str:
    """A stable id for a message sent without one, so that a retried ingest is not doubled."""
    parts = (message.role, message.name or "", rows.dump_time(message.created_at), message.content)
    return "m-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def _state(row: dict[str, Any]) -> SessionState:
    return SessionState(
        account_id=row["account_id"],
        session_id=row["session_id"],
        user_id=row["user_id"],
        agent_id=row["agent_id"],
        status=SessionStatus(row["status"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        messages=row["messages"],
        uncommitted_tokens=row["uncommitted_tokens"],
        proposed=row["proposed"],
        written=row["written"],
        skipped=row["skipped"],
        failed=row["failed"],
        llm_tokens=row["llm_tokens"],
        last_reason=row["last_reason"],
        created_at=rows.load_time(row["created_at"]),  # type: ignore[arg-type]
        updated_at=rows.load_time(row["updated_at"]),  # type: ignore[arg-type]
        committed_at=rows.load_time(row["committed_at"]),
    )


def _stored(row: dict[str, Any]) -> StoredMessage:
    message = Message(
        role=row["role"],
        content=row["content"],
        created_at=rows.load_time(row["created_at"]),  # type: ignore[arg-type]
        message_id=row["message_id"],
        name=row["name"],
    )
    return StoredMessage(row["id"], message, row["tokens"], bool(row["committed"]))


class SqliteSessions:
    def __init__(self, store: SqliteDatabase) -> None:
        self._store = store

    def append(
        self, ctx: RequestContext, messages: Sequence[Message], tokens: Sequence[int]
    ) -> tuple[int, SessionState]:
        """Buffer messages (a message id seen before is ignored); returns (added, state)."""
        session_id = _session_id(ctx)
        now = rows.dump_time(utcnow())
        key = {"account_id": ctx.account_id, "session_id": session_id}
        added = added_tokens = 0
        with self._store.transaction() as conn:
            self._store.run(
                conn, "upsert_session", **key, user_id=ctx.user_id, agent_id=ctx.agent_id, now=now
            )
            owner = self._store.run(conn, "read_session", **key).fetchone()
            if owner["user_id"] != ctx.user_id:
                raise errors.InvalidInput(f"session {session_id} belongs to another user")
            for message, count in zip(messages, tokens, strict=True):
                cursor = self._store.run(
                    conn, "insert_message", **key,
                    message_id=message.message_id or default_message_id(message),
                    role=message.role, name=message.name, content=message.content,
                    created_at=rows.dump_time(message.created_at), tokens=count,
                )  # fmt: skip
                added += cursor.rowcount
                added_tokens += count if cursor.rowcount else 0
            self._store.run(
                conn, "count_appended", **key, added=added, tokens=added_tokens, now=now
            )
            state = _state(self._store.run(conn, "read_session", **key).fetchone())
        return added, state

    def get(self, account_id: str, session_id: str) -> SessionState | None:
        row = self._store.fetch_one("read_session", account_id=account_id, session_id=session_id)
        return None if row is None else _state(row)

    def list_sessions(
        self, account_id: str, user_id: str | None = None, limit: int = 100
    ) -> list[SessionState]:
        found = self._store.fetch_all(
            "list_sessions", account_id=account_id, user_id=user_id, limit=limit
        )
        return [_state(row) for row in found]

    def totals(self, account_id: str) -> dict[str, dict[str, int]]:
        """Per session status: how many sessions, and the sums of their commit counts
        (proposed, written, skipped, failed, llm_tokens)."""
        found = self._store.fetch_all("session_totals", account_id=account_id)
        return {
            row["status"]: {
                name: int(value or 0) for name, value in row.items() if name != "status"
            }
            for row in found
        }

    def uncommitted(
        self, account_id: str, session_id: str, max_tokens: int, limit: int
    ) -> list[StoredMessage]:
        """The oldest uncommitted messages that fit in ``max_tokens`` (at least one) and
        ``limit``: one bounded step of a commit."""
        found = self._store.fetch_all(
            "uncommitted_messages", account_id=account_id, session_id=session_id,
            max_tokens=max_tokens, limit=limit,
        )  # fmt: skip
        return [_stored(row) for row in found]

    def message_before(
        self, account_id: str, session_id: str, stored_id: int
    ) -> StoredMessage | None:
        """The session's message just before the stored message ``stored_id``, if any."""
        found = self._store.fetch_all(
            "message_before", account_id=account_id, session_id=session_id, before_id=stored_id
        )
        return _stored(found[0]) if found else None

    def messages(self, account_id: str, session_id: str) -> list[StoredMessage]:
        found = self._store.fetch_all(
            "session_messages", account_id=account_id, session_id=session_id
        )
        return [_stored(row) for row in found]

    def claim_commit(
        self, account_id: str, session_id: str, owner: str, now: datetime, until: datetime
    ) -> datetime | None:
        """Take or renew the session's commit for ``owner`` until ``until``; None when taken,
        else until when another commit holds it."""
        key = {"account_id": account_id, "session_id": session_id}
        with self._store.transaction() as conn:
            cursor = self._store.run(
                conn, "claim_session_commit", **key, owner=owner,
                now=rows.dump_time(now), until=rows.dump_time(until),
            )  # fmt: skip
            if cursor.rowcount:
                return None
            row = self._store.run(conn, "read_session", **key).fetchone()
        held = rows.load_time(row["commit_until"]) if row else None
        return held or now

    def release_commit(self, account_id: str, session_id: str, owner: str) -> None:
        with self._store.transaction() as conn:
            self._store.run(
                conn, "release_session_commit", account_id=account_id, session_id=session_id,
                owner=owner,
            )  # fmt: skip

    def set_status(self, account_id: str, session_id: str, status: SessionStatus) -> None:
        with self._store.transaction() as conn:
            self._store.run(
                conn, "set_session_status", account_id=account_id, session_id=session_id,
                status=status.value, now=rows.dump_time(utcnow()),
            )  # fmt: skip

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
        key = {"account_id": account_id, "session_id": session_id}
        with self._store.transaction() as conn:
            self._store.run(conn, "mark_committed", **key, up_to_id=up_to_id)
            self._store.run(
                conn, "record_commit", **key, reason=reason[:2000], now=rows.dump_time(utcnow()),
                final=final, **{name: counts.get(name, 0) for name in COUNTS},
            )  # fmt: skip

    def record_failure(self, account_id: str, session_id: str, error: str, llm_tokens: int) -> None:
        with self._store.transaction() as conn:
            self._store.run(
                conn, "record_failure", account_id=account_id, session_id=session_id,
                error=error[:2000], llm_tokens=llm_tokens, now=rows.dump_time(utcnow()),
            )  # fmt: skip


def _session_id(ctx: RequestContext) -> str:
    if not ctx.session_id:
        raise errors.InvalidInput("session_id is required to ingest messages")
    return ctx.session_id
