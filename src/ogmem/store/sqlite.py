"""SqliteStore: the embedded default store (one file, WAL; ``:memory:`` for tests): nodes,
their versions, outbox events and idempotency records, on a SqliteDatabase."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ogmem.core import errors
from ogmem.core.models import (
    AppliedOp,
    ContextNode,
    EventStatus,
    EventType,
    NewNode,
    NodeVersion,
    OutboxEvent,
    utcnow,
)
from ogmem.core.ports import DirEntry
from ogmem.store import rows
from ogmem.store.sqlite_db import SqliteDatabase


def _range(uri: str) -> dict[str, Any]:
    """Bounds of every URI strictly below ``uri``, for an index range scan ('0' follows '/')."""
    prefix = uri.rstrip("/")
    return {"lower": prefix + "/", "upper": prefix + "0", "prefix_length": len(prefix) + 1}


class SqliteStore(SqliteDatabase):
    """The Store port on SQLite. See ``ogmem.core.ports.Store`` for the contract."""

    def _current_version(self, conn: sqlite3.Connection, account_id: str, uri: str) -> int | None:
        row = self.run(conn, "node_version", account_id=account_id, uri=uri).fetchone()
        return None if row is None else int(row["version"])

    # -- reads --------------------------------------------------------------------------------

    def find_node(self, account_id: str, uri: str) -> ContextNode | None:
        row = self.fetch_one("read_node", account_id=account_id, uri=uri)
        return None if row is None else rows.node_from_row(row)

    def find_nodes(self, account_id: str, uris: Sequence[str]) -> dict[str, ContextNode]:
        """The nodes that exist among ``uris``, by URI (one query, for batch work)."""
        found = self.fetch_all("read_nodes", account_id=account_id, uris=json.dumps(list(uris)))
        return {row["uri"]: rows.node_from_row(row) for row in found}

    def read_node(self, account_id: str, uri: str) -> ContextNode:
        node = self.find_node(account_id, uri)
        if node is None:
            raise errors.NotFound(f"no node at {uri}")
        return node

    def exists(self, account_id: str, uri: str) -> bool:
        return self.fetch_one("node_version", account_id=account_id, uri=uri) is not None

    def tree(self, account_id: str, uri: str) -> list[ContextNode]:
        found = self.fetch_all("subtree", account_id=account_id, uri=uri.rstrip("/"), **_range(uri))
        return [rows.node_from_row(row) for row in found]

    def list_children(self, account_id: str, uri: str) -> list[DirEntry]:
        bounds = _range(uri)
        names = self.fetch_all("child_names", account_id=account_id, **bounds)
        nodes = {
            n.uri: n
            for n in map(
                rows.node_from_row,
                self.fetch_all("direct_children", account_id=account_id, **bounds),
            )
        }
        merged: dict[str, bool] = {}
        for row in names:
            merged[row["name"]] = merged.get(row["name"], False) or bool(row["is_dir"])
        base = bounds["lower"]
        return [
            DirEntry(name=name, uri=base + name, is_dir=is_dir, node=nodes.get(base + name))
            for name, is_dir in sorted(merged.items())
        ]

    def active_children(
        self, account_id: str, uri: str, limit: int
    ) -> tuple[int, list[ContextNode]]:
        bounds = _range(uri)
        count = self.fetch_one("count_active_children", account_id=account_id, **bounds)
        recent = self.fetch_all(
            "recent_active_children", account_id=account_id, limit=limit, **bounds
        )
        return (int(count["n"]) if count else 0), [rows.node_from_row(r) for r in recent]

    def history(self, account_id: str, uri: str) -> list[NodeVersion]:
        return [
            rows.version_from_row(r)
            for r in self.fetch_all("history", account_id=account_id, uri=uri)
        ]

    def applied_fingerprints(self, account_id: str, fingerprints: Sequence[str]) -> set[str]:
        found = self.fetch_all(
            "applied_among", account_id=account_id, fingerprints=json.dumps(list(fingerprints))
        )
        return {row["fingerprint"] for row in found}

    def find_applied(self, account_id: str, fingerprint: str) -> AppliedOp | None:
        row = self.fetch_one("find_applied", account_id=account_id, fingerprint=fingerprint)
        return None if row is None else rows.applied_from_row(row)

    def list_events(
        self, account_id: str, status: EventStatus | None = None, limit: int = 100
    ) -> list[OutboxEvent]:
        if status is None:
            found = self.fetch_all("list_events", account_id=account_id, limit=limit)
        else:
            found = self.fetch_all(
                "list_events_by_status", account_id=account_id, status=status.value, limit=limit
            )
        return [rows.event_from_row(r) for r in found]

    def outbox_counts(self, account_id: str) -> dict[str, int]:
        found = self.fetch_all("outbox_counts", account_id=account_id)
        counts = {status.value: 0 for status in EventStatus}
        counts.update({r["status"]: int(r["n"]) for r in found})
        return counts

    # -- writes -------------------------------------------------------------------------------

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
        with self.transaction() as conn:
            # a duplicate fingerprint fails on the applied_ops primary key at the end of this
            # transaction, which rolls the whole write back; no need to look it up first
            if expected_version is None:
                stored = node.evolve(version=1, created_at=now, updated_at=now)
                self._insert_node(conn, stored)
            else:
                stored = node.evolve(version=expected_version + 1, updated_at=now)
                self._update_node(conn, stored, expected_version)
            self._insert_version(conn, stored.account_id, stored.uri, action)
            self.insert_events(conn, events)
            self._insert_applied(
                conn, stored.account_id, fingerprint, stored.uri, action, stored.version
            )
        return stored

    def create_nodes_with_outbox(self, new_nodes: Sequence[NewNode]) -> list[ContextNode]:
        now = utcnow()
        stored = [n.node.evolve(version=1, created_at=now, updated_at=now) for n in new_nodes]
        applied_at = rows.dump_time(now)
        with self.transaction() as conn:
            try:
                conn.executemany(self._sql["insert_node"], [rows.node_params(n) for n in stored])
            except sqlite3.IntegrityError as exc:
                raise errors.ConcurrentModificationError(
                    f"one of {len(stored)} new nodes", None, None
                ) from exc
            conn.executemany(
                self._sql["insert_version"],
                [{"account_id": n.account_id, "uri": n.uri, "action": a.action}
                 for n, a in zip(stored, new_nodes, strict=True)],
            )  # fmt: skip
            self.insert_events(conn, [event for n in new_nodes for event in n.events])
            try:
                conn.executemany(
                    self._sql["insert_applied"],
                    [{"account_id": n.account_id, "fingerprint": a.fingerprint, "uri": n.uri,
                      "action": a.action, "version": 1, "applied_at": applied_at}
                     for n, a in zip(stored, new_nodes, strict=True) if a.fingerprint],
                )  # fmt: skip
            except sqlite3.IntegrityError as exc:
                raise errors.DuplicateOperation(f"one of {len(stored)} new operations") from exc
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
    ) -> ContextNode:
        with self.transaction() as conn:
            self._check_not_applied(conn, account_id, fingerprint)
            cursor = self.run(
                conn, "archive_node", account_id=account_id, uri=uri,
                expected_version=expected_version, archived_at=rows.dump_time(archived_at),
            )  # fmt: skip
            self._require_one_row(conn, cursor, account_id, uri, expected_version)
            self._insert_version(conn, account_id, uri, "archive")
            self.insert_events(conn, events)
            self._insert_applied(
                conn, account_id, fingerprint, uri, "archive", expected_version + 1
            )
            row = self.run(conn, "read_node", account_id=account_id, uri=uri).fetchone()
        return rows.node_from_row(row)

    def delete_node(
        self,
        account_id: str,
        uri: str,
        *,
        expected_version: int,
        events: Sequence[OutboxEvent],
        fingerprint: str | None = None,
    ) -> None:
        with self.transaction() as conn:
            self._check_not_applied(conn, account_id, fingerprint)
            cursor = self.run(
                conn,
                "delete_node",
                account_id=account_id,
                uri=uri,
                expected_version=expected_version,
            )
            self._require_one_row(conn, cursor, account_id, uri, expected_version)
            # delete means forget: the history goes too (archive is the reversible operation)
            self.run(conn, "delete_versions", account_id=account_id, uri=uri)
            self.insert_events(conn, events)
            self._insert_applied(conn, account_id, fingerprint, uri, "delete", expected_version)

    def move_node(
        self,
        account_id: str,
        src: str,
        dst: str,
        *,
        expected_version: int,
        events: Sequence[OutboxEvent],
    ) -> ContextNode:
        with self.transaction() as conn:
            if self._current_version(conn, account_id, dst) is not None:
                raise errors.AlreadyExists(f"a node already exists at {dst}")
            cursor = self.run(
                conn, "move_node", account_id=account_id, src=src, dst=dst,
                expected_version=expected_version, updated_at=rows.dump_time(utcnow()),
            )  # fmt: skip
            self._require_one_row(conn, cursor, account_id, src, expected_version)
            self.run(conn, "move_versions", account_id=account_id, src=src, dst=dst)
            self._insert_version(conn, account_id, dst, "move")
            self.insert_events(conn, events)
            row = self.run(conn, "read_node", account_id=account_id, uri=dst).fetchone()
        return rows.node_from_row(row)

    # -- the steps of a write transaction (separate so tests can inject failures between) ----

    def _check_not_applied(self, conn: sqlite3.Connection, account_id: str, fp: str | None) -> None:
        if fp and self.run(conn, "find_applied", account_id=account_id, fingerprint=fp).fetchone():
            raise errors.DuplicateOperation(fp)

    def _insert_node(self, conn: sqlite3.Connection, node: ContextNode) -> None:
        try:
            self.run(conn, "insert_node", **rows.node_params(node))
        except sqlite3.IntegrityError as exc:
            actual = self._current_version(conn, node.account_id, node.uri)
            raise errors.ConcurrentModificationError(node.uri, None, actual) from exc

    def _update_node(self, conn: sqlite3.Connection, node: ContextNode, expected: int) -> None:
        cursor = self.run(conn, "update_node", expected_version=expected, **rows.node_params(node))
        self._require_one_row(conn, cursor, node.account_id, node.uri, expected)

    def _require_one_row(
        self,
        conn: sqlite3.Connection,
        cursor: sqlite3.Cursor,
        account_id: str,
        uri: str,
        expected: int,
    ) -> None:
        if cursor.rowcount != 1:
            actual = self._current_version(conn, account_id, uri)
            raise errors.ConcurrentModificationError(uri, expected, actual)

    def _insert_version(
        self, conn: sqlite3.Connection, account_id: str, uri: str, action: str
    ) -> None:
        self.run(conn, "insert_version", account_id=account_id, uri=uri, action=action)

    def insert_events(self, conn: sqlite3.Connection, events: Sequence[OutboxEvent]) -> None:
        """Insert outbox events in the caller's transaction (coalescing ones only if needed)."""
        plain = [rows.event_params(e) for e in events if not e.coalesce]
        if plain:
            conn.executemany(self._sql["insert_event"], plain)
        # of coalescing events for one URI, only the first can be inserted: it covers the rest
        first: dict[tuple[str, EventType, str], OutboxEvent] = {}
        for event in events:
            if event.coalesce:
                first.setdefault((event.account_id, event.type, event.uri), event)
        if first:
            params = [rows.event_params(e) for e in first.values()]
            conn.executemany(self._sql["insert_event_unless_pending"], params)

    def _insert_applied(
        self,
        conn: sqlite3.Connection,
        account_id: str,
        fp: str | None,
        uri: str,
        action: str,
        version: int,
    ) -> None:
        if not fp:
            return
        try:
            self.run(
                conn, "insert_applied", account_id=account_id, fingerprint=fp, uri=uri,
                action=action, version=version, applied_at=rows.dump_time(utcnow()),
            )  # fmt: skip
        except sqlite3.IntegrityError as exc:
            raise errors.DuplicateOperation(fp, uri) from exc
