"""LLM extraction that also keeps the messages: the model's typed memories, and each message as
a raw memory beside them (``RawExtractor``), so what the model left out can still be found."""

from __future__ import annotations

from collections.abc import Sequence

from ogmem.core.models import Message, RequestContext
from ogmem.extraction.base import ExtractionResult, Extractor


class WithMessages:
    """The ``Extractor`` that adds ``messages``' memories to ``memories``' (both run on each
    window). A window ``memories`` cannot extract still fails whole: an error raised by it
    passes through, and the committer's ``_refuse_unusable`` counts the model's candidates
    only, so the messages alone never mark a window committed; its retry writes both."""

    def __init__(self, memories: Extractor, messages: Extractor) -> None:
        self._memories = memories
        self._messages = messages

    def extract(
        self, messages: Sequence[Message], ctx: RequestContext, *, before: Message | None = None
    ) -> ExtractionResult:
        extracted = self._memories.extract(messages, ctx, before=before)
        kept = self._messages.extract(messages, ctx, before=before)
        return ExtractionResult(
            candidates=[*extracted.candidates, *kept.candidates],
            proposed=extracted.proposed + kept.proposed,
            dropped=[*extracted.dropped, *kept.dropped],
            llm_tokens=extracted.llm_tokens,
        )
