"""The fields of memory types: the common ones, reading them from YAML, JSON schema, value checks.

Every memory type gets the common fields (routing_key, abstract, overview, content, ...); a YAML
type adds its own and may tighten a common one by listing it again. The common fields live on
``CandidateMemory`` itself, the type's own fields in ``CandidateMemory.attributes``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from ogmem.core import errors, uri

FIELD_TYPES = ("string", "slug", "number", "integer", "boolean", "date", "string_list", "object")
_LENGTH_TYPES = frozenset({"string", "slug", "string_list"})
_RANGE_TYPES = frozenset({"number", "integer"})
_CHOICE_TYPES = frozenset({"string", "string_list"})
_FIELD_KEYS = (
    "name",
    "type",
    "required",
    "description",
    "max_length",
    "minimum",
    "maximum",
    "choices",
)
_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
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
        if self.max_length is not None and self.type in _LENGTH_TYPES:
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
_NO_FIELD = FieldSpec("", "", False)


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


class YamlSection:
    """A mapping read from a YAML file. Every accessor raises SchemaError naming the file and
    the key path (``fields[2].type``), so a user can find the mistake."""

    def __init__(self, data: Mapping[Any, Any], *, file: str, path: str = "") -> None:
        self.data = data
        self.file = file
        self.path = path

    @classmethod
    def open(
        cls,
        data: object,
        *,
        file: str,
        path: str = "",
        allowed: Collection[str],
        required: Collection[str],
    ) -> YamlSection:
        section = cls({}, file=file, path=path)
        if not isinstance(data, Mapping):
            what = path or "the document"
            raise section.error(f"{what} must be a mapping, not {type(data).__name__}")
        unknown = sorted(str(key) for key in data if key not in allowed)
        if unknown:
            options = ", ".join(allowed)
            raise section.error(f"unknown key {unknown[0]!r}; allowed: {options}", unknown[0])
        for key in required:
            if key not in data:
                raise section.error(f"missing required key {key!r}", key)
        return cls(data, file=file, path=path)

    def where(self, key: str | None = None) -> str | None:
        if key is None:
            return self.path or None
        return f"{self.path}.{key}" if self.path else key

    def error(self, message: str, key: str | None = None) -> errors.SchemaError:
        return errors.SchemaError(message, file=self.file, field=self.where(key))

    def text(
        self, key: str, default: str | None = None, pattern: re.Pattern[str] | None = None
    ) -> str:
        """A non-blank string; ``default`` when absent (absent without default is an error)."""
        if key not in self.data:
            if default is None:
                raise self.error(f"missing required key {key!r}", key)
            return default
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            raise self.error(f"{key} must be a non-empty string, not {value!r}", key)
        if pattern is not None and not pattern.fullmatch(value):
            raise self.error(f"{key} {value!r} does not match {pattern.pattern}", key)
        return value

    def choice(self, key: str, options: Sequence[str], default: str | None = None) -> str:
        value = self.text(key, default)
        if value not in options:
            raise self.error(f"{key} must be one of {', '.join(options)}, not {value!r}", key)
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        # YAML reads yes/no/on/off as booleans, but 1 and "true" would slip through bool().
        if not isinstance(value, bool):
            raise self.error(f"{key} must be true or false, not {value!r}", key)
        return value

    def count(self, key: str) -> int | None:
        value = self.data.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise self.error(f"{key} must be an integer, not {value!r}", key)
        if value is not None and value < 1:
            raise self.error(f"{key} must be at least 1, not {value}", key)
        return value

    def number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not _is_number(value):
            raise self.error(f"{key} must be a number, not {value!r}", key)
        return float(value)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(f"{key} must be a list of non-empty strings", key)
        if len(set(value)) != len(value):
            raise self.error(f"{key} has duplicates", key)
        return tuple(value)


def parse_fields(raw: object, *, single_node: bool, file: str) -> tuple[FieldSpec, ...]:
    """The fields of a type: the common ones (tightened where the YAML lists them again) in
    their fixed order, then the type's own fields in YAML order."""
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise errors.SchemaError("fields must be a list", file=file, field="fields")
    merged = {spec.name: spec for spec in common_fields(single_node=single_node)}
    common = dict(merged)
    seen: set[str] = set()
    for index, item in enumerate(raw):
        section = YamlSection.open(
            item, file=file, path=f"fields[{index}]", allowed=_FIELD_KEYS, required=("name",)
        )
        spec = _parse_field(section, common)
        if spec.name in seen:
            raise section.error(f"duplicate field {spec.name!r}", "name")
        seen.add(spec.name)
        merged[spec.name] = spec
    return tuple(merged.values())


def _parse_field(section: YamlSection, common: Mapping[str, FieldSpec]) -> FieldSpec:
    name = section.text("name", pattern=_FIELD_NAME)
    if name in RESERVED_NAMES:
        raise section.error(f"{name!r} is reserved (an attribute of every candidate)", "name")
    base = common.get(name)
    inherited = base or _NO_FIELD
    spec = FieldSpec(
        name=name,
        type=section.choice("type", FIELD_TYPES, inherited.type or None),
        required=section.flag("required", inherited.required),
        description=section.text("description", inherited.description),
        max_length=_given(section.count("max_length"), inherited.max_length),
        minimum=_given(section.number("minimum"), inherited.minimum),
        maximum=_given(section.number("maximum"), inherited.maximum),
        choices=section.strings("choices") or inherited.choices,
    )
    _check_applicable(section, spec)
    if base is not None:
        _check_tightened(section, spec, base)
    return spec


def _given(value: _T | None, fallback: _T | None) -> _T | None:
    return fallback if value is None else value


def _check_applicable(section: YamlSection, spec: FieldSpec) -> None:
    limits = (
        ("max_length", _LENGTH_TYPES),
        ("minimum", _RANGE_TYPES),
        ("maximum", _RANGE_TYPES),
        ("choices", _CHOICE_TYPES),
    )
    for key, types in limits:
        if key in section.data and spec.type not in types:
            raise section.error(f"{key} applies to {', '.join(sorted(types))} fields only", key)
    if spec.minimum is not None and spec.maximum is not None and spec.minimum > spec.maximum:
        raise section.error(f"minimum {spec.minimum} is above maximum {spec.maximum}", "maximum")


def _check_tightened(section: YamlSection, spec: FieldSpec, base: FieldSpec) -> None:
    """A type may make a common field stricter, never looser: the pipeline relies on them."""
    if spec.type != base.type and (base.type, spec.type) != ("string", "date"):
        raise section.error(f"common field {base.name!r} must keep type {base.type}", "type")
    if base.required and not spec.required:
        raise section.error(f"common field {base.name!r} is required", "required")
    if base.max_length is not None and (spec.max_length or 0) > base.max_length:
        raise section.error(f"max_length may not exceed {base.max_length}", "max_length")
    if base.minimum is not None and (spec.minimum is None or spec.minimum < base.minimum):
        raise section.error(f"minimum may not be below {base.minimum}", "minimum")
    if base.maximum is not None and (spec.maximum is None or spec.maximum > base.maximum):
        raise section.error(f"maximum may not exceed {base.maximum}", "maximum")


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


def _is_number(value: object) -> bool:
    # bool is an int subclass, but `true` is not a number to a user or an LLM.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _check_number(spec: FieldSpec, value: Any) -> str | None:
    if not _is_number(value):
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
