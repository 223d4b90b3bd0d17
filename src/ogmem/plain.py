"""The plain form of a memory: a text, and optionally a category, a time and metadata.

Every interface takes it (``Engine.add``, ``Client.add``, ``POST /api/v1/memories`` with
``{"text", "user_id"}``, the MCP tool ``add_memory``, ``ogmem add``) and turns it into a
typed ``CandidateMemory`` here, which then goes through the normal write pipeline (policy,
version, outbox, idempotency). The rules, deterministic and documented in the README:

- **category**: ``event`` unless given. An event is append-only and dated, as raw mode stores
  a message: no plain text is ever merged into another or lost; an exact repeat is skipped.
- **when**: the given time, else today (UTC) for a type whose date is required (event).
- **abstract**: the text's first sentence (cut to the abstract's limit); **content**: the text.
- **routing key**: the slug of the text's first content words ("I prefer dark roast coffee"
  -> ``prefer-dark-roast-coffee``): the same text always lands on the same node, and in a
  merging type (preference, entity, ...) texts that start alike merge.
- **metadata**: keys that are fields of the type fill them (``{"kind": "person"}`` for an
  entity); the other keys are kept as given in the node's metadata under ``custom``.
- a required field still empty: a required choice takes ``other`` when it is one of the
  choices (entity ``kind``); a required text takes the text (case ``problem`` and
  ``solution``, pattern ``trigger``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from ogmem.core import errors, uri
from ogmem.core.models import CandidateMemory, RequestContext
from ogmem.schemas import fields as schema_fields
from ogmem.schemas.registry import MemoryType, SchemaRegistry

DEFAULT_CATEGORY = "event"
KEY_WORDS = 4
KEY_CHARS = 48
_LIMITS = {spec.name: spec.max_length for spec in schema_fields.COMMON_FIELDS}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
# words that say nothing about the topic: a key made of them would merge unrelated texts
_STOPWORDS = frozenset(
    (
        "a an the i i'm im me my mine we our you your he she it its they them their this that "
        "these those is am are was were be been being do does did have has had to of in on at "
        "for with by from and or but so as if then than there here also just very really"
    ).split()
)
Metadata = Mapping[str, Any]


def cut(text: str, limit: int | None) -> str:
    """``text`` cut to ``limit`` characters at most (its beginning, marked when cut)."""
    if limit is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def abstract_of(text: str) -> str:
    """The first sentence of ``text``, within the abstract's limit."""
    return cut(_SENTENCE_END.split(text.strip(), maxsplit=1)[0], _LIMITS["abstract"])


def routing_key_of(text: str) -> str:
    """A slug of the first content words of ``text`` (its first words if it has none)."""
    words = _WORD.findall(text.lower())
    content = [w for w in words if w not in _STOPWORDS] or words
    return uri.slugify(" ".join(content[:KEY_WORDS]), KEY_CHARS) if content else "note"


def when_text(when: str | date | None) -> str | None:
    """A time as the schema wants it: a date as YYYY-MM-DD, a datetime in ISO 8601 (UTC)."""
    if isinstance(when, datetime):
        moment = when if when.tzinfo else when.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(when, date):
        return when.isoformat()
    return (when.strip() or None) if isinstance(when, str) else None


def plain_candidate(
    text: str,
    memory_type: MemoryType | None,
    *,
    category: str | None = None,
    when: str | date | None = None,
    metadata: Metadata | None = None,
    today: date | None = None,
) -> CandidateMemory:
    """The typed candidate for a plain text (rules in the module docstring).

    ``memory_type`` is the registry's type for ``category`` (None when it names no type: the
    candidate is built anyway, and the writer reports the unknown category in its result).

    Raises:
        errors.InvalidInput: the text is empty.
    """
    content = text.strip()
    if not content:
        raise errors.InvalidInput("text is empty: nothing to remember")
    own = {s.name for s in memory_type.fields} if memory_type else set()
    own -= schema_fields.COMMON_FIELD_NAMES
    given = dict(metadata or {})
    attributes = {k: v for k, v in given.items() if k in own}
    custom = {k: v for k, v in given.items() if k not in own}
    moment = when_text(when)
    if memory_type is not None:
        moment = moment or _default_date(memory_type, today)
        attributes = {**_required_defaults(memory_type, content), **attributes}
    return CandidateMemory(
        category=category or DEFAULT_CATEGORY,
        routing_key=routing_key_of(content),
        abstract=abstract_of(content),
        content=content,
        when=moment,
        attributes=attributes,
        metadata=custom,
    )


def _default_date(memory_type: MemoryType, today: date | None) -> str | None:
    required = any(s.name == "when" and s.required for s in memory_type.fields)
    return (today or datetime.now(UTC).date()).isoformat() if required else None


def _required_defaults(memory_type: MemoryType, text: str) -> dict[str, Any]:
    """Values for the type's own required fields that a plain text can give."""
    defaults: dict[str, Any] = {}
    for spec in memory_type.fields:
        if not spec.required or spec.name in schema_fields.COMMON_FIELD_NAMES:
            continue
        if spec.choices:
            if "other" in spec.choices:
                defaults[spec.name] = "other"
        elif spec.type == "string":
            defaults[spec.name] = cut(text, spec.max_length)
        elif spec.type == "string_list":
            defaults[spec.name] = [cut(text, None)]
    return defaults


def request_context(
    ctx: RequestContext | None,
    user_id: str | None,
    account_id: str,
    agent_id: str | None,
) -> RequestContext:
    """``ctx`` as given, or one built from ``user_id`` (``add(text, user_id="alice")``).

    Raises:
        errors.InvalidInput: neither or both of ``ctx`` and ``user_id`` were given.
    """
    if ctx is not None:
        if user_id is not None:
            raise errors.InvalidInput("pass either ctx or user_id, not both")
        return ctx
    if not user_id:
        raise errors.InvalidInput("whose memory is it? pass user_id (or a RequestContext)")
    for value, what in ((account_id, "account"), (user_id, "user"), (agent_id, "agent")):
        if value is not None:
            uri.validate_segment(value, what)
    return RequestContext(account_id, user_id, agent_id=agent_id)


def candidate(
    registry: SchemaRegistry,
    text: str,
    category: str | None = None,
    when: str | date | None = None,
    metadata: Metadata | None = None,
) -> CandidateMemory:
    """The typed candidate of a plain text, for the types of ``registry``."""
    name = category or DEFAULT_CATEGORY
    memory_type = registry.get(name) if name in registry else None
    return plain_candidate(text, memory_type, category=name, when=when, metadata=metadata)
