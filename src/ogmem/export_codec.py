"""The rows of an export file as JSON objects, and back: every field of the model's dataclass
by name (times in ISO 8601 with their offset, enums by value, tuples as lists), so a field
added to a model travels without a change here. Reading checks every field: an unknown one,
a missing one without a default, or a value of the wrong shape is an ExportFormatError that
names the line and the field."""

from __future__ import annotations

import dataclasses
import enum
import functools
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from ogmem.core import errors

T = TypeVar("T")


class ExportFormatError(errors.InvalidInput):
    """The export file is not in the format this ogmem reads."""


def encode(value: Any) -> Any:
    """A model (a dataclass) or a value of one of its fields, as JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    return value


@functools.cache
def _hints(model: type) -> dict[str, Any]:
    return typing.get_type_hints(model)


def decode(model: type[T], data: Any, where: str) -> T:
    """``data`` (JSON) as a ``model`` dataclass; ``where`` names the place for errors."""
    if not isinstance(data, dict):
        raise ExportFormatError(f"{where}: expected an object, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(model)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ExportFormatError(f"{where}: unknown field {unknown[0]!r}")
    values, hints = {}, _hints(typing.cast(type, model))
    for name, spec in fields.items():
        if name in data:
            values[name] = _value(hints[name], data[name], f"{where}, field {name!r}")
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            raise ExportFormatError(f"{where}: field {name!r} is missing")
    try:
        return model(**values)
    except (TypeError, ValueError) as exc:
        raise ExportFormatError(f"{where}: {exc}") from exc


def _value(hint: Any, data: Any, where: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    try:
        if dataclasses.is_dataclass(hint):
            return decode(hint, data, where)  # type: ignore[arg-type]
        if hint is datetime:
            return _time(data)
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return hint(data)
        if origin is tuple:
            return tuple(_plain(list, data))
        if origin in (Mapping, dict) or hint in (Mapping, dict):
            return _plain(dict, data)
        if hint in (int, float, str, bool):
            return _plain(hint, data)
    except (TypeError, ValueError) as exc:
        raise ExportFormatError(f"{where}: {exc}") from exc
    return data


def _time(data: Any) -> datetime:
    moment = datetime.fromisoformat(_plain(str, data))
    if moment.tzinfo is None:
        raise ValueError(f"{data!r} has no UTC offset")
    return moment


def _plain(kind: type[T], data: Any) -> T:
    if kind is float and isinstance(data, int) and not isinstance(data, bool):
        return float(data)  # type: ignore[return-value]
    if not isinstance(data, kind) or (kind is int and isinstance(data, bool)):
        raise TypeError(f"expected {kind.__name__}, got {type(data).__name__}")
    return data
