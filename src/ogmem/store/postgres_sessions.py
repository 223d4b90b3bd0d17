"""The PostgreSQL side of sessions: a turn is one transaction, a guarded insert per message and
one statement for the session row (created for its user, or counting what the turn added)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ogmem.core.models import SessionState
from ogmem.core.storage import NewMessage
from ogmem.store.sql_sessions import SqlSessionStore, session_state


class PostgresSessionStore(SqlSessionStore):
    def append(
        self,
        account_id: str,
        session_id: str,
        user_id: str,
        agent_id: str | None,
        messages: Sequence[NewMessage],
        now: datetime,
    ) -> tuple[int, SessionState | None]:
        key = {"account_id": account_id, "session_id": session_id}
        added = added_tokens = 0
        with self._db.transaction():  # the messages and the session's counts: one change
            for message in messages:
                inserted = self._db.execute(
                    "insert_message", **key, user_id=user_id, message_id=message.message_id,
                    role=message.role, name=message.name, content=message.content,
                    created_at=message.created_at, tokens=message.tokens,
                )  # fmt: skip
                added += inserted
                added_tokens += message.tokens if inserted else 0
            found = self._db.returning(
                "append_count", **key, user_id=user_id, agent_id=agent_id, added=added,
                tokens=added_tokens, now=now,
            )  # fmt: skip
        # no row: another user's session, where the guarded inserts wrote nothing
        return added, (session_state(found[0]) if found else None)
