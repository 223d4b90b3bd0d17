"""The Engine's read side: nodes, directories, trees and history, within the caller's
account (every URI is checked to be the request's own)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ogmem.commit.writer import own_uri
from ogmem.core import uri
from ogmem.core.models import ContextNode, NodeStatus, NodeVersion, RequestContext, as_utc
from ogmem.core.ports import DirEntry
from ogmem.retrieval import validity

if TYPE_CHECKING:
    from ogmem.nodes import Nodes


class EngineReads:
    store: Nodes

    def read(
        self, node_uri: str, ctx: RequestContext, *, as_of: datetime | None = None
    ) -> ContextNode:
        """The node at ``node_uri``; with ``as_of``, the fact it held then (validity.py)."""
        target = own_uri(node_uri, ctx)
        if as_of is None:
            return self.store.read_node(ctx.account_id, target)
        return validity.read_as_of(self.store, ctx.account_id, target, as_utc(as_of, "as_of"))

    def ls(self, node_uri: str | None, ctx: RequestContext) -> list[DirEntry]:
        return self.store.list_children(ctx.account_id, self._root_or(node_uri, ctx))

    def tree(self, node_uri: str | None, ctx: RequestContext) -> list[ContextNode]:
        return self.store.tree(ctx.account_id, self._root_or(node_uri, ctx))

    def tree_counts(self, node_uri: str | None, ctx: RequestContext) -> dict[str, dict[str, int]]:
        """category -> status -> count of the memories below ``node_uri`` (one grouped read)."""
        return self.store.tree_counts(ctx.account_id, self._root_or(node_uri, ctx))

    def tree_page(
        self,
        node_uri: str | None,
        ctx: RequestContext,
        *,
        category: str | None = None,
        status: NodeStatus | None = None,
        limit: int = 200,
    ) -> list[ContextNode]:
        """The first ``limit`` nodes below ``node_uri`` by URI (``tree`` reads them all)."""
        root = self._root_or(node_uri, ctx)
        state = status.value if status else ""
        return self.store.tree_page(ctx.account_id, root, category or "", state, limit)

    def subdirectories(self, node_uri: str | None, ctx: RequestContext) -> list[DirEntry]:
        """The directories directly below ``node_uri`` with their summaries (``ls`` without
        the other nodes, which may be many)."""
        return self.store.subdirectories(ctx.account_id, self._root_or(node_uri, ctx))

    def history(self, node_uri: str, ctx: RequestContext) -> list[NodeVersion]:
        return self.store.history(ctx.account_id, own_uri(node_uri, ctx))

    @staticmethod
    def _root_or(node_uri: str | None, ctx: RequestContext) -> str:
        return own_uri(node_uri, ctx) if node_uri else str(uri.build(ctx.account_id))
