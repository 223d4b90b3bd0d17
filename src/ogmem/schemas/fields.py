"""The fields of memory types: the common ones, their JSON schema and their value checks.

Every memory type gets the common fields (routing_key, abstract, overview, content, ...); a YAML
type adds its own and may tighten a common one by listing it again. The common fields live on
``CandidateMemory`` itself, the type's own fields in ``CandidateMemory.attributes``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ogmem.core import uri

FIELD_TYPES = ("string", "slug", "number", "integer", "boolean", "date", "string_list", "object")
LENGTH_TYPES = frozenset({"string", "slug", "string_list"})
RANGE_TYPES = frozenset({"number", "integer"})
CHOICE_TYPES = frozenset({"string", "string_list"})
# CandidateMemory attributes that are not fields: a field with one of these names would be
# ambiguous between the candidate itself and its ``attributes`` mapping.
RESERVED_NAMES = frozenset(
    {"category", "owner_scope", "operation", "provenance_ids", "tool_stats", "attributes"}
)
_SLUG_PATTERN = r"^[a-z0-9_]([a-z0-9._-]*[a-z0-9_])?$"
_DATE = re.compile(
    r"(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2})"
    r"(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?)?)?"
)
_T = TypeVar("_T")
_DATE_HINT = "an absolute ISO 8601 date, YYYY-MM-DD (or YYYY-MM, YYYY, or with a time)"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a memory type. ``max_length`` counts characters (strings) or items (lists);
    ``minimum``/``maximum`` bound numbers; ``choices`` restricts strings (or list items)."""

    name: str
    type: str
    required: bool
    description: str = ""
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()

    def json_schema(self) -> dict[str, Any]:
        """The JSON schema of this field, as offered to the LLM in a tool definition."""
        schema = _base_schema(self.type)
        description = self.description
        if self.type == "date":
            description = f"{description} Format: {_DATE_HINT}."
        description = description.strip()
        if description:
            schema["description"] = description
        if self.max_length is not None and self.type in LENGTH_TYPES:
            schema["maxItems" if self.type == "string_list" else "maxLength"] = self.max_length
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.choices:
            target = schema["items"] if self.type == "string_list" else schema
            target["enum"] = list(self.choices)
        return schema

    def problem(self, value: Any) -> str | None:
        """Why ``value`` is not acceptable for this field, or None if it is (emptiness aside)."""
        return _CHECKERS[self.type](self, value)


