"""The narrow ports the logic talks to; adapters live beside their component.

Store: the nodes as the write pipeline sees them (versions, outbox, idempotency records),
    implemented once by ``ogmem.nodes.Nodes`` over the storage ports (``core.storage``).
Outbox: the worker's side of the outbox (``ogmem.outbox.OutboxManager``).
LLMClient: chat completion with optional tools / JSON schema.
Embedder: texts to vectors, and token counts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from ogmem.core.models import (
    AppliedOp,
    ContextNode,
    EventStatus,
    EventType,
    NewNode,
    NodeChain,
    NodeVersion,
    OutboxEvent,
)


@dataclass(frozen=True, slots=True)
class DirEntry:
    """One entry of a directory listing: a node, a directory (URI prefix), or both."""

    name: str
    uri: str
    is_dir: bool
    node: ContextNode | None = None


class Store(Protocol):
    """Durable state of every account. Every method is scoped by ``account_id``.

    Writes are atomic: the node row, its version row, its outbox events and its idempotency
    record commit together or not at all. ``expected_version`` None means "must not exist".
    """

    def read_node(self, account_id: str, uri: str) -> ContextNode: ...

    def find_node(self, account_id: str, uri: str) -> ContextNode | None: ...

    def find_nodes(self, account_id: str, uris: Sequence[str]) -> dict[str, ContextNode]: ...

    def exists(self, account_id: str, uri: str) -> bool: ...

    def list_children(self, account_id: str, uri: str) -> list[DirEntry]: ...

    def applied_fingerprints(self, account_id: str, fingerprints: Sequence[str]) -> set[str]:
        """Those of ``fingerprints`` that have an idempotency record (one query)."""
        ...

    def create_nodes_with_outbox(self, new_nodes: Sequence[NewNode]) -> list[ContextNode]:
        """Create every node at version 1 with its events and idempotency record, all or
        nothing (one transaction, or a savepoint inside a group commit).

        Raises:
            errors.ConcurrentModificationError: a node already exists at one of the URIs.
            errors.DuplicateOperation: one of the fingerprints was applied already.
        """
        ...

    def write_chains(self, chains: Sequence[NodeChain]) -> list[list[ContextNode]]:
        """Write each chain (successive writes to one node, applied in memory): the node as
        its last write leaves it, a version in the history, events and an idempotency
        record per write; all or nothing. Returns each write's stored node, by chain.

        Raises:
            errors.ConcurrentModificationError: a new node's URI is taken, or a node is no
                longer at the version its chain expects.
            errors.DuplicateOperation: one of the fingerprints was applied already.
        """
        ...

    def active_children(
        self, account_id: str, uri: str, limit: int
    ) -> tuple[int, list[ContextNode]]:
        """How many active memories (no directory summaries) sit directly under ``uri``, and
        the ``limit`` most recently updated of them, newest first."""
        ...

    def tree(self, account_id: str, uri: str) -> list[ContextNode]: ...

    def write_node_with_outbox(
        self,
        node: ContextNode,
        events: Sequence[OutboxEvent],
        *,
        expected_version: int | None,
        fingerprint: str | None = None,
        action: str = "write",
    ) -> ContextNode: ...

    def archive_node(
        self,
        account_id: str,
        uri: str,
        *,
        expected_version: int,
        events: Sequence[OutboxEvent],
        archived_at: datetime,
        fingerprint: str | None = None,
        action: str = "archive",
    ) -> ContextNode: ...

    def delete_node(
        self,
        account_id: str,
        uri: str,
        *,
        expected_version: int,
        events: Sequence[OutboxEvent],
        fingerprint: str | None = None,
    ) -> None: ...

    def move_node(
        self,
        account_id: str,
        src: str,
        dst: str,
        *,
        expected_version: int,
        events: Sequence[OutboxEvent],
    ) -> ContextNode: ...

    def history(self, account_id: str, uri: str) -> list[NodeVersion]: ...

    def find_applied(self, account_id: str, fingerprint: str) -> AppliedOp | None: ...

    def list_events(
        self, account_id: str, status: EventStatus | None = None, limit: int = 100
    ) -> list[OutboxEvent]: ...

    def outbox_counts(self, account_id: str) -> dict[str, int]: ...

    def expired(self, account_id: str, now: datetime, limit: int) -> list[tuple[str, int]]:
        """(uri, version) of up to ``limit`` active nodes whose ``expires_at`` <= ``now``."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Writes of this thread inside commit together or not at all (nested: a savepoint)."""
        ...

    def group_commit(self) -> AbstractContextManager[None]:
        """Many writes of this thread under one commit; each write stays atomic on its own."""
        ...

    def check_writable(self) -> None:
        """Raise errors.StoreError when the store cannot take writes (disk full, ...)."""
        ...


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call from the model. ``arguments`` is None when the model sent invalid JSON."""

    name: str
    arguments: Mapping[str, Any] | None
    raw_arguments: str = ""
    id: str = ""


@dataclass(frozen=True, slots=True)
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class LLMResponse:
    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: TokenUsage = field(default_factory=TokenUsage)


ChatMessage = Mapping[str, Any]
"""An OpenAI-style chat message: ``{"role": "user", "content": "..."}``."""


class LLMClient(Protocol):
    """Chat completion. Raises only ``errors.LLMError`` subclasses."""

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        temperature: float = 0.0,
    ) -> LLMResponse: ...


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; counts tokens for budgets.

    ``embed`` returns an array of shape (len(texts), dimensions); an empty input gives an
    array of shape (0, dimensions). Raises only ``errors.OgmemError`` subclasses.
    """

    @property
    def model_id(self) -> str: ...

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]: ...

    def count_tokens(self, text: str) -> int: ...


