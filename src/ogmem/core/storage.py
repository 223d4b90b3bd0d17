"""The storage ports: one narrow port per store concern, and the Backend that bundles them.

Each port stores and reads rows; none decides anything. The rules (versions and timestamps,
which outbox events coalesce, who owns a session, message ids, key generation) live above
them, written once (``ogmem.nodes``, ``ogmem.outbox``, ``ogmem.session.store``, ``ogmem.keys``),
so every backend (``ogmem.store``: SQLite, PostgreSQL) only runs SQL and translates its
driver's errors into ours.

Every call of a port made inside ``UnitOfWork.transaction()`` (in the same thread) joins that
transaction; outside one, each call is its own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ogmem.core.models import (
    AppliedOp,
    ContextNode,
    EventStatus,
    NodeVersion,
    OutboxEvent,
)
from ogmem.core.storage_dreams import DreamStore
from ogmem.core.storage_erase import EraseStore as EraseStore
from ogmem.core.storage_erase import UriSpan as UriSpan
from ogmem.core.storage_index import ExportedRecord as ExportedRecord
from ogmem.core.storage_index import IndexChanges as IndexChanges
from ogmem.core.storage_index import IndexedVector as IndexedVector
from ogmem.core.storage_index import IndexStore as IndexStore
from ogmem.core.storage_index import Recall as Recall
from ogmem.core.storage_index import RecordHit as RecordHit
from ogmem.core.storage_index import StoredRecord as StoredRecord
from ogmem.core.storage_index import Vector as Vector
from ogmem.core.storage_index import VectorIndex as VectorIndex
from ogmem.core.storage_index import VectorIndexFactory as VectorIndexFactory
from ogmem.core.storage_index import best_first as best_first
from ogmem.core.storage_sessions import KeyRecord as KeyRecord
from ogmem.core.storage_sessions import KeyStore as KeyStore
from ogmem.core.storage_sessions import NewMessage as NewMessage
from ogmem.core.storage_sessions import SessionStore as SessionStore


class UnitOfWork(Protocol):
    """Transactions that every port joins, and the store's own health."""

    def transaction(self) -> AbstractContextManager[None]:
        """All port calls of this thread inside commit together or not at all; nested, a
        savepoint (it fails alone, its enclosing transaction goes on)."""
        ...

    def group_commit(self) -> AbstractContextManager[None]:
        """Many transactions of this thread under one commit; each stays atomic on its own."""
        ...

    def check_writable(self) -> None:
        """Raise errors.StoreError when the store cannot take writes (disk full, ...)."""
        ...

    def describe(self) -> str:
        """Where the data lives, for people (a file path, a database without its password)."""
        ...

    def schema_version(self) -> int:
        """The last migration applied."""
        ...

    def close(self) -> None: ...


class NodeStore(Protocol):
    """Rows of nodes, their versions and the idempotency records."""

    def find(self, account_id: str, uri: str) -> ContextNode | None: ...

    def find_many(self, account_id: str, uris: Sequence[str]) -> dict[str, ContextNode]: ...

    def version_of(self, account_id: str, uri: str) -> int | None: ...

    def subtree(self, account_id: str, uri: str) -> list[ContextNode]:
        """The node at ``uri`` and every node below it, by URI."""
        ...

    def subtree_counts(self, account_id: str, uri: str) -> list[tuple[str, str, int]]:
        """(category, status, count) of the non-directory nodes at and below ``uri``."""
        ...

    def subtree_page(
        self, account_id: str, uri: str, category: str, status: str, limit: int
    ) -> list[ContextNode]:
        """The first ``limit`` nodes at and below ``uri`` by URI; "" filters nothing."""
        ...

    def child_directories(self, account_id: str, uri: str) -> list[str]:
        """The names of the directories directly below ``uri``, sorted."""
        ...

    def child_names(self, account_id: str, uri: str) -> list[tuple[str, bool]]:
        """(name, is_dir) of the entries directly below ``uri``, a name once per kind."""
        ...

    def direct_children(self, account_id: str, uri: str) -> list[ContextNode]: ...

    def active_children(
        self, account_id: str, uri: str, limit: int
    ) -> tuple[int, list[ContextNode]]: ...

    def history(self, account_id: str, uri: str) -> list[NodeVersion]: ...

    def applied_among(self, account_id: str, fingerprints: Sequence[str]) -> set[str]: ...

    def find_applied(self, account_id: str, fingerprint: str) -> AppliedOp | None: ...

    def insert(self, nodes: Sequence[ContextNode]) -> None:
        """Raises errors.ConcurrentModificationError when a URI is taken."""
        ...

    def update(self, node: ContextNode, expected_version: int) -> bool:
        """Write ``node`` over the row at ``expected_version``; False if there is none."""
        ...

    def update_many(self, updates: Sequence[tuple[ContextNode, int]]) -> int:
        """``update`` for each (node, expected_version) pair; how many rows were written (a
        pair whose row moved on writes nothing)."""
        ...

    def delete(self, account_id: str, uri: str, expected_version: int) -> bool: ...

    def rename(self, account_id: str, src: str, dst: str, expected_version: int) -> bool:
        """Give the row at ``expected_version`` the URI ``dst`` (nothing else changes)."""
        ...

    def record_versions(self, account_id: str, uris: Sequence[str], action: str) -> None:
        """Copy the current rows of ``uris`` into their history, as written by ``action``."""
        ...

    def insert_history(self, versions: Sequence[NodeVersion]) -> None:
        """Store history rows given whole (writes applied in memory before they are stored).

        Raises:
            errors.ConcurrentModificationError: a row of that URI and version exists.
        """
        ...

    def move_history(self, account_id: str, src: str, dst: str) -> None: ...

    def delete_history(self, account_id: str, uri: str) -> None: ...

    def record_applied(self, ops: Sequence[AppliedOp]) -> None:
        """Raises errors.DuplicateOperation when a fingerprint was applied already."""
        ...

    def forget_applied(self, account_id: str, uri: str) -> None:
        """Drop the idempotency records of ``uri`` (its node was deleted)."""
        ...

    def move_applied(self, account_id: str, src: str, dst: str) -> None:
        """Point the idempotency records of ``src`` at ``dst`` (its node was moved)."""
        ...

    def account_ids(self) -> list[str]:
        """Every account with nodes (maintenance walks them; each step filters on one)."""
        ...

    def expired(self, account_id: str, now: datetime, limit: int) -> list[tuple[str, int]]:
        """(uri, version) of up to ``limit`` active nodes whose ``expires_at`` <= ``now``."""
        ...

    # -- bulk export and import (``ogmem copy``) ------------------------------------------

    def export_nodes(self, account_id: str, after_uri: str, limit: int) -> list[ContextNode]:
        """The account's nodes with a URI after ``after_uri``, by URI (a page of a walk)."""
        ...

    def history_of_many(self, account_id: str, uris: Sequence[str]) -> dict[str, list[NodeVersion]]:
        """Every history row of the URIs, by version."""
        ...

    def import_versions(self, versions: Sequence[NodeVersion]) -> None:
        """Store history rows as they are; a row whose (uri, version) exists is left alone."""
        ...

    def export_applied(self, account_id: str, after: str, limit: int) -> list[AppliedOp]:
        """The account's idempotency records with a fingerprint after ``after``, in order."""
        ...


