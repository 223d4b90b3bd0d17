"""What every extractor returns; the session committer depends on this and nothing else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ogmem.core.models import CandidateMemory, Message, RequestContext


@dataclass(frozen=True, slots=True)
class Dropped:
    """A proposal that did not become a candidate, and why (never dropped silently)."""

    what: str  # e.g. "preference/editor" or the tool name
    reason: str
    after_repair: bool = False  # still unusable after the one repair round-trip


@dataclass(frozen=True, slots=True)
class ExtractionResult:
    candidates: list[CandidateMemory]
    proposed: int = 0
    dropped: list[Dropped] = field(default_factory=list)
    llm_tokens: int = 0


class Extractor(Protocol):
    """Turns one window of messages into candidate memories.

    ``before`` is the message just before the window (already committed, or the end of the
    previous window): context for the window's first message, never a memory source itself.

    Raises ``errors.ExtractionError`` when the window cannot be extracted at all (the LLM kept
    answering garbage, timed out, ...); the session commit then fails and is retried.
    """

    def extract(
        self, messages: Sequence[Message], ctx: RequestContext, *, before: Message | None = None
    ) -> ExtractionResult: ...
