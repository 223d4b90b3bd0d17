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
from ogmem.schemas import fields as schema_fields


def _schema_limit(name: str) -> int:
    """The event schema's limit for a common field: raw texts are cut to it, never refused."""
    limits = {spec.name: spec.max_length for spec in schema_fields.COMMON_FIELDS}
    limit = limits[name]
    assert limit is not None, f"the common field {name} has no length limit"
    return limit


ABSTRACT_LIMIT = _schema_limit("abstract")
OVERVIEW_LIMIT = _schema_limit("overview")
CONTENT_LIMIT = _schema_limit("content")
CONTEXT_LIMIT = 500  # chars of the preceding message kept, its end: the part nearest the reply
SPEAKER_LIMIT = 100  # a name, not a text: keeps `who` and each transcript line's head short
# an abstract reads as a line in a list: whole sentences from the message's start until it has
# this many characters ("Slowly." alone says nothing), cut at a word past LEAD_LIMIT
LEAD_CHARS = 60
LEAD_LIMIT = 160
ANONYMOUS_USER = "default"  # the CLI's and MCP's user when none is named: not a name to show
DEFAULT_ROLES = ("user",)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_ELLIPSIS = "…"


def keep_start(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, keeping its beginning (marked if cut)."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + _ELLIPSIS


def keep_end(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, keeping its end (marked if cut)."""
    if len(text) <= limit:
        return text
    return _ELLIPSIS + text[-(limit - 1) :].lstrip()


def speaker(message: Message, ctx: RequestContext | None = None) -> str:
    """Who said it: the message's name, else the user (or agent) the request names for its
    role, else the role as a word ("User"): a list of "user: ..." lines tells nothing apart."""
    return keep_start(message.name or _role_speaker(message.role, ctx), SPEAKER_LIMIT)


def _role_speaker(role: str, ctx: RequestContext | None) -> str:
    if ctx is not None and role == "user" and ctx.user_id != ANONYMOUS_USER:
        return ctx.user_id
    if ctx is not None and role == "assistant" and ctx.agent_id:
        return ctx.agent_id
    return role.capitalize()


def first_sentence(text: str, limit: int = ABSTRACT_LIMIT) -> str:
    return keep_start(_SENTENCE_END.split(text.strip(), maxsplit=1)[0], limit)


def lead(text: str, limit: int = LEAD_LIMIT) -> str:
    """The message's opening for a list: whole sentences until LEAD_CHARS characters, so a
    short first sentence ("Slowly.") comes with the words that say what it is about; past
    ``limit`` cut at a word, marked."""
    taken = ""
    for sentence in _SENTENCE_END.split(text.strip()):
        taken = f"{taken} {sentence}" if taken else sentence
        if len(taken) >= LEAD_CHARS:
            break
    if len(taken) <= limit:
        return taken
    cut = taken[: limit - 1].rsplit(" ", 1)[0] if " " in taken[: limit - 1] else ""
    return (cut or taken[: limit - 1]).rstrip() + _ELLIPSIS


def in_context(content: str, preceding: Message | None, ctx: RequestContext | None = None) -> str:
    """The message after the one it follows, as a two-line transcript; empty without one.

    At most OVERVIEW_LIMIT characters: the preceding message keeps its end (up to
    CONTEXT_LIMIT characters, what the reply answers), the message its beginning (the rest).
    A message short enough to fit (nearly all) appears whole, as in ``content``.
    """
    if preceding is None or not preceding.content.strip():
        return ""
    head = f"{speaker(preceding, ctx)}: {keep_end(preceding.content.strip(), CONTEXT_LIMIT)}"
    return f"{head}\n{keep_start(content, OVERVIEW_LIMIT - len(head) - 1)}"


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
            candidates.append(memory_of(message, preceding, ctx))
        return ExtractionResult(
            candidates, proposed=len(candidates) + len(dropped), dropped=dropped
        )


def memory_of(message: Message, preceding: Message | None, ctx: RequestContext) -> CandidateMemory:
    """The raw memory of ``message`` (after ``preceding``), as a commit of ``ctx`` makes it:
    the same inputs give the same memory and so the same URI."""
    name = speaker(message, ctx)
    # the speaker's name stays in the text: questions name people ("what did Caroline...");
    # content keeps the message's beginning, up to the schema's limit
    content = keep_start(f"{name}: {message.content.strip()}", CONTENT_LIMIT)
    message_id = message.message_id or ""
    return CandidateMemory(
        category="event",
        routing_key=uri.slugify(f"{name}-{message_id}" if message_id else name),
        # its vector is the content's speaker and first sentence (index/records.py)
        abstract=f"{name}: {lead(message.content)}",
        content=content,
        overview=in_context(content, preceding, ctx),
        when=message.created_at.date().isoformat(),
        who=name,
        source_message_ids=(message_id,) if message_id else (),
        context_message_ids=(preceding.message_id,) if preceding and preceding.message_id else (),
        origin="raw",
    )
