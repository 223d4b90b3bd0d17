"""The schema registry: memory types defined in YAML files and validated when they are loaded.

Built-in types ship in ``ogmem/schemas/builtin``. ``SchemaRegistry.load(extra_dirs)`` adds the
``*.yaml``/``*.yml`` files of each extra directory: a user type with the same name as a built-in
replaces it, and a type from a later directory replaces one from an earlier directory. Two files
of the same directory may not define the same name.

Every problem in a file raises ``errors.SchemaError`` naming the file and the field, e.g.
``fields[2].type``.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from ogmem.core import errors, models, uri
from ogmem.schemas import durations, yaml_fields

# Aliased: MemoryType has an attribute called ``fields``.
from ogmem.schemas import fields as schema_fields

OPERATION_MODES = ("upsert", "add_only")
OWNER_SCOPES = ("user", "agent")
TOOL_PREFIX = "remember_"
# Placeholders of filename templates and how many characters each may fill: the caps keep every
# rendered filename within a URI segment's 128 characters (checked per template at load).
# 25 characters hold an ISO date-time with an offset, e.g. 2024-05-07t10-30-00-02-00.
PLACEHOLDERS = {"routing_key": 64, "content_hash": 32, "when": 25}
UNDATED = "undated"
_REQUIRED_KEYS = (
    "name",
    "description",
    "operation_mode",
    "owner_scope",
    "directory",
    "filename",
    "extraction",
)
_TYPE_KEYS = (*_REQUIRED_KEYS, "single_node", "context_type", "fields", "ttl")
# "remember_" + name must fit the 64 characters OpenAI allows for a function name.
_TYPE_NAME = re.compile(r"[a-z][a-z0-9_]{0,54}")
_LITERAL = re.compile(r"[A-Za-z0-9._-]*")
_CONTEXT_TYPES = tuple(member.value for member in models.ContextType)


@dataclass(frozen=True, slots=True)
class MemoryType:
    """One memory type: where its nodes live, how they are written, what fields they carry."""

    name: str
    description: str
    operation_mode: str
    owner_scope: str
    single_node: bool
    context_type: models.ContextType
    directory: str
    filename: str
    fields: tuple[schema_fields.FieldSpec, ...]
    guidance: str
    source: str
    # how long a memory of this type is kept once written (None: until removed); a memory's
    # own expires_at overrides it
    ttl: timedelta | None = None

    def directory_segments(self) -> tuple[str, ...]:
        """The directory below the owner root (``users/{user}`` or ``agents/{agent}``)."""
        return tuple(self.directory.split("/"))

    def placeholders(self) -> frozenset[str]:
        """The placeholder names used by the filename template."""
        return frozenset(name for _, name in _template_parts(self.filename) if name)

    def render_filename(self, *, routing_key: str, content_hash: str, when: str | None) -> str:
        """Fill the filename template; the result is always a legal URI segment.

        Each value is slugified and capped, so free text (or a missing ``when``, rendered as
        ``undated``) cannot produce an illegal segment.
        """
        values = {"routing_key": routing_key, "content_hash": content_hash, "when": when or UNDATED}
        parts: list[str] = []
        for literal, name in _template_parts(self.filename):
            parts.append(literal)
            if name:
                parts.append(uri.slugify(values[name], PLACEHOLDERS[name]))
        return uri.validate_segment("".join(parts), "filename")

    def tool_definition(self) -> dict[str, Any]:
        """The OpenAI function-calling tool that lets the extractor propose this type.

        The description carries the extraction guidance, so the model reads when to use it.
        """
        return {
            "type": "function",
            "function": {
                "name": TOOL_PREFIX + self.name,
                "description": f"{self.description.strip()}\n\n{self.guidance.strip()}",
                "parameters": {
                    "type": "object",
                    "properties": {spec.name: spec.json_schema() for spec in self.fields},
                    "required": [spec.name for spec in self.fields if spec.required],
                    "additionalProperties": False,
                },
            },
        }

    def validate_candidate(self, candidate: models.CandidateMemory) -> None:
        """Raise InvalidCandidate (with ``field``) unless the candidate fits this type.

        Common fields are read from the candidate itself, the type's own fields from
        ``candidate.attributes``. An archive/delete candidate only needs its address.
        """
        self._check_identity(candidate)
        own = {spec.name for spec in self.fields} - schema_fields.COMMON_FIELD_NAMES
        unknown = sorted(set(candidate.attributes) - own)
        if unknown:
            raise self._invalid(unknown[0], "is not a field of this type")
        for spec in self.fields:
            if candidate.operation != "write" and spec.name != "routing_key":
                continue
            self._check_value(spec, _candidate_value(candidate, spec.name))

    def _check_identity(self, candidate: models.CandidateMemory) -> None:
        # owner_scope is not checked: the type decides where its memories live, and a
        # candidate that left the default ("user") on an agent type is not wrong, just terse.
        if candidate.category != self.name:
            raise self._invalid("category", f"candidate is a {candidate.category!r}")

    def _check_value(self, spec: schema_fields.FieldSpec, value: Any) -> None:
        if schema_fields.is_empty(value):
            if spec.required:
                raise self._invalid(spec.name, "is required")
            return
        problem = spec.problem(value)
        if problem is not None:
            raise self._invalid(spec.name, problem)

    def _invalid(self, field: str, problem: str) -> errors.InvalidCandidate:
        return errors.InvalidCandidate(f"{self.name}: field {field!r} {problem}", field=field)


def _candidate_value(candidate: models.CandidateMemory, name: str) -> Any:
    if name in schema_fields.COMMON_FIELD_NAMES:
        return getattr(candidate, name)
    return candidate.attributes.get(name)


def _template_parts(template: str) -> Iterator[tuple[str, str | None]]:
    """(literal text, placeholder name or None) pairs of a validated template."""
    for literal, name, _, _ in string.Formatter().parse(template):
        yield literal, name


class SchemaRegistry:
    """The memory types known to an engine, by name.

    >>> registry = SchemaRegistry.load()  # or .load(["my_types"]) to add my_types/*.yaml
    >>> registry.get("event").render_filename(routing_key="trip", content_hash="9f2c", when=None)
    'trip-9f2c'
    >>> registry.tool_definitions(["event"])[0]["function"]["name"]
    'remember_event'
    """

    def __init__(self, types: Iterable[MemoryType]) -> None:
        self._types = {memory_type.name: memory_type for memory_type in types}

    @classmethod
    def load(cls, extra_dirs: Sequence[str | Path] = ()) -> SchemaRegistry:
        """The built-in types plus the YAML files of ``extra_dirs``.

        A user type named like a built-in (or like a type of an earlier directory) replaces it.
        The built-ins are parsed once per process.
        """
        types = {memory_type.name: memory_type for memory_type in _builtin_types()}
        for directory in extra_dirs:
            for memory_type in _load_directory(Path(directory)):
                types[memory_type.name] = memory_type
        return cls(types.values())

    def get(self, name: str) -> MemoryType:
        try:
            return self._types[name]
        except KeyError:
            known = ", ".join(self.names())
            message = f"unknown memory category {name!r}; known: {known}"
            raise errors.InvalidCandidate(message, field="category") from None

    def names(self) -> list[str]:
        return sorted(self._types)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._types

    def tool_definitions(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Tool definitions for ``names`` (default: every type, by name)."""
        chosen = self.names() if names is None else names
        return [self.get(name).tool_definition() for name in chosen]

    def type_for_tool(self, tool_name: str) -> MemoryType:
        """The type whose tool definition is called ``tool_name`` (e.g. ``remember_event``)."""
        if not tool_name.startswith(TOOL_PREFIX):
            known = ", ".join(TOOL_PREFIX + name for name in self.names())
            message = f"unknown memory tool {tool_name!r}; known: {known}"
            raise errors.InvalidCandidate(message, field="category")
        return self.get(tool_name.removeprefix(TOOL_PREFIX))


