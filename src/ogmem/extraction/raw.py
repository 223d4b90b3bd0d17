"""RawExtractor: without an LLM, every chosen message becomes an event memory, marked raw.

The whole flow (after_turn, commit, index, search) then works offline with no key; the
memories are the messages themselves, with speaker, date and provenance kept.

A message alone is often unreadable ("Yes, twice last year!"), so each memory's overview is the
message together with the one it follows: what it answers. Indexed as its own level, that
context lets a question find the answer it names only in the preceding turn (on the LoCoMo dev
file evidence recall@10 rose from 0.582 to 0.649 and @50 from 0.789 to 0.837). Provenance
stays the message itself; the preceding message is context, not memory.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ogmem.core import uri
from ogmem.core.models import CandidateMemory, Message, RequestContext
from ogmem.extraction.base import Dropped, ExtractionResult

ABSTRACT_LIMIT = 300
CONTENT_LIMIT = 20_000
CONTEXT_LIMIT = 500  # chars of the preceding message kept, its end: the part nearest the reply
DEFAULT_ROLES = ("user",)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def first_sentence(text: str, limit: int = ABSTRACT_LIMIT) -> str:
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


def in_context(content: str, preceding: Message | None) -> str:
    """The message after the one it follows, as a two-line transcript; empty without one."""
    if preceding is None or not preceding.content.strip():
        return ""
    text = preceding.content.strip()
    if len(text) > CONTEXT_LIMIT:
        text = "…" + text[-(CONTEXT_LIMIT - 1) :].lstrip()
    return f"{preceding.name or preceding.role}: {text}\n{content}"


class RawExtractor:
    """``roles``: which messages become memories (assistant turns too, if asked)."""

    def __init__(self, roles: Sequence[str] = DEFAULT_ROLES) -> None:
        self._roles = frozenset(roles)

    def extract(
        self, messages: Sequence[Message], ctx: RequestContext, *, before: Message | None = None
    ) -> ExtractionResult:
        candidates: list[CandidateMemory] = []
        dropped: list[Dropped] = []
        previous = before
        for message in messages:
            # any role gives context: the agent's question is what the user's answer means
            preceding, previous = previous, message
            if message.role not in self._roles:
                continue
            if not message.content.strip():
                dropped.append(Dropped(f"message {message.message_id}", "empty message"))
                continue
            candidates.append(self._candidate(message, preceding))
        return ExtractionResult(
            candidates, proposed=len(candidates) + len(dropped), dropped=dropped
        )

    @staticmethod
    def _candidate(message: Message, preceding: Message | None) -> CandidateMemory:
        speaker = message.name or message.role
        # the speaker's name stays in the text: questions name people ("what did Caroline...")
        content = f"{speaker}: {message.content.strip()}"
        if len(content) > CONTENT_LIMIT:
            content = content[: CONTENT_LIMIT - 1] + "…"
        message_id = message.message_id or ""
        return CandidateMemory(
            category="event",
            routing_key=uri.slugify(f"{speaker}-{message_id}" if message_id else speaker),
            abstract=first_sentence(content),
            content=content,
            overview=in_context(content, preceding),
            when=message.created_at.date().isoformat(),
            who=speaker,
            source_message_ids=(message_id,) if message_id else (),
            origin="raw",
        )
