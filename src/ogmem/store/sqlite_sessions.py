"""The SQLite side of sessions: a turn's messages go in through the session_turn view
(migration 0019), one statement per message, so that a one-message turn is one call under
the store's write lock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ogmem.core.models import SessionState
from ogmem.core.storage import NewMessage
from ogmem.store.sql_sessions import SqlSessionStore
from ogmem.store.sqlite_db import SqliteDatabase


class SqliteSessionStore(SqlSessionStore):
    _db: SqliteDatabase  # its execute_with_triggers, beside the shared connector's queries

    def __init__(self, db: SqliteDatabase) -> None:
        super().__init__(db)

    def append(
        self,
        account_id: str,
        session_id: str,
        user_id: str,
        agent_id: str | None,
        messages: Sequence[NewMessage],
        now: datetime,
    ) -> tuple[int, SessionState | None]:
        who = {"account_id": account_id, "session_id": session_id, "user_id": user_id,
               "agent_id": agent_id, "now": now}  # fmt: skip
        params = [
            {**who, "message_id": m.message_id, "role": m.role, "name": m.name,
             "content": m.content, "created_at": m.created_at, "tokens": m.tokens}
            for m in messages
        ]  # fmt: skip
        changed = self._db.execute_with_triggers("insert_turn_message", params)
        if changed == 0:  # another user's session: the trigger wrote nothing
            return 0, None
        # each message changed the session row, and a new one its own row too
        return changed - len(messages), self.get(account_id, session_id)
