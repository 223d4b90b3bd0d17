"""The narrow ports the logic talks to; adapters live beside their component.

Store: the durable state (nodes, their versions, the outbox, idempotency records).
LLMClient: chat completion with optional tools / JSON schema.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ogmem.core.models import AppliedOp, ContextNode, EventStatus, NodeVersion, OutboxEvent


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

    def exists(self, account_id: str, uri: str) -> bool: ...

    def list_children(self, account_id: str, uri: str) -> list[DirEntry]: ...

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

    def close(self) -> None: ...


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