class OutboxStore(Protocol):
    """Rows of the outbox."""

    def insert(self, events: Sequence[OutboxEvent]) -> None: ...

    def insert_unless_pending(self, events: Sequence[OutboxEvent]) -> None:
        """Insert each event unless an untried pending event of its account, type and URI
        exists (that one reads the current state when it runs, so it covers this one)."""
        ...

    def claim(
        self, worker_id: str, *, now: datetime, until: datetime, limit: int, eager: bool
    ) -> list[OutboxEvent]: ...

    def renew(self, worker_id: str, until: datetime) -> int: ...

    def finish(self, account_id: str, ids: Sequence[int], note: str | None) -> None: ...

    def retry(self, event: OutboxEvent, error: str, available_at: datetime) -> None: ...

    def defer(self, event: OutboxEvent, available_at: datetime, note: str) -> None: ...

    def dead_letter(self, event: OutboxEvent, error: str, attempts: int) -> None: ...

    def requeue_dead(self, account_id: str, event_id: int, available_at: datetime) -> bool:
        """Put a dead-lettered event back to pending; False when no such DLQ event exists."""
        ...

    def latest_pending_id(self, account_id: str, uri: str, event_type: str) -> int: ...

    def absorb(
        self, account_id: str, uri: str, event_type: str, up_to_id: int, note: str
    ) -> int: ...

    def purge_done(self, before: datetime, limit: int) -> int: ...

    def export_events(self, account_id: str, after_id: int, limit: int) -> list[OutboxEvent]:
        """The account's unfinished events (pending, processing, DLQ) after ``after_id``."""
        ...

    def has_event(self, event: OutboxEvent) -> bool:
        """Whether the account has an event of this type, URI and creation time."""
        ...

    def import_event(self, event: OutboxEvent) -> bool:
        """Store an event with its status, attempts and error, unclaimed, unless the account
        has an event of the same type, URI and creation time; whether it was stored."""
        ...

    def oldest_pending(self, account_id: str) -> datetime | None: ...

    def counts(self, account_id: str) -> dict[str, int]: ...

    def list_events(
        self, account_id: str, status: EventStatus | None, limit: int
    ) -> list[OutboxEvent]: ...


@dataclass(frozen=True, slots=True)
class Backend:
    """Every store concern of one backend, over one unit of work. ``open_backend(url)`` in
    ``ogmem.store`` builds it."""

    uow: UnitOfWork
    nodes: NodeStore
    outbox: OutboxStore
    index: IndexStore
    sessions: SessionStore
    keys: KeyStore
    dreams: DreamStore
    vector_index: VectorIndexFactory
    erase: EraseStore
    wake_on_events: Callable[[Callable[[], None]], Callable[[], None]] | None = None
    """Given a callback, call it whenever another process writes outbox events (PostgreSQL
    LISTEN); returns a function that stops listening. None: no cross-process wake-ups."""
    default_vector_index: str = "exact"
    """The vector index kind an Engine uses when none is named."""
    searches_in_server: bool = False
    """The keyword search runs in a database server: a search sends it before it searches
    vectors, so the two overlap. In-process searches (SQLite, numpy) share this process's
    cores and run one after the other."""

    def close(self) -> None:
        self.uow.close()
