"""Engine: the one facade the CLI, the server and Python users talk to."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ogmem.commit.writer import PARALLEL_WORKERS, ContextWriter, own_uri
from ogmem.core import uri
from ogmem.core.models import (
    CandidateMemory,
    ContextNode,
    EventStatus,
    NodeVersion,
    OutboxEvent,
    RequestContext,
    WriteResult,
)
from ogmem.core.ports import DirEntry, LLMClient, Store
from ogmem.schemas.registry import SchemaRegistry
from ogmem.store.sqlite import SqliteStore


class Engine:
    """Wires store, schema registry, LLM and writer.

    Example::

        with Engine.open("memory.sqlite") as engine:
            ctx = RequestContext(account_id="acme", user_id="alice", session_id="s1")
            fact = CandidateMemory(category="preference", routing_key="editor",
                                   abstract="Prefers vim", content="Uses vim daily")
            engine.remember([fact], ctx)
    """

    def __init__(
        self,
        store: Store,
        registry: SchemaRegistry | None = None,
        llm: LLMClient | None = None,
    ) -> None:
        self.store = store
        self.registry = registry or SchemaRegistry.load()
        self.llm = llm
        self.writer = ContextWriter(store, self.registry, llm)

    @classmethod
    def open(
        cls,
        path: str | Path = ":memory:",
        *,
        llm: LLMClient | None = None,
        schema_dirs: Sequence[str | Path] = (),
    ) -> Engine:
        """Open (creating and migrating if needed) the SQLite store at ``path``."""
        return cls(SqliteStore(path), SchemaRegistry.load(schema_dirs), llm)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- writes -------------------------------------------------------------------------------

    def remember(
        self,
        candidates: Sequence[CandidateMemory],
        ctx: RequestContext,
        *,
        parallel: bool = False,
        max_workers: int = PARALLEL_WORKERS,
    ) -> list[WriteResult]:
        """Write candidates (no extraction); one result per candidate, in order."""
        if parallel:
            return self.writer.write_candidates_parallel(candidates, ctx, max_workers)
        return self.writer.write_candidates(candidates, ctx)

    def archive(
        self, node_uri: str, ctx: RequestContext, expected_version: int | None = None
    ) -> ContextNode:
        return self.writer.archive(node_uri, ctx, expected_version)

    def delete(
        self, node_uri: str, ctx: RequestContext, expected_version: int | None = None
    ) -> None:
        self.writer.delete(node_uri, ctx, expected_version)

    def move(
        self, src: str, dst: str, ctx: RequestContext, expected_version: int | None = None
    ) -> ContextNode:
        return self.writer.move(src, dst, ctx, expected_version)

    # -- reads --------------------------------------------------------------------------------

    def read(self, node_uri: str, ctx: RequestContext) -> ContextNode:
        return self.store.read_node(ctx.account_id, own_uri(node_uri, ctx))

    def ls(self, node_uri: str | None, ctx: RequestContext) -> list[DirEntry]:
        return self.store.list_children(ctx.account_id, self._root_or(node_uri, ctx))

    def tree(self, node_uri: str | None, ctx: RequestContext) -> list[ContextNode]:
        return self.store.tree(ctx.account_id, self._root_or(node_uri, ctx))

    def history(self, node_uri: str, ctx: RequestContext) -> list[NodeVersion]:
        return self.store.history(ctx.account_id, own_uri(node_uri, ctx))

    def outbox(
        self, ctx: RequestContext, status: EventStatus | None = None, limit: int = 100
    ) -> list[OutboxEvent]:
        return self.store.list_events(ctx.account_id, status, limit)

    def outbox_counts(self, ctx: RequestContext) -> dict[str, int]:
        return self.store.outbox_counts(ctx.account_id)

    @staticmethod
    def _root_or(node_uri: str | None, ctx: RequestContext) -> str:
        return own_uri(node_uri, ctx) if node_uri else str(uri.build(ctx.account_id))
