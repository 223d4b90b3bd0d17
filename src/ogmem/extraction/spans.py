"""Phase 1 of extraction: which runs of messages hold something worth remembering, and of what type.

The model answers ``{"spans": [{"start": i, "end": j, "reason": "...", "categories": [...]}]}``.
``parse`` turns the answer into ``Span`` values: a wrong overall shape raises
``errors.LLMResponseError`` (the caller asks for a repair); a single bad span, or an unknown
category, becomes a ``Dropped`` entry so that the rest of the answer is still used.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ogmem.core import errors
from ogmem.core.models import Message
from ogmem.extraction import prompting
from ogmem.extraction.base import Dropped
from ogmem.schemas.registry import TOOL_PREFIX, SchemaRegistry

# The span finder only needs to see what a message is about; the structuring call sees spans
# in full. Capping here keeps one pasted log from filling the whole context window.
MESSAGE_CHARS = 2000
EXAMPLE = {"spans": [{"start": 0, "end": 2, "reason": "why", "categories": ["preference"]}]}


@dataclass(frozen=True, slots=True)
class Span:
    """Messages ``start``..``end`` (inclusive indices into the window) and their memory types."""

    start: int
    end: int
    categories: tuple[str, ...]
    reason: str = ""

    @property
    def label(self) -> str:
        return f"span {self.start}-{self.end}"


@dataclass(slots=True)
class ParsedSpans:
    spans: list[Span] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    proposed: int = 0  # entries in the answer, usable or not


def json_schema(registry: SchemaRegistry) -> dict[str, Any]:
    """The JSON schema of the answer (sent as the response format)."""
    span = {
        "type": "object",
        "properties": {
            "start": {"type": "integer", "minimum": 0},
            "end": {"type": "integer", "minimum": 0},
            "reason": {"type": "string"},
            "categories": {"type": "array", "items": {"type": "string", "enum": registry.names()}},
        },
        "required": ["start", "end", "reason", "categories"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {"spans": {"type": "array", "items": span}},
        "required": ["spans"],
        "additionalProperties": False,
    }


def prompt(
    messages: Sequence[Message], registry: SchemaRegistry, before: Message | None = None
) -> str:
    """``before``: the message preceding the window, shown as context only (label "before")."""
    lines = [(str(index), message) for index, message in enumerate(messages)]
    if before is not None:
        lines.insert(0, ("before", before))
    return prompting.render(
        "spans",
        categories=_category_list(registry),
        last_index=len(messages) - 1,
        transcript=prompting.transcript(lines, MESSAGE_CHARS),
    )


def expected_shape(message_count: int, registry: SchemaRegistry) -> str:
    """What a correct answer looks like, for the repair prompt."""
    return (
        f"A JSON object, nothing else: {json.dumps(EXAMPLE)}\n"
        f"- start and end are message indices from 0 to {message_count - 1}, start <= end;\n"
        f"- categories are among: {', '.join(registry.names())};\n"
        '- answer {"spans": []} when nothing is worth remembering.'
    )


def parse(
    answer: Mapping[str, Any], message_count: int, registry: SchemaRegistry, max_spans: int
) -> ParsedSpans:
    """The usable spans of an answer, and a Dropped entry for everything else in it.

    Raises:
        errors.LLMResponseError: the answer has no ``spans`` list.
    """
    entries = answer.get("spans")
    if not isinstance(entries, list):
        found = "missing" if entries is None else f"a {type(entries).__name__}"
        raise errors.LLMResponseError(f'"spans" must be a list of objects, but it is {found}')
    parsed = ParsedSpans(proposed=len(entries))
    merged: dict[tuple[int, int], Span] = {}
    for number, entry in enumerate(entries):
        span = _span(entry, number, message_count, registry, parsed.dropped)
        if span is not None:
            merged[(span.start, span.end)] = _union(merged.get((span.start, span.end)), span)
    spans = sorted(merged.values(), key=lambda span: (span.start, span.end))
    parsed.spans = spans[:max_spans]
    for span in spans[max_spans:]:
        parsed.dropped.append(Dropped(span.label, f"more than {max_spans} spans in one window"))
    return parsed


def _span(
    entry: object,
    number: int,
    message_count: int,
    registry: SchemaRegistry,
    dropped: list[Dropped],
) -> Span | None:
    if not isinstance(entry, Mapping):
        dropped.append(Dropped(f"span #{number}", f"is not an object: {prompting.quoted(entry)}"))
        return None
    start = _index(entry.get("start"))
    # A one-message span is sometimes given with its start only.
    end = start if "end" not in entry else _index(entry.get("end"))
    if start is None or end is None:
        reason = f"start and end must be message indices, not {prompting.quoted(entry)}"
        dropped.append(Dropped(f"span #{number}", reason))
        return None
    label = f"span {start}-{end}"
    problem = _range_problem(start, end, message_count)
    if problem is not None:
        dropped.append(Dropped(label, problem))
        return None
    categories = _categories(entry.get("categories"), label, registry, dropped)
    if not categories:
        dropped.append(Dropped(label, "no known memory category"))
        return None
    why = entry.get("reason")
    return Span(start, end, categories, prompting.clip(why.strip()) if isinstance(why, str) else "")


def _index(value: object) -> int | None:
    # JSON from a model may spell an index as 3.0 or "3"; anything else is not an index.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit() and len(value) < 10:
        return int(value)
    return None


def _range_problem(start: int, end: int, message_count: int) -> str | None:
    if start > end:
        return f"start {start} is after end {end}"
    if start < 0 or end >= message_count:
        return f"messages {start}-{end} are outside the window 0-{message_count - 1}"
    return None


def _categories(
    raw: object, label: str, registry: SchemaRegistry, dropped: list[Dropped]
) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        dropped.append(Dropped(label, f"categories must be a list, not {prompting.quoted(raw)}"))
        return ()
    known: dict[str, None] = {}
    for item in raw:
        name = _category_name(item)
        if name in registry:
            known.setdefault(name, None)
        else:
            reason = f"unknown memory category; known: {', '.join(registry.names())}"
            dropped.append(
                Dropped(prompting.clip(f"{label} category {prompting.quoted(item)}", 120), reason)
            )
    return tuple(known)


def _category_name(item: object) -> str:
    # Models echo the tool name or capitalise: "remember_preference", "Preference".
    if not isinstance(item, str):
        return ""
    return item.strip().lower().removeprefix(TOOL_PREFIX)


def _union(earlier: Span | None, later: Span) -> Span:
    """Two entries for the same messages become one span with both entries' categories."""
    if earlier is None:
        return later
    categories = tuple(dict.fromkeys((*earlier.categories, *later.categories)))
    return Span(earlier.start, earlier.end, categories, earlier.reason or later.reason)


def _category_list(registry: SchemaRegistry) -> str:
    lines = []
    for name in registry.names():
        memory_type = registry.get(name)
        whose = "about the user" if memory_type.owner_scope == "user" else "for the agent"
        lines.append(f"- {name} ({whose}): {memory_type.description.strip()}")
    return "\n".join(lines)
