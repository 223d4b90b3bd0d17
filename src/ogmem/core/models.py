"""The domain vocabulary (see DESIGN.md): plain frozen dataclasses, no I/O."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from ogmem.core import errors

OwnerScope = Literal["user", "agent"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime, what: str = "time") -> datetime:
    """``value`` in UTC (a naive time is taken as UTC already). Times are stored in UTC, so a
    time UTC cannot represent is refused here, naming ``what``: 0001-01-01T00:00+14:00 is a
    moment of year 0, 9999-12-31T23:59-10:00 one of year 10000.

    Raises:
        errors.InvalidInput: the time falls outside years 1 to 9999 in UTC.
    """
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise errors.InvalidInput(
            f"{what} {value.isoformat()} is outside the years 1 to 9999 once in UTC"
        ) from exc


class ContextType(enum.StrEnum):
    MEMORY = "MEMORY"
    SESSION = "SESSION"
    DIRECTORY = "DIRECTORY"
    SKILL = "SKILL"
    RESOURCE = "RESOURCE"


class NodeStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    ARCHIVED = "ARCHIVED"


class WriteAction(enum.StrEnum):
    CREATE = "create"
    MERGE = "merge"
    SKIP = "skip"
    ARCHIVE = "archive"
    DELETE = "delete"


class WriteStatus(enum.StrEnum):
    WRITTEN = "written"
    SKIPPED = "skipped"
    FAILED = "failed"


class EventType(enum.StrEnum):
    UPSERT_CONTEXT = "UPSERT_CONTEXT"
    UPSERT_DIRECTORY = "UPSERT_DIRECTORY"
    ARCHIVE_CONTEXT = "ARCHIVE_CONTEXT"
    DELETE_CONTEXT = "DELETE_CONTEXT"
    COMMIT_SESSION = "COMMIT_SESSION"
    DREAM = "DREAM"  # a dream run for one user (ogmem.dream)


class EventStatus(enum.StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    DONE = "DONE"
    DLQ = "DLQ"


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who is asking. ``account_id`` is the tenant; every store query filters on it."""

    account_id: str
    user_id: str
    agent_id: str | None = None
    session_id: str | None = None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Message:
    role: str
    content: str
    created_at: datetime = field(default_factory=utcnow)
    message_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CandidateMemory:
    """What extraction (or a direct add) proposes to remember.

    ``operation`` lets a candidate retract knowledge: ``archive`` (no longer true) or ``delete``
    (must be forgotten) the node its category and routing key address.
    ``attributes`` holds the memory type's own fields (validated by the schema registry);
    ``metadata`` the caller's own keys, not validated, kept in the node's metadata as
    ``custom`` (merged key by key).
    """

    category: str
    abstract: str
    content: str
    routing_key: str = ""
    overview: str = ""
    confidence: float = 1.0
    owner_scope: OwnerScope = "user"
    when: str | None = None
    who: str | None = None
    where: str | None = None
    evidence_quote: str | None = None
    source_message_ids: tuple[str, ...] = ()
    # the messages right before its source ones, which give them their sense (the question
    # a message answers); search lets neighbouring memories of a conversation lift each other
    context_message_ids: tuple[str, ...] = ()
    provenance_ids: tuple[str, ...] = ()
    tool_stats: Mapping[str, Any] | None = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    operation: Literal["write", "archive", "delete"] = "write"
    origin: str = "direct"  # how it was made: "direct" (an API call), "llm", "raw"
    metadata: Mapping[str, Any] = field(default_factory=dict)  # the caller's own, kept as given
    # since when the fact holds; a candidate that states it replaces an earlier fact at its
    # address instead of merging into it (the deterministic rule, ogmem.commit.supersede)
    valid_from: datetime | None = None
    expires_at: datetime | None = None  # None: the memory type's ttl, if it has one


@dataclass(frozen=True, slots=True)
class ContextNode:
    """A stored node. ``version`` is 0 for a node that has never been written."""

    account_id: str
    uri: str
    context_type: ContextType
    category: str
    owner_space: str
    abstract: str = ""
    overview: str = ""
    content: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    status: NodeStatus = NodeStatus.ACTIVE
    version: int = 0
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    # when the fact held (None: since always / still), apart from when it was recorded; a
    # superseded fact has valid_to set (see ogmem.commit.supersede)
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    expires_at: datetime | None = None  # archived by the worker after; never searched after

    def valid_at(self, moment: datetime) -> bool:
        """Whether the fact held at ``moment``: valid_from <= moment < valid_to."""
        started = self.valid_from is None or self.valid_from <= moment
        return started and (self.valid_to is None or moment < self.valid_to)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def evolve(self, **changes: Any) -> ContextNode:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class NodeVersion:
    """One row of a node's history: the node as it was after version ``version`` was written."""

    node: ContextNode
    action: str
    written_at: datetime


