"""RawExtractor: without an LLM, every chosen message becomes an event memory, marked raw.

The whole flow (after_turn, commit, index, search) then works offline with no key; the
memories are the messages themselves, with speaker, date and provenance kept.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ogmem.core import uri
from ogmem.core.models import CandidateMemory, Message, RequestContext
from ogmem.extraction.base import Dropped, ExtractionResult

ABSTRACT_LIMIT = 300
CONTENT_LIMIT = 20_000
DEFAULT_ROLES = ("user",)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def first_sentence(text: str, limit: int = ABSTRACT_LIMIT) -> str:
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


class RawExtractor:
    """``roles``: which messages become memories (assistant turns too, if asked)."""

    def __init__(self, roles: Sequence[str] = DEFAULT_ROLES) -> None:
        self._roles = frozenset(roles)

    def extract(self, messages: Sequence[Message], ctx: RequestContext) -> ExtractionResult:
        candidates: list[CandidateMemory] = []
        dropped: list[Dropped] = []
        for message in messages:
            if message.role not in self._roles:
                continue
            if not message.content.strip():
                dropped.append(Dropped(f"message {message.message_id}", "empty message"))
                continue
            candidates.append(self._candidate(message))
        return ExtractionResult(
            candidates, proposed=len(candidates) + len(dropped), dropped=dropped
        )

    @staticmethod
    def _candidate(message: Message) -> CandidateMemory:
        speaker = message.name or message.role
        # the speaker's name stays in the text: questions name people ("what did Caroline...")
        content = f"{speaker}: {message.content.strip()}"
        if len(content) > CONTENT_LIMIT:
            content = content[: CONTENT_LIMIT - 1] + "…"
        message_id = message.message_id or ""
        return CandidateMemory(
            category="event",
            routing_key=uri.slugify(f"{speaker}-{message_id}" if message_id else speaker),
            abstract=first_sentence(f"{speaker}: {message.content.strip()}"),
            content=content,
            when=message.created_at.date().isoformat(),
            who=speaker,
            source_message_ids=(message_id,) if message_id else (),
            origin="raw",
        )
