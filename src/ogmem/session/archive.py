"""The session archive: one SESSION node per session with every message verbatim, and an
abstract/overview from the LLM compressor or a deterministic fallback."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from importlib import resources
from string import Template

from ogmem.core import uri
from ogmem.core.models import (
    ContextNode,
    ContextType,
    EventType,
    OutboxEvent,
    SessionState,
    StoredMessage,
)
from ogmem.core.ports import LLMClient, Store
from ogmem.llm import summary

logger = logging.getLogger(__name__)

PROMPT_CHARS = 24_000  # what the compressor sees of a long session: its beginning and end


@functools.cache
def _template() -> Template:
    return Template(resources.files("ogmem.session").joinpath("prompts", "summary.md").read_text())


def transcript(messages: Sequence[StoredMessage]) -> str:
    return "\n".join(
        f"[{m.message.created_at.isoformat(timespec='minutes')}] "
        f"{m.message.name or m.message.role} ({m.message.role}): {m.message.content}"
        for m in messages
    )


def deterministic_summary(
    session: SessionState, messages: Sequence[StoredMessage]
) -> tuple[str, str]:
    speakers = ", ".join(dict.fromkeys(m.message.name or m.message.role for m in messages))
    first, last = messages[0].message.created_at, messages[-1].message.created_at
    span = first.date().isoformat()
    if last.date() != first.date():
        span += f" to {last.date().isoformat()}"
    abstract = f"Conversation of {span} between {speakers} ({len(messages)} messages)"
    overview = "\n".join(
        f"{m.message.name or m.message.role}: {m.message.content}" for m in messages[:12]
    )
    clipped = summary.clipped(abstract, overview)
    return clipped.abstract, clipped.overview


class SessionArchiver:
    def __init__(self, store: Store, llm: LLMClient | None = None) -> None:
        self._store = store
        self._llm = llm

    def archive(
        self, session: SessionState, messages: Sequence[StoredMessage]
    ) -> tuple[ContextNode, int]:
        """Write the session node; returns it and the LLM tokens spent."""
        abstract, overview, method, tokens = self._summary(session, messages)
        node_uri = str(uri.session_uri(session.account_id, session.user_id, session.session_id))
        node = ContextNode(
            account_id=session.account_id,
            uri=node_uri,
            context_type=ContextType.SESSION,
            category="session",
            owner_space=f"user:{session.user_id}",
            abstract=abstract,
            overview=overview,
            content=transcript(messages),
            metadata={
                "session_id": session.session_id,
                "agent_id": session.agent_id,
                "messages": len(messages),
                "summary": method,
                "source_message_ids": [m.message.message_id for m in messages],
            },
        )
        existing = self._store.find_node(session.account_id, node_uri)
        version = existing.version if existing else None
        event = OutboxEvent(
            session.account_id, EventType.UPSERT_CONTEXT, node_uri, {"version": (version or 0) + 1}
        )
        stored = self._store.write_node_with_outbox(
            node.evolve(created_at=existing.created_at) if existing else node,
            [event], expected_version=version, action="archive-session",
        )  # fmt: skip
        return stored, tokens

    def _summary(
        self, session: SessionState, messages: Sequence[StoredMessage]
    ) -> tuple[str, str, str, int]:
        if self._llm is not None:
            try:
                return self._llm_summary(messages)
            except Exception as exc:  # the deterministic summary is always there
                logger.warning(
                    "session summary of %s by the LLM failed: %s", session.session_id, exc
                )
        return (*deterministic_summary(session, messages), "deterministic", 0)

    def _llm_summary(self, messages: Sequence[StoredMessage]) -> tuple[str, str, str, int]:
        assert self._llm is not None
        text = transcript(messages)
        if len(text) > PROMPT_CHARS:
            half = PROMPT_CHARS // 2
            text = text[:half] + "\n[...]\n" + text[-half:]
        answer = summary.ask(self._llm, _template().safe_substitute(conversation=text))
        return answer.abstract, answer.overview, "llm", answer.tokens
