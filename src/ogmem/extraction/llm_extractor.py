"""LLMExtractor: a window of messages to candidate memories, in two LLM phases.

1. Span identification: one call finds the runs of messages worth remembering and the memory
   types they hold (JSON answer, see ``spans``).
2. Structuring: one call per span offers the ``remember_<type>`` tools of those types; each
   tool call becomes a validated candidate (see ``structuring``).

Then candidates below ``min_confidence`` and near-duplicates are dropped. Every proposal that
does not become a candidate is reported as ``Dropped`` with a reason.

Answers that cannot be used get exactly one repair round-trip (``prompts/repair.md``). After
that, an unusable span answer raises ``errors.ExtractionError``, while a span whose tool calls
are all invalid is given up with Dropped entries. A failing LLM call raises
``errors.ExtractionError`` (cause chained), so that the caller keeps the messages and retries
the whole window later.

Example::

    extractor = LLMExtractor(llm, SchemaRegistry.load(), min_confidence=0.6)
    result = extractor.extract(messages, ctx)
    result.candidates, result.dropped
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ogmem.core import errors
from ogmem.core.models import CandidateMemory, Message, RequestContext
from ogmem.core.ports import ChatMessage, LLMClient, LLMResponse, ToolCall
from ogmem.extraction import dedupe, prompting, spans, structuring
from ogmem.extraction.base import Dropped, ExtractionResult
from ogmem.llm import jsonparse
from ogmem.schemas.registry import SchemaRegistry

logger = logging.getLogger(__name__)

DEFAULT_MIN_CONFIDENCE = 0.5
# A model that answers with hundreds of spans is not reading the conversation; the cap bounds
# the number of structuring calls one window can cost.
DEFAULT_MAX_SPANS = 50
# How much of an unusable answer is shown back to the model in the repair prompt.
REPAIR_QUOTE_CHARS = 2000
SPAN_PHASE = "phase 1 (span identification)"
STRUCTURE_PHASE = "phase 2 (structuring)"


@dataclass(slots=True)
class _Run:
    """What one ``extract`` call has gathered so far."""

    candidates: list[CandidateMemory] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    proposed: int = 0
    tokens: int = 0


class LLMExtractor:
    """The ``Extractor`` that asks an LLM, in two phases (see the module docstring).

    Parameters:
        llm: the chat-completion client.
        registry: the memory types that may be proposed.
        min_confidence: candidates the model is less sure of are dropped.
        max_spans: at most this many spans of one window are structured; the rest are dropped.

    Raises:
        errors.ConfigurationError: ``min_confidence`` outside [0, 1] or ``max_spans`` below 1.
    """

    def __init__(
        self,
        llm: LLMClient,
        registry: SchemaRegistry,
        *,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        max_spans: int = DEFAULT_MAX_SPANS,
    ) -> None:
        if not 0.0 <= min_confidence <= 1.0:
            raise errors.ConfigurationError(
                f"min_confidence must be in [0, 1], not {min_confidence}"
            )
        if max_spans < 1:
            raise errors.ConfigurationError(f"max_spans must be at least 1, not {max_spans}")
        self._llm = llm
        self._registry = registry
        self._min_confidence = min_confidence
        self._max_spans = max_spans

    def extract(
        self, messages: Sequence[Message], ctx: RequestContext, *, before: Message | None = None
    ) -> ExtractionResult:
        """Candidate memories of ``messages``; raises errors.ExtractionError (see module doc).

        ``before`` (the message preceding the window) is shown to span finding as context.
        """
        run = _Run()
        window = list(messages)
        if not window:
            return ExtractionResult(candidates=[])
        for span in self._find_spans(window, run, before):
            self._structure(structuring.SpanWindow.of(span, window), ctx, run)
        candidates, duplicates = dedupe.dedupe(run.candidates)
        return ExtractionResult(
            candidates=candidates,
            proposed=run.proposed,
            dropped=[*run.dropped, *duplicates],
            llm_tokens=run.tokens,
        )

    # Phase 1 -------------------------------------------------------------------------------

    def _find_spans(
        self, window: list[Message], run: _Run, before: Message | None
    ) -> list[spans.Span]:
        schema = spans.json_schema(self._registry)
        conversation: list[ChatMessage] = [
            {"role": "user", "content": spans.prompt(window, self._registry, before)}
        ]
        response = self._complete(run, SPAN_PHASE, conversation, json_schema=schema)
        try:
            parsed = self._parse_spans(response.text, len(window))
        except errors.LLMResponseError as exc:
            problem = str(exc)
        else:
            if parsed.spans or not parsed.proposed:
                run.dropped.extend(parsed.dropped)
                return parsed.spans
            problem = _summary(parsed.dropped)
            run.dropped.extend(_superseded(parsed.dropped))
        logger.info("%s: asking for a repair: %s", SPAN_PHASE, prompting.clip(problem))
        expected = spans.expected_shape(len(window), self._registry)
        repair = _repair(conversation, response.text, problem, expected)
        response = self._complete(run, f"{SPAN_PHASE}, repair", repair, json_schema=schema)
        try:
            parsed = self._parse_spans(response.text, len(window))
        except errors.LLMResponseError as exc:
            message = f"{SPAN_PHASE}: unusable answer after one repair: {prompting.clip(str(exc))}"
            raise errors.ExtractionError(message) from exc
        run.dropped.extend(parsed.dropped)
        return parsed.spans

    def _parse_spans(self, text: str, message_count: int) -> spans.ParsedSpans:
        answer = jsonparse.extract_json_object(text)
        return spans.parse(answer, message_count, self._registry, self._max_spans)

    # Phase 2 -------------------------------------------------------------------------------

    def _structure(self, window: structuring.SpanWindow, ctx: RequestContext, run: _Run) -> None:
        tools = self._registry.tool_definitions(window.span.categories)
        conversation: list[ChatMessage] = [
            {"role": "user", "content": structuring.prompt(window, ctx, self._registry)}
        ]
        response = self._complete(run, STRUCTURE_PHASE, conversation, tools=tools)
        calls = _tool_calls(response)
        outcomes = self._build_all(calls, window, run)
        if calls and not any(isinstance(outcome, CandidateMemory) for outcome in outcomes):
            invalid = [outcome for outcome in outcomes if isinstance(outcome, Dropped)]
            run.dropped.extend(_superseded(invalid))
            logger.info("%s: %s: asking for a repair", STRUCTURE_PHASE, window.span.label)
            previous = structuring.describe_calls(calls, REPAIR_QUOTE_CHARS)
            expected = structuring.expected_shape(tools)
            repair = _repair(conversation, previous, _summary(invalid), expected)
            response = self._complete(run, f"{STRUCTURE_PHASE}, repair", repair, tools=tools)
            outcomes = self._build_all(_tool_calls(response), window, run)
        for outcome in outcomes:
            self._accept(outcome, run)

    def _build_all(
        self, calls: Sequence[ToolCall], window: structuring.SpanWindow, run: _Run
    ) -> list[CandidateMemory | Dropped]:
        run.proposed += len(calls)
        return [structuring.build(call, window, self._registry) for call in calls]

    def _accept(self, outcome: CandidateMemory | Dropped, run: _Run) -> None:
        if isinstance(outcome, Dropped):
            run.dropped.append(outcome)
        elif outcome.confidence < self._min_confidence:
            what = structuring.label(outcome.category, outcome.routing_key)
            reason = f"confidence {outcome.confidence:g} is below {self._min_confidence:g}"
            run.dropped.append(Dropped(what, reason))
        else:
            run.candidates.append(outcome)

    # The LLM -------------------------------------------------------------------------------

    def _complete(
        self,
        run: _Run,
        phase: str,
        conversation: Sequence[ChatMessage],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        json_schema: Mapping[str, Any] | None = None,
    ) -> LLMResponse:
        try:
            response = self._llm.complete(conversation, tools=tools, json_schema=json_schema)
        # Not only LLMError: a client bug or a broken adapter must not lose the messages either;
        # the caller keeps the window and retries it later.
        except Exception as exc:
            detail = prompting.clip(str(exc)) or type(exc).__name__
            raise errors.ExtractionError(f"{phase}: the LLM call failed: {detail}") from exc
        run.tokens += response.usage.total_tokens
        return response


def _tool_calls(response: LLMResponse) -> tuple[ToolCall, ...]:
    # No calls and no text means "nothing to remember"; text alone may hold calls written out.
    if response.tool_calls:
        return tuple(response.tool_calls)
    return structuring.tool_calls_from_text(response.text) if response.text.strip() else ()


def _repair(
    conversation: Sequence[ChatMessage], previous: str, problem: str, expected: str
) -> list[ChatMessage]:
    """The conversation again, the unusable answer, and one message saying what to fix."""
    shown = prompting.clip(previous, REPAIR_QUOTE_CHARS)
    request = prompting.render(
        "repair", problem=prompting.clip(problem), previous_answer=shown, expected=expected
    )
    return [
        *conversation,
        {"role": "assistant", "content": shown},
        {"role": "user", "content": request},
    ]


def _summary(dropped: Sequence[Dropped]) -> str:
    return "; ".join(f"{entry.what}: {entry.reason}" for entry in dropped[:10])


def _superseded(dropped: Sequence[Dropped]) -> list[Dropped]:
    # Kept in the result so that nothing disappears silently, marked as followed by a repair.
    return [
        Dropped(entry.what, f"{entry.reason} (a repair was requested)", after_repair=True)
        for entry in dropped
    ]