def is_empty(value: Any) -> bool:
    """None, blank text and empty collections count as "not given"."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, Sequence | Mapping) and not value


def is_absolute_date(text: str) -> bool:
    """True for ISO 8601 dates such as 2024, 2024-05, 2024-05-07, 2024-05-07T10:30:00+02:00."""
    match = _DATE.fullmatch(text)
    if match is None:
        return False
    try:
        dt.date(int(match["y"]), int(match["m"] or 1), int(match["d"] or 1))
    except ValueError:
        return False
    return True


COMMON_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "routing_key",
        "slug",
        True,
        "Stable key of the memory node: a short lowercase slug (a-z, 0-9, '-', '.', '_') such "
        "as 'dark-mode'. Reuse the same key for the same subject so that memories merge.",
        max_length=64,
    ),
    FieldSpec(
        "abstract",
        "string",
        True,
        "One line (L0) that says what this memory is, understandable without the conversation.",
        max_length=300,
    ),
    FieldSpec(
        "overview",
        "string",
        False,
        "A short paragraph or a few bullets (L1) with the key facts.",
        max_length=2000,
    ),
    FieldSpec(
        "content",
        "string",
        True,
        "The full memory (L2): every detail worth keeping, self-contained.",
        max_length=20000,
    ),
    FieldSpec(
        "confidence",
        "number",
        False,
        "How sure you are that this is true and worth keeping, from 0 to 1 (default 1).",
        minimum=0.0,
        maximum=1.0,
    ),
    FieldSpec(
        "evidence_quote",
        "string",
        False,
        "A short verbatim quote from the conversation that supports this memory.",
        max_length=1000,
    ),
    FieldSpec(
        "source_message_ids",
        "string_list",
        False,
        "Ids of the messages this memory was taken from.",
        max_length=200,
    ),
    FieldSpec(
        "when",
        "string",
        False,
        "When it happened or was said; prefer an absolute date (YYYY-MM-DD).",
        max_length=64,
    ),
    FieldSpec("who", "string", False, "The people involved, if any.", max_length=500),
    FieldSpec("where", "string", False, "The place, if it matters.", max_length=500),
)
COMMON_FIELD_NAMES = frozenset(spec.name for spec in COMMON_FIELDS)
# What a new (not common) field inherits: nothing.
NO_FIELD = FieldSpec("", "", False)


def common_fields(*, single_node: bool) -> tuple[FieldSpec, ...]:
    """The common fields of a type; a single-node type needs no routing key."""
    if not single_node:
        return COMMON_FIELDS
    routing_key, *rest = COMMON_FIELDS
    relaxed = FieldSpec(
        routing_key.name,
        routing_key.type,
        False,
        "Not needed: this type keeps one node per owner.",
        max_length=routing_key.max_length,
    )
    return (relaxed, *rest)


def _base_schema(field_type: str) -> dict[str, Any]:
    match field_type:
        case "slug":
            return {"type": "string", "pattern": _SLUG_PATTERN}
        case "string" | "date":
            return {"type": "string"}
        case "string_list":
            return {"type": "array", "items": {"type": "string"}}
        case _:
            return {"type": field_type}


def _check_string(spec: FieldSpec, value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    if spec.max_length is not None and len(value) > spec.max_length:
        return f"is longer than {spec.max_length} characters ({len(value)})"
    if spec.choices and value not in spec.choices:
        return f"must be one of {', '.join(spec.choices)}, not {value!r}"
    return None


def _check_slug(spec: FieldSpec, value: Any) -> str | None:
    problem = _check_string(spec, value)
    if problem is None and uri.slugify(value, len(value)) != value:
        return f"must be a lowercase slug such as 'dark-mode', not {value!r}"
    return problem


def is_number(value: object) -> bool:
    # bool is an int subclass, but `true` is not a number to a user or an LLM.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _check_number(spec: FieldSpec, value: Any) -> str | None:
    if not is_number(value):
        return f"must be a number, not {value!r}"
    return _check_range(spec, value)


def _check_integer(spec: FieldSpec, value: Any) -> str | None:
    # JSON from an LLM may spell an integer as 3.0; that is still an integer.
    integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not integral:
        return f"must be an integer, not {value!r}"
    return _check_range(spec, value)


def _check_range(spec: FieldSpec, value: float) -> str | None:
    if spec.minimum is not None and value < spec.minimum:
        return f"must be at least {spec.minimum}, not {value}"
    if spec.maximum is not None and value > spec.maximum:
        return f"must be at most {spec.maximum}, not {value}"
    return None


def _check_boolean(spec: FieldSpec, value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, not {value!r}"


def _check_date(spec: FieldSpec, value: Any) -> str | None:
    if isinstance(value, str) and is_absolute_date(value):
        return None
    return f"must be {_DATE_HINT}, not {value!r}"


def _check_string_list(spec: FieldSpec, value: Any) -> str | None:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        return "must be a list of strings"
    if spec.max_length is not None and len(value) > spec.max_length:
        return f"has more than {spec.max_length} items ({len(value)})"
    wrong = [v for v in value if spec.choices and v not in spec.choices]
    return f"items must be among {', '.join(spec.choices)}, not {wrong[0]!r}" if wrong else None


def _check_object(spec: FieldSpec, value: Any) -> str | None:
    if isinstance(value, Mapping) and all(isinstance(k, str) for k in value):
        return None
    return f"must be an object with string keys, not {type(value).__name__}"


_CHECKERS = {
    "string": _check_string,
    "slug": _check_slug,
    "number": _check_number,
    "integer": _check_integer,
    "boolean": _check_boolean,
    "date": _check_date,
    "string_list": _check_string_list,
    "object": _check_object,
}
