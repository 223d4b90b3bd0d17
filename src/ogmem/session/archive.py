"""The session archive: what a session said, kept searchable and bounded.

Each commit step archives the messages it just committed as PART nodes below the session
(``sessions/{id}/m{first message}``), each holding a transcript of at most PART_CHARS, and
brings the SESSION node (``sessions/{id}``) up to date: a summary of the whole conversation
(abstract/overview, by the LLM compressor from its previous summary and the new messages, or
deterministically) and counters in its metadata. No node ever holds the whole session, and no
commit rewrites what an earlier one archived: a session of any length costs bounded memory
per step, and its archive grows by new parts only.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from string import Template
from typing import Any

from ogmem.commit import events
from ogmem.core import uri
from ogmem.core.models import ContextNode, ContextType, SessionState, StoredMessage
from ogmem.core.ports import LLMClient, Store
from ogmem.llm import summary

logger = logging.getLogger(__name__)

PART_CHARS = 16_000  # a part's transcript: inside the content limit of a node (20,000)
PROMPT_CHARS = 24_000  # what the compressor sees of a step: its beginning and end
OVERVIEW_MESSAGES = 12  # a deterministic overview: the conversation's first messages


def line(stored: StoredMessage) -> str:
    message = stored.message
    stamp = message.created_at.isoformat(timespec="minutes")
    return f"[{stamp}] {message.name or message.role} ({message.role}): {message.content}"


def transcript(messages: Sequence[StoredMessage]) -> str:
    return "\n".join(line(m) for m in messages)


@dataclass(frozen=True, slots=True)
class Part:
    """A slice of the transcript: whole messages, or one piece of a message too long for a
    part (``piece`` > 0)."""

    messages: tuple[StoredMessage, ...]
    text: str
    piece: int = 0

    @property
    def name(self) -> str:
        first = f"m{self.messages[0].id:08d}"
        return f"{first}.{self.piece}" if self.piece else first


def parts(messages: Sequence[StoredMessage], limit: int = PART_CHARS) -> Iterator[Part]:
    """Consecutive messages, at most ``limit`` characters of transcript each."""
    group: list[StoredMessage] = []
    size = 0
    for stored in messages:
        text = line(stored)
        if group and size + len(text) + 1 > limit:
            yield Part(tuple(group), transcript(group))
            group, size = [], 0
        if len(text) > limit:
            for number, start in enumerate(range(0, len(text), limit), start=1):
                yield Part((stored,), text[start : start + limit], piece=number)
            continue
        group.append(stored)
        size += len(text) + 1
    if group:
        yield Part(tuple(group), transcript(group))


@functools.cache
def _template() -> Template:
    return Template(resources.files("ogmem.session").joinpath("prompts", "summary.md").read_text())


def _speakers(messages: Sequence[StoredMessage]) -> list[str]:
    return list(dict.fromkeys(m.message.name or m.message.role for m in messages))


def _span(first: str, last: str) -> str:
    return first if first == last else f"{first} to {last}"


def session_metadata(
    session: SessionState, previous: Mapping[str, Any], messages: Sequence[StoredMessage]
) -> dict[str, Any]:
    """The session node's counters, carried forward from its previous version."""
    first_day = messages[0].message.created_at.date().isoformat()
    last_day = messages[-1].message.created_at.date().isoformat()
    return {
        "session_id": session.session_id,
        "agent_id": session.agent_id,
        "messages": int(previous.get("messages", 0)) + len(messages),
        "parts": int(previous.get("parts", 0)),
        "speakers": list(dict.fromkeys([*previous.get("speakers", []), *_speakers(messages)])),
        "first_day": previous.get("first_day") or first_day,
        "last_day": last_day,
    }


def deterministic_summary(
    metadata: Mapping[str, Any], previous: ContextNode | None, messages: Sequence[StoredMessage]
) -> tuple[str, str]:
    speakers = ", ".join(metadata["speakers"])
    span = _span(metadata["first_day"], metadata["last_day"])
    abstract = f"Conversation of {span} between {speakers} ({metadata['messages']} messages)"
    if previous is not None and previous.overview.count("\n") + 1 >= OVERVIEW_MESSAGES:
        overview = previous.overview  # the opening stays the opening
    else:
        earlier = previous.overview.splitlines() if previous and previous.overview else []
        new = [f"{m.message.name or m.message.role}: {m.message.content}" for m in messages]
        overview = "\n".join([*earlier, *new][:OVERVIEW_MESSAGES])
    clipped = summary.clipped(abstract, overview)
    return clipped.abstract, clipped.overview


def _clip(text: str) -> str:
    return summary.clip(text, summary.ABSTRACT_LIMIT)