@runtime_checkable
class PartEmbedder(Protocol):
    """An embedder that embeds stretches of a text as read within the whole (late chunking):
    for each text, one vector per ``(start, end)`` character span, pooled from one run of the
    model over the text. Optional: the index embeds a stretch alone where an embedder lacks
    it (``index/records.Part``)."""

    def embed_parts(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> list[npt.NDArray[np.float32]]: ...


@runtime_checkable
class RunByRunPartEmbedder(PartEmbedder, Protocol):
    """A PartEmbedder that hands its vectors over one model run at a time (each run's text
    indexes and their spans' vectors), so that the index writes what is complete while the
    model reads on. Optional: the index waits for the whole call where an embedder lacks it."""

    def embed_parts_by_run(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> Iterator[tuple[list[int], list[npt.NDArray[np.float32]]]]: ...


@runtime_checkable
class BatchTokenCounter(Protocol):
    """An embedder that counts the tokens of many texts in one call, each as ``count_tokens``
    would. Optional: the session service counts text by text where an embedder lacks it
    (``session.service.token_counts``)."""

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]: ...


class Outbox(Protocol):
    """The worker's side of the outbox: claims under a lease, then finish / retry / DLQ."""

    def claim(
        self, worker_id: str, *, now: datetime, lease: timedelta, limit: int, eager: bool = False
    ) -> list[OutboxEvent]:
        """Take due events (and events whose lease ended: that unfinished claim counts as an
        attempt) under a lease of ``lease``, in id order."""
        ...

    def latest_pending_event_id(self, account_id: str, uri: str, event_type: EventType) -> int: ...

    def absorb(
        self, account_id: str, uri: str, event_type: EventType, up_to_id: int, note: str
    ) -> int: ...

    def finish(self, events: Sequence[OutboxEvent], note: str | None = None) -> None: ...

    def retry(self, event: OutboxEvent, error: str, available_at: datetime) -> None: ...

    def defer(self, event: OutboxEvent, available_at: datetime, note: str) -> None:
        """Put the event back until ``available_at``, no attempt counted: it waits for
        something held elsewhere, it did not fail."""
        ...

    def renew(self, worker_id: str, *, now: datetime, lease: timedelta) -> int:
        """Extend the lease of the events ``worker_id`` is processing (its heartbeat)."""
        ...

    def dead_letter(self, event: OutboxEvent, error: str, attempts: int) -> None:
        """Park the event in the DLQ with its error, after ``attempts`` tries in all."""
        ...

    def enqueue(self, events: Sequence[OutboxEvent]) -> None: ...

    def purge_done(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` finished (DONE) events written before ``before``, of every
        account; DLQ and pending events are never purged. Returns how many went."""
        ...

    def stats(self, account_id: str) -> dict[str, float | None]: ...

    def oldest_pending_age(self, account_id: str, now: datetime | None = None) -> float | None: ...

    def list_events(
        self, account_id: str, status: EventStatus | None = None, limit: int = 100
    ) -> list[OutboxEvent]: ...

    def account_ids(self) -> list[str]: ...
