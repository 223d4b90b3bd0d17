"""Nodes: the Store the write pipeline, the worker and retrieval talk to, over the storage
ports of any backend. The rules of a write live here, once: the version bump and the
timestamps, the history row, the outbox events (and which of them coalesce), the idempotency
record, all in one transaction; archive as an update that says when, delete with its
history, move with its history.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime

from ogmem.core import errors
from ogmem.core.models import (
    AppliedOp,
    ContextNode,
    EventStatus,
    NewNode,
    NodeChain,
    NodeStatus,
    NodeVersion,
    OutboxEvent,
    utcnow,
)
from ogmem.core.ports import DirEntry
from ogmem.core.storage import NodeStore, OutboxStore, UnitOfWork
from ogmem.outbox import store_events


def _stamped(chain: NodeChain, now: datetime) -> list[ContextNode]:
    """The chain's writes with their versions and timestamps, as write_node_with_outbox
    would give them one by one (a new node's creation time is its first write's)."""
    base = chain.expected_version or 0
    return [
        write.node.evolve(
            version=base + step,
            updated_at=now,
            created_at=now if chain.expected_version is None else write.node.created_at,
        )
        for step, write in enumerate(chain.writes, start=1)
    ]


class Nodes:
    """The Store port (``ogmem.core.ports.Store``) over a backend's storage ports."""

    def __init__(self, uow: UnitOfWork, nodes: NodeStore, outbox: OutboxStore) -> None:
        self._uow = uow
        self._nodes = nodes
        self._outbox = outbox

    # -- reads ------------------------------------------------------------------------------

    def find_node(self, account_id: str, uri: str) -> ContextNode | None:
        return self._nodes.find(account_id, uri)

    def find_nodes(self, account_id: str, uris: Sequence[str]) -> dict[str, ContextNode]:
        return self._nodes.find_many(account_id, uris)

    def read_node(self, account_id: str, uri: str) -> ContextNode:
        node = self._nodes.find(account_id, uri)
        if node is None:
            raise errors.NotFound(f"no node at {uri}")
        return node

    def exists(self, account_id: str, uri: str) -> bool:
        return self._nodes.version_of(account_id, uri) is not None

    def tree(self, account_id: str, uri: str) -> list[ContextNode]:
        return self._nodes.subtree(account_id, uri)

    def tree_counts(self, account_id: str, uri: str) -> dict[str, dict[str, int]]:
        """category -> status -> how many memories at and below ``uri`` (summaries aside)."""
        counts: dict[str, dict[str, int]] = {}
        for category, status, count in self._nodes.subtree_counts(account_id, uri):
            counts.setdefault(category, {})[status] = count
        return counts

    def tree_page(
        self, account_id: str, uri: str, category: str, status: str, limit: int
    ) -> list[ContextNode]:
        return self._nodes.subtree_page(account_id, uri, category, status, limit)

    def subdirectories(self, account_id: str, uri: str) -> list[DirEntry]:
        """The directories directly below ``uri``, each with its summary node if it has one;
        unlike ``list_children`` it reads no other node (a directory may hold 100,000)."""
        base = uri.rstrip("/") + "/"
        names = self._nodes.child_directories(account_id, uri)
        summaries = self._nodes.find_many(account_id, [base + n for n in names])
        return [DirEntry(n, base + n, True, summaries.get(base + n)) for n in names]

    def list_children(self, account_id: str, uri: str) -> list[DirEntry]:
        """The entries directly below ``uri``: a name is a node, a directory, or both."""
        is_dir: dict[str, bool] = {}
        for name, below in self._nodes.child_names(account_id, uri):
            is_dir[name] = is_dir.get(name, False) or below
        base = uri.rstrip("/") + "/"
        nodes = {n.uri: n for n in self._nodes.direct_children(account_id, uri)}
        return [
            DirEntry(name=name, uri=base + name, is_dir=dir_, node=nodes.get(base + name))
            for name, dir_ in sorted(is_dir.items())
        ]

    def active_children(
        self, account_id: str, uri: str, limit: int
    ) -> tuple[int, list[ContextNode]]:
        return self._nodes.active_children(account_id, uri, limit)

    def history(self, account_id: str, uri: str) -> list[NodeVersion]:
        return self._nodes.history(account_id, uri)

    def applied_fingerprints(self, account_id: str, fingerprints: Sequence[str]) -> set[str]:
        return self._nodes.applied_among(account_id, fingerprints)

    def find_applied(self, account_id: str, fingerprint: str) -> AppliedOp | None:
        return self._nodes.find_applied(account_id, fingerprint)

    def list_events(
        self, account_id: str, status: EventStatus | None = None, limit: int = 100
    ) -> list[OutboxEvent]:
        return self._outbox.list_events(account_id, status, limit)

    def outbox_counts(self, account_id: str) -> dict[str, int]:
        return self._outbox.counts(account_id)

    # -- writes -----------------------------------------------------------------------------

    def write_node_with_outbox(
        self,
        node: ContextNode,
        events: Sequence[OutboxEvent],
        *,
        expected_version: int | None,
        fingerprint: str | None = None,
        action: str = "write",
    ) -> ContextNode:
        now = utcnow()
        with self._uow.transaction():
            if expected_version is None:
                stored = node.evolve(version=1, created_at=now, updated_at=now)
                self._nodes.insert([stored])
            else:
                stored = node.evolve(version=expected_version + 1, updated_at=now)
                self._update(stored, expected_version)
            self._finish_write(stored, events, fingerprint, action, now)
        return stored

    def create_nodes_with_outbox(self, new_nodes: Sequence[NewNode]) -> list[ContextNode]:
        chains = [NodeChain(None, (new,)) for new in new_nodes]
        return [written[0] for written in self.write_chains(chains)]

    def write_chains(self, chains: Sequence[NodeChain]) -> list[list[ContextNode]]:
        """Every chain's node as its last write leaves it (inserted, or updated over the
        expected version), a history row, events and an idempotency record per write: all
        or nothing, in a few statements whatever the number of chains. Returns each write's
        node as stored, chain by chain.

        Raises:
            errors.ConcurrentModificationError: a new node's URI is taken, or a node moved
                on from its expected version.
            errors.DuplicateOperation: one of the fingerprints was applied already.
        """
        now = utcnow()
        stored = [_stamped(chain, now) for chain in chains]
        pairs = list(zip(chains, stored, strict=True))
        updates = [
            (nodes[-1], c.expected_version) for c, nodes in pairs if c.expected_version is not None
        ]
        with self._uow.transaction():
            self._nodes.insert([nodes[-1] for c, nodes in pairs if c.expected_version is None])
            if self._nodes.update_many(updates) != len(updates):
                raise errors.ConcurrentModificationError(f"one of {len(updates)} nodes", None, None)
            self._nodes.insert_history(
                [
                    NodeVersion(node, write.action, now)
                    for chain, nodes in pairs
                    for write, node in zip(chain.writes, nodes, strict=True)
                ]
            )
            store_events(self._outbox, [e for c in chains for w in c.writes for e in w.events])
            self._nodes.record_applied(
                [
                    AppliedOp(node.account_id, write.fingerprint, node.uri, write.action,
                              node.version, now)
                    for chain, nodes in pairs
                    for write, node in zip(chain.writes, nodes, strict=True)
                    if write.fingerprint
                ]
            )  # fmt: skip
        return stored

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
    ) -> ContextNode:
        """Soft delete: status ARCHIVED and ``archived_at`` in the metadata, a new version."""
        with self._uow.transaction():
            self._check_not_applied(account_id, fingerprint)
            node = self._nodes.find(account_id, uri)
            if node is None or node.version != expected_version:
                actual = None if node is None else node.version
                raise errors.ConcurrentModificationError(uri, expected_version, actual)
            archived = node.evolve(
                status=NodeStatus.ARCHIVED,
                metadata={**node.metadata, "archived_at": archived_at.isoformat()},
                version=expected_version + 1,
                updated_at=archived_at,
            )
            self._update(archived, expected_version)
            self._finish_write(archived, events, fingerprint, action, archived_at)
        return archived

    def delete_node(
        self,
        account_id: str,
        uri: str,
        *,
        expected_version: int,
        events: Sequence[OutboxEvent],
        fingerprint: str | None = None,
    ) -> None:
        """Removal, history included (delete means forget; archive is the reversible one).

        The idempotency records of the node go too: they say "already applied to this node",
        and with the node gone the same memory must be writable again (a delivery retried
        after a delete then writes it anew, as a new remember would)."""
        with self._uow.transaction():
            self._check_not_applied(account_id, fingerprint)
            if not self._nodes.delete(account_id, uri, expected_version):
                actual = self._nodes.version_of(account_id, uri)
                raise errors.ConcurrentModificationError(uri, expected_version, actual)
            self._nodes.delete_history(account_id, uri)
            self._nodes.forget_applied(account_id, uri)
            store_events(self._outbox, events)
            if fingerprint:
                applied = AppliedOp(
                    account_id, fingerprint, uri, "delete", expected_version, utcnow()
                )
                self._nodes.record_applied([applied])

    def move_node(
        self,
        account_id: str,
        src: str,
        dst: str,
        *,
        expected_version: int,
        events: Sequence[OutboxEvent],
    ) -> ContextNode:
        """A new URI for the node, its history following it; the destination must be free."""
        now = utcnow()
        with self._uow.transaction():
            if self._nodes.version_of(account_id, dst) is not None:
                raise errors.AlreadyExists(f"a node already exists at {dst}")
            if not self._nodes.rename(account_id, src, dst, expected_version):
                actual = self._nodes.version_of(account_id, src)
                raise errors.ConcurrentModificationError(src, expected_version, actual)
            moved = self.read_node(account_id, dst)
            moved = moved.evolve(version=expected_version + 1, updated_at=now)
            self._update(moved, expected_version)
            self._nodes.move_history(account_id, src, dst)
            self._nodes.move_applied(account_id, src, dst)  # a later delete must find them
            self._nodes.record_versions(account_id, [dst], "move")
            store_events(self._outbox, events)
        return moved

    def _update(self, node: ContextNode, expected_version: int) -> None:
        if not self._nodes.update(node, expected_version):
            actual = self._nodes.version_of(node.account_id, node.uri)
            raise errors.ConcurrentModificationError(node.uri, expected_version, actual)

    def _finish_write(
        self,
        node: ContextNode,
        events: Sequence[OutboxEvent],
        fingerprint: str | None,
        action: str,
        now: datetime,
    ) -> None:
        """The rest of every write's transaction: history row, events, idempotency record
        (a fingerprint applied already fails here and rolls the whole write back)."""
        self._nodes.record_versions(node.account_id, [node.uri], action)
        store_events(self._outbox, events)
        if fingerprint:
            applied = AppliedOp(node.account_id, fingerprint, node.uri, action, node.version, now)
            self._nodes.record_applied([applied])

    def _check_not_applied(self, account_id: str, fingerprint: str | None) -> None:
        if fingerprint and self._nodes.find_applied(account_id, fingerprint) is not None:
            raise errors.DuplicateOperation(fingerprint)

    def expired(self, account_id: str, now: datetime, limit: int) -> list[tuple[str, int]]:
        return self._nodes.expired(account_id, now, limit)

    def account_ids(self) -> list[str]:
        return self._nodes.account_ids()

    # -- the unit of work -------------------------------------------------------------------

    def transaction(self) -> AbstractContextManager[None]:
        return self._uow.transaction()

    def group_commit(self) -> AbstractContextManager[None]:
        return self._uow.group_commit()

    def check_writable(self) -> None:
        self._uow.check_writable()