def _bounded(text: str, limit: int = PROMPT_CHARS) -> str:
    if len(text) <= limit:
        return text
    half = limit // 2
    return text[:half] + "\n[...]\n" + text[-half:]


class SessionArchiver:
    def __init__(self, store: Store, llm: LLMClient | None = None) -> None:
        self._store = store
        self._llm = llm

    def archive(self, session: SessionState, messages: Sequence[StoredMessage]) -> int:
        """Archive ``messages`` (just committed, in order): new parts, and the session node
        brought up to date. Returns the LLM tokens spent. Safe to repeat after a crash: a
        part already written with the same text is left as it is."""
        if not messages:
            return 0
        session_uri = str(uri.session_uri(session.account_id, session.user_id, session.session_id))
        written = 0
        with self._store.group_commit():
            for part in parts(messages):
                written += self._write_part(session, session_uri, part)
        return self._update_session_node(session, session_uri, messages, written)

    def _write_part(self, session: SessionState, session_uri: str, part: Part) -> int:
        part_uri = f"{session_uri}/{part.name}"
        existing = self._store.find_node(session.account_id, part_uri)
        if existing is not None and existing.content == part.text:
            return 0
        first, last = part.messages[0].message, part.messages[-1].message
        start, end = first.created_at, last.created_at
        when = start.strftime("%Y-%m-%d %H:%M")
        if end.date() != start.date():
            when += end.strftime(" to %Y-%m-%d %H:%M")
        elif end.strftime("%H:%M") != start.strftime("%H:%M"):
            when += end.strftime("-%H:%M")
        speakers = ", ".join(_speakers(part.messages))
        count = len(part.messages)
        what = f"{count} message{'s' if count > 1 else ''}" + (
            f", piece {part.piece}" if part.piece else ""
        )
        node = ContextNode(
            account_id=session.account_id,
            uri=part_uri,
            context_type=ContextType.SESSION,
            category="session",
            owner_space=f"user:{session.user_id}",
            abstract=summary.clip(
                f"Session {session.session_id}, {when}, {speakers} ({what})", 300
            ),
            content=part.text,  # no overview: it would repeat the transcript's opening
            metadata={
                "session_id": session.session_id,
                "part_of": session_uri,
                "piece": part.piece,
                "source_message_ids": [m.message.message_id for m in part.messages],
            },
        )
        self._write(node, existing, "archive-session")
        return 1

    def _update_session_node(
        self,
        session: SessionState,
        session_uri: str,
        messages: Sequence[StoredMessage],
        new_parts: int,
    ) -> int:
        previous = self._store.find_node(session.account_id, session_uri)
        metadata = session_metadata(session, previous.metadata if previous else {}, messages)
        metadata["parts"] += new_parts
        abstract, overview, method, tokens = self._summary(metadata, previous, messages)
        metadata["summary"] = method
        node = ContextNode(
            account_id=session.account_id,
            uri=session_uri,
            context_type=ContextType.SESSION,
            category="session",
            owner_space=f"user:{session.user_id}",
            abstract=abstract,
            overview=overview,
            metadata=metadata,
        )
        self._write(node, previous, "archive-session")
        return tokens

    def _write(self, node: ContextNode, existing: ContextNode | None, action: str) -> None:
        version = existing.version if existing else None
        emitted = events.upsert_events(
            node.evolve(version=(version or 0) + 1), refresh_directory=False
        )
        self._store.write_node_with_outbox(
            node.evolve(created_at=existing.created_at) if existing else node,
            emitted, expected_version=version, action=action,
        )  # fmt: skip

    def _summary(
        self,
        metadata: Mapping[str, Any],
        previous: ContextNode | None,
        messages: Sequence[StoredMessage],
    ) -> tuple[str, str, str, int]:
        if self._llm is not None:
            try:
                return self._llm_summary(previous, messages)
            except Exception as exc:  # the deterministic summary is always there
                logger.warning(
                    "session summary of %s by the LLM failed: %s", metadata["session_id"], exc
                )
        return (*deterministic_summary(metadata, previous, messages), "deterministic", 0)

    def _llm_summary(
        self, previous: ContextNode | None, messages: Sequence[StoredMessage]
    ) -> tuple[str, str, str, int]:
        assert self._llm is not None
        earlier = (
            f"{previous.abstract}\n{previous.overview}"
            if previous is not None and previous.metadata.get("summary") == "llm"
            else "(none: this is the conversation's beginning)"
        )
        prompt = _template().safe_substitute(
            summary=earlier, conversation=_bounded(transcript(messages))
        )
        answer = summary.ask(self._llm, prompt)
        return answer.abstract, answer.overview, "llm", answer.tokens
