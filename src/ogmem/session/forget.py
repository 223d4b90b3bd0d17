"""Forgetting a memory's words where sessions keep them.

A memory drawn from a conversation has copies of its source messages' text elsewhere: the
messages table, the session archive's transcript parts, the deterministic session summary
(its opening messages), and the next raw memory's overview (the message it answers). A
delete or ``forget`` replaces the source messages' text with REDACTED in each of those, so
that neither search (``include_sessions``) nor compose can return it word for word.

Kept, by choice (docs/decisions.md): the versions in a node's history (read by its URI only,
never searched), and an LLM-written session summary (a paraphrase, rewritten by the next
commit; it is left out of search by default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ogmem.commit import events
from ogmem.core import uri
from ogmem.core.models import (
    CandidateMemory,
    ContextNode,
    RequestContext,
    SessionState,
    StoredMessage,
)
from ogmem.core.ports import Store
from ogmem.extraction import raw
from ogmem.session import archive
from ogmem.session.sessions import Sessions

REDACTED = "[forgotten]"
TargetUri = Callable[[CandidateMemory, RequestContext], str]


def rewrite(store: Store, node: ContextNode, existing: ContextNode, action: str) -> None:
    """Write a new version of ``existing`` (its text changed), re-indexed by the worker."""
    changed = node.evolve(version=existing.version + 1)
    store.write_node_with_outbox(
        node,
        events.upsert_events(changed, refresh_directory=False),
        expected_version=existing.version,
        action=action,
    )


class Forgetter:
    def __init__(self, store: Store, sessions: Sessions, target_uri: TargetUri) -> None:
        self._store = store
        self._sessions = sessions
        self._target_uri = target_uri

    def redact_sources(self, node: ContextNode) -> int:
        """Redact the source messages of ``node`` (read before it was deleted or archived)
        wherever its sessions keep them; returns how many messages were redacted."""
        redacted = 0
        message_ids = [str(m) for m in node.metadata.get("source_message_ids") or ()]
        for session_id in node.metadata.get("session_ids") or ():
            session = self._sessions.get(node.account_id, str(session_id))
            if session is None:
                continue
            for message_id in message_ids:
                stored = self._sessions.message(node.account_id, session.session_id, message_id)
                if stored is None or stored.message.content == REDACTED:
                    continue
                with self._store.group_commit():
                    self._redact(session, stored)
                redacted += 1
        return redacted

    def _redact(self, session: SessionState, stored: StoredMessage) -> None:
        account_id, session_id = session.account_id, session.session_id
        gone = replace(stored, message=replace(stored.message, content=REDACTED))
        self._sessions.redact_message(
            account_id, session_id, gone.message.message_id or "", REDACTED
        )
        session_uri = str(uri.session_uri(account_id, session.user_id, session_id))
        for entry in self._store.list_children(account_id, session_uri):
            part = entry.node
            if part is not None and stored.message.message_id in (
                part.metadata.get("source_message_ids") or ()
            ):
                text = part.content.replace(archive.line(stored), archive.line(gone))
                if text == part.content:  # a piece of a long message: its text as it is cut
                    text = part.content.replace(stored.message.content, REDACTED)
                self._rewrite(part, content=text)
        summary = self._store.find_node(account_id, session_uri)
        if summary is not None and summary.metadata.get("summary") == "deterministic":
            speaker = stored.message.name or stored.message.role
            opening = f"{speaker}: {stored.message.content}"
            self._rewrite(
                summary, overview=summary.overview.replace(opening, f"{speaker}: {REDACTED}")
            )
        self._redact_context(session, stored, gone)

    def _redact_context(
        self, session: SessionState, stored: StoredMessage, gone: StoredMessage
    ) -> None:
        """The next message's raw memory shows this one as its context: show it redacted."""
        following = self._sessions.message_after(session.account_id, session.session_id, stored.id)
        if following is None:
            return
        ctx = RequestContext(
            session.account_id, session.user_id, session.agent_id, session.session_id
        )
        memory = raw.memory_of(following.message, stored.message, ctx)
        node = self._store.find_node(session.account_id, self._target_uri(memory, ctx))
        if node is not None and node.metadata.get("extraction") == "raw":
            self._rewrite(node, overview=raw.in_context(node.content, gone.message, ctx))

    def _rewrite(self, node: ContextNode, **texts: str) -> None:
        if all(getattr(node, name) == text for name, text in texts.items()):
            return
        rewrite(self._store, node.evolve(**texts), node, "redact")
