"""Reading memory-type fields from YAML: every problem names the file and the key path."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, TypeVar

from ogmem.core import errors
from ogmem.schemas import fields

_T = TypeVar("_T")
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
        if not fields.is_number(value):
            raise self.error(f"{key} must be a number, not {value!r}", key)
        return float(value)

    def strings(self, key: str) -> tuple[str, ...]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.error(f"{key} must be a list of non-empty strings", key)
        if len(set(value)) != len(value):
            raise self.error(f"{key} has duplicates", key)
        return tuple(value)


def parse_fields(raw: object, *, single_node: bool, file: str) -> tuple[fields.FieldSpec, ...]:
    """The fields of a type: the common ones (tightened where the YAML lists them again) in
    their fixed order, then the type's own fields in YAML order."""
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise errors.SchemaError("fields must be a list", file=file, field="fields")
    merged = {spec.name: spec for spec in fields.common_fields(single_node=single_node)}
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


def _parse_field(section: YamlSection, common: Mapping[str, fields.FieldSpec]) -> fields.FieldSpec:
    name = section.text("name", pattern=_FIELD_NAME)
    if name in fields.RESERVED_NAMES:
        raise section.error(f"{name!r} is reserved (an attribute of every candidate)", "name")
    base = common.get(name)
    inherited = base or fields.NO_FIELD
    spec = fields.FieldSpec(
        name=name,
        type=section.choice("type", fields.FIELD_TYPES, inherited.type or None),
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


def _check_applicable(section: YamlSection, spec: fields.FieldSpec) -> None:
    limits = (
        ("max_length", fields.LENGTH_TYPES),
        ("minimum", fields.RANGE_TYPES),
        ("maximum", fields.RANGE_TYPES),
        ("choices", fields.CHOICE_TYPES),
    )
    for key, types in limits:
        if key in section.data and spec.type not in types:
            raise section.error(f"{key} applies to {', '.join(sorted(types))} fields only", key)
    if spec.minimum is not None and spec.maximum is not None and spec.minimum > spec.maximum:
        raise section.error(f"minimum {spec.minimum} is above maximum {spec.maximum}", "maximum")


def _check_tightened(section: YamlSection, spec: fields.FieldSpec, base: fields.FieldSpec) -> None:
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