@functools.cache
def _builtin_types() -> tuple[MemoryType, ...]:
    folder = resources.files("ogmem.schemas").joinpath("builtin")
    return _load_files(entry for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def _load_directory(directory: Path) -> tuple[MemoryType, ...]:
    if not directory.is_dir():
        raise errors.SchemaError("schema directory does not exist", file=str(directory))
    entries = (p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    return _load_files(entries)


def _load_files(entries: Iterable[Traversable]) -> tuple[MemoryType, ...]:
    """Parse the files in name order; one directory may define each type once."""
    loaded: dict[str, MemoryType] = {}
    for entry in sorted(entries, key=lambda e: e.name):
        memory_type = _load_file(entry)
        earlier = loaded.get(memory_type.name)
        if earlier is not None:
            message = f"type {memory_type.name!r} is already defined in {earlier.source}"
            raise errors.SchemaError(message, file=memory_type.source, field="name")
        loaded[memory_type.name] = memory_type
    return tuple(loaded.values())


def _load_file(entry: Traversable) -> MemoryType:
    source = str(entry)
    try:
        data = yaml.safe_load(entry.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise errors.SchemaError(f"invalid YAML: {exc}", file=source) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.SchemaError(f"cannot read the file: {exc}", file=source) from exc
    return parse_type(data, source=source)


def parse_type(data: object, *, source: str) -> MemoryType:
    """Build a MemoryType from one parsed YAML document; ``source`` names it in errors."""
    doc = yaml_fields.YamlSection.open(
        data, file=source, allowed=_TYPE_KEYS, required=_REQUIRED_KEYS
    )
    extraction = yaml_fields.YamlSection.open(
        doc.data["extraction"],
        file=source,
        path="extraction",
        allowed=("guidance",),
        required=("guidance",),
    )
    single_node = doc.flag("single_node", False)
    memory_type = MemoryType(
        name=doc.text("name", pattern=_TYPE_NAME),
        description=doc.text("description"),
        operation_mode=doc.choice("operation_mode", OPERATION_MODES),
        owner_scope=doc.choice("owner_scope", OWNER_SCOPES),
        single_node=single_node,
        context_type=models.ContextType(doc.choice("context_type", _CONTEXT_TYPES, "MEMORY")),
        directory=_parse_directory(doc),
        filename=_parse_filename(doc),
        fields=yaml_fields.parse_fields(
            doc.data.get("fields"), single_node=single_node, file=source
        ),
        guidance=extraction.text("guidance"),
        source=source,
        ttl=_parse_ttl(doc),
    )
    _check_addressing(doc, memory_type)
    return memory_type


def _parse_ttl(doc: yaml_fields.YamlSection) -> timedelta | None:
    if "ttl" not in doc.data:
        return None
    try:
        return durations.parse_duration(str(doc.data["ttl"]))
    except ValueError as exc:
        raise doc.error(f"ttl: {exc}", "ttl") from exc


def _parse_directory(doc: yaml_fields.YamlSection) -> str:
    directory = doc.text("directory")
    for segment in directory.split("/"):
        try:
            uri.validate_segment(segment, "directory segment")
        except errors.InvalidURI as exc:
            raise doc.error(f"directory {directory!r}: {exc}", "directory") from exc
    return directory


def _parse_filename(doc: yaml_fields.YamlSection) -> str:
    """Check the template's syntax, placeholders and literal text, and that its longest
    rendering is still a legal segment."""
    template = doc.text("filename")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise doc.error(f"{template!r} is not a valid template: {exc}", "filename") from exc
    longest: list[str] = []
    for literal, name, format_spec, conversion in parsed:
        if not _LITERAL.fullmatch(literal):
            raise doc.error(f"{template!r} has characters outside [A-Za-z0-9._-]", "filename")
        longest.append(literal)
        if name is None:
            continue
        if name not in PLACEHOLDERS or format_spec or conversion:
            allowed = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise doc.error(f"unknown placeholder in {template!r}; allowed: {allowed}", "filename")
        longest.append("x" * PLACEHOLDERS[name])
    try:
        uri.validate_segment("".join(longest), "filename")
    except errors.InvalidURI as exc:
        raise doc.error(f"{template!r} can render an illegal segment: {exc}", "filename") from exc
    return template


def _check_addressing(doc: yaml_fields.YamlSection, memory_type: MemoryType) -> None:
    """The filename must match the mode: one fixed node, one node per key, or never collide."""
    placeholders = memory_type.placeholders()
    if memory_type.single_node and memory_type.operation_mode == "add_only":
        raise doc.error("a single_node type cannot be add_only", "single_node")
    if memory_type.single_node and placeholders:
        raise doc.error("a single_node type needs a filename without placeholders", "filename")
    if not memory_type.single_node and not placeholders:
        raise doc.error("a fixed filename means one node per owner: set single_node", "filename")
    if memory_type.operation_mode == "add_only" and "content_hash" not in placeholders:
        # Without it two different add_only memories with the same key would overwrite each other.
        raise doc.error("an add_only filename needs {content_hash}", "filename")