@dataclass(frozen=True, slots=True)
class WritePlan:
    """A policy's decision for one candidate; pure data, applied by the ContextWriter.

    ``expected_version`` is the version the decision was based on (None: the node must not
    exist yet); the store refuses the write if the node has moved on since.
    """

    action: WriteAction
    target_uri: str
    merged_fields: Mapping[str, Any] = field(default_factory=dict)
    relation_edges: tuple[str, ...] = ()
    reason: str = ""
    expected_version: int | None = None
    existing: ContextNode | None = None


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The outcome of writing one candidate; one per candidate, failures included."""

    candidate: CandidateMemory
    status: WriteStatus
    plan: WritePlan | None = None
    node: ContextNode | None = None
    reason: str = ""
    error: str | None = None
    attempts: int = 0
    retryable: bool = False  # a failure that may pass on a later try (not bad input)

    @property
    def uri(self) -> str | None:
        return self.plan.target_uri if self.plan and self.plan.target_uri else None


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """A durable unit of background work, written in the same transaction as its data."""

    account_id: str
    type: EventType
    uri: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None
    status: EventStatus = EventStatus.PENDING
    attempts: int = 0
    available_at: datetime = field(default_factory=utcnow)
    locked_until: datetime | None = None
    last_error: str | None = None
    created_at: datetime = field(default_factory=utcnow)
    # not stored: written only if no untried pending event of the same account, type and URI
    # exists, because that one reads the current state when it runs and so covers this change
    coalesce: bool = False


@dataclass(frozen=True, slots=True)
class NewNode:
    """A node to write with its outbox events and idempotency fingerprint (bulk writes): a
    creation, or one write of a ``NodeChain``."""

    node: ContextNode
    events: tuple[OutboxEvent, ...]
    fingerprint: str
    action: str = "create"


@dataclass(frozen=True, slots=True)
class NodeChain:
    """Successive writes to one node, applied in memory, stored together: the node as the
    last leaves it, a history row, events and an idempotency record for each.

    ``expected_version`` is the version the first write was based on (None: the node must
    not exist yet); the writes become versions ``expected_version + 1``, ``+ 2``, ...
    """

    expected_version: int | None
    writes: tuple[NewNode, ...]


@dataclass(frozen=True, slots=True)
class AppliedOp:
    """An idempotency record: this fingerprint was applied to ``uri`` at ``version``."""

    account_id: str
    fingerprint: str
    uri: str
    action: str
    version: int
    applied_at: datetime


@dataclass(frozen=True, slots=True)
class IndexRecord:
    """One searchable level of a node: (uri, level) with level 0/1/2 = abstract/overview/content.

    The filter columns are copied from the node so that search never reads nodes to filter.
    """

    account_id: str
    uri: str
    level: int
    text: str
    owner_space: str
    category: str
    context_type: ContextType
    status: NodeStatus
    node_version: int
    # extra words full text indexes beside the text (CJK bigrams: see retrieval/cjk.py)
    terms: str = ""


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """What a search may return: None means no restriction on that column."""

    owner_spaces: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    context_types: tuple[ContextType, ...] | None = None
    statuses: tuple[NodeStatus, ...] | None = (NodeStatus.ACTIVE,)


class SessionStatus(enum.StrEnum):
    OPEN = "open"
    COMMITTING = "committing"
    COMMITTED = "committed"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A message as buffered: ``id`` orders the session, ``tokens`` sizes commit windows."""

    id: int
    message: Message
    tokens: int
    committed: bool


@dataclass(frozen=True, slots=True)
class SessionState:
    """A session's buffer and commit state; what `ogmem sessions` shows."""

    account_id: str
    session_id: str
    user_id: str
    agent_id: str | None
    status: SessionStatus
    attempts: int
    last_error: str | None
    messages: int
    uncommitted_tokens: int
    proposed: int
    written: int
    skipped: int
    failed: int
    llm_tokens: int
    last_reason: str | None
    created_at: datetime
    updated_at: datetime
    committed_at: datetime | None
