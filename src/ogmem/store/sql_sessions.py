"""SqlSessionStore: the SessionStore port over any SQL connector, but for a turn's append, which
each dialect writes its own way (sqlite_sessions.py, postgres_sessions.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ogmem.core.models import Message, SessionState, SessionStatus, StoredMessage
from ogmem.store import rows
from ogmem.store.database import Database

COUNTS = ("proposed", "written", "skipped", "failed", "llm_tokens")


def session_state(row: dict[str, Any]) -> SessionState:
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


def _state_params(state: SessionState) -> dict[str, Any]:
    return {
        "account_id": state.account_id, "session_id": state.session_id,
        "user_id": state.user_id, "agent_id": state.agent_id, "status": state.status.value,
        "attempts": state.attempts, "last_error": state.last_error, "messages": state.messages,
        "uncommitted_tokens": state.uncommitted_tokens, "last_reason": state.last_reason,
        "created_at": state.created_at, "updated_at": state.updated_at,
        "committed_at": state.committed_at,
        **{name: getattr(state, name) for name in COUNTS},
    }  # fmt: skip


def _message_params(account_id: str, session_id: str, stored: StoredMessage) -> dict[str, Any]:
    message = stored.message
    return {
        "account_id": account_id, "session_id": session_id, "message_id": message.message_id,
        "role": message.role, "name": message.name, "content": message.content,
        "created_at": message.created_at, "tokens": stored.tokens, "committed": stored.committed,
    }  # fmt: skip


def _stored(row: dict[str, Any]) -> StoredMessage:
    message = Message(
        role=row["role"],
        content=row["content"],
        created_at=rows.load_time(row["created_at"]),  # type: ignore[arg-type]
        message_id=row["message_id"],
        name=row["name"],
    )
    return StoredMessage(row["id"], message, row["tokens"], bool(row["committed"]))


class SqlSessionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, account_id: str, session_id: str) -> SessionState | None:
        row = self._db.fetch_one("read_session", account_id=account_id, session_id=session_id)
        return None if row is None else session_state(row)

    def list_sessions(self, account_id: str, user_id: str | None, limit: int) -> list[SessionState]:
        found = self._db.fetch_all(
            "list_sessions", account_id=account_id, user_id=user_id, limit=limit
        )
        return [session_state(row) for row in found]

    def totals(self, account_id: str) -> dict[str, dict[str, int]]:
        found = self._db.fetch_all("session_totals", account_id=account_id)
        return {
            row["status"]: {
                name: int(value or 0) for name, value in row.items() if name != "status"
            }
            for row in found
        }

    def uncommitted(
        self, account_id: str, session_id: str, max_tokens: int, limit: int, after_id: int = 0
    ) -> list[StoredMessage]:
        found = self._db.fetch_all(
            "uncommitted_messages", account_id=account_id, session_id=session_id,
            max_tokens=max_tokens, limit=limit, after_id=after_id,
        )  # fmt: skip
        return [_stored(row) for row in found]

    def message_before(
        self, account_id: str, session_id: str, stored_id: int
    ) -> StoredMessage | None:
        row = self._db.fetch_one(
            "message_before", account_id=account_id, session_id=session_id, before_id=stored_id
        )
        return None if row is None else _stored(row)

    def message(self, account_id: str, session_id: str, message_id: str) -> StoredMessage | None:
        row = self._db.fetch_one(
            "read_message", account_id=account_id, session_id=session_id, message_id=message_id
        )
        return None if row is None else _stored(row)

    def message_after(
        self, account_id: str, session_id: str, stored_id: int
    ) -> StoredMessage | None:
        row = self._db.fetch_one(
            "message_after", account_id=account_id, session_id=session_id, after_id=stored_id
        )
        return None if row is None else _stored(row)

    def redact_message(
        self, account_id: str, session_id: str, message_id: str, content: str
    ) -> None:
        self._db.execute(
            "redact_message", account_id=account_id, session_id=session_id,
            message_id=message_id, content=content,
        )  # fmt: skip

    def set_status(self, account_id: str, session_id: str, status: str, now: datetime) -> None:
        self._db.execute(
            "set_session_status", account_id=account_id, session_id=session_id, status=status,
            now=now,
        )  # fmt: skip

    def claim_commit(
        self, account_id: str, session_id: str, owner: str, now: datetime, until: datetime
    ) -> datetime | None:
        key = {"account_id": account_id, "session_id": session_id}
        with self._db.transaction():
            if self._db.execute("claim_session_commit", **key, owner=owner, now=now, until=until):
                return None
            row = self._db.fetch_one("read_session", **key)
        held = rows.load_time(row["commit_until"]) if row else None
        return held or now

    def release_commit(self, account_id: str, session_id: str, owner: str) -> None:
        self._db.execute(
            "release_session_commit", account_id=account_id, session_id=session_id, owner=owner
        )

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
    ) -> None:
        key = {"account_id": account_id, "session_id": session_id}
        with self._db.transaction():
            self._db.execute("mark_committed", **key, up_to_id=up_to_id)
            self._db.execute(
                "record_commit", **key, reason=reason, now=now, final=final,
                **{name: counts.get(name, 0) for name in COUNTS},
            )  # fmt: skip

    def record_failure(
        self, account_id: str, session_id: str, error: str, llm_tokens: int, now: datetime
    ) -> None:
        self._db.execute(
            "record_failure", account_id=account_id, session_id=session_id, error=error,
            llm_tokens=llm_tokens, now=now,
        )  # fmt: skip

    # -- bulk export and import ---------------------------------------------------------------

    def account_ids(self) -> list[str]:
        found = self._db.fetch_all("session_account_ids", after_account_id="")
        return [row["account_id"] for row in found]

    def export_sessions(self, account_id: str, after: str, limit: int) -> list[SessionState]:
        found = self._db.fetch_all(
            "export_sessions", account_id=account_id, after=after, limit=limit
        )
        return [session_state(row) for row in found]

    def import_sessions(self, states: Sequence[SessionState]) -> None:
        self._db.execute_many("import_session", [_state_params(state) for state in states])

    def export_messages(
        self, account_id: str, after_id: int, limit: int
    ) -> list[tuple[str, StoredMessage]]:
        found = self._db.fetch_all(
            "export_messages", account_id=account_id, after_id=after_id, limit=limit
        )
        return [(row["session_id"], _stored(row)) for row in found]

    def messages_by_id(
        self, account_id: str, session_id: str, message_ids: Sequence[str]
    ) -> dict[str, StoredMessage]:
        found = self._db.fetch_all(
            "messages_by_id", account_id=account_id, session_id=session_id,
            message_ids=list(message_ids),
        )  # fmt: skip
        return {row["message_id"]: _stored(row) for row in found}

    def import_messages(
        self, account_id: str, messages: Sequence[tuple[str, StoredMessage]]
    ) -> None:
        # in the given order (both connectors run a batch in order): stored ids order a session
        self._db.execute_many(
            "import_message",
            [_message_params(account_id, session_id, stored) for session_id, stored in messages],
        )
