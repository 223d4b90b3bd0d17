"""SqliteStore: the embedded default store (one file, WAL; ``:memory:`` for tests).

One connection guarded by a lock: SQLite serialises writers anyway, ``:memory:`` databases
cannot be shared between connections, and a single connection keeps every multi-statement
write inside one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from ogmem.core import errors
from ogmem.core.models import AppliedOp, ContextNode, EventStatus, NodeVersion, OutboxEvent, utcnow
from ogmem.core.ports import DirEntry
from ogmem.store import queries, rows

DIALECT = "sqlite"
BUSY_TIMEOUT_MS = 10_000


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


@contextmanager
def _translated_errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise errors.StoreError(f"sqlite: {exc}") from exc


def _range(uri: str) -> dict[str, Any]:
    """Bounds of every URI strictly below ``uri``, for an index range scan ('0' follows '/')."""
    prefix = uri.rstrip("/")
    return {"lower": prefix + "/", "upper": prefix + "0", "prefix_length": len(prefix) + 1}


class SqliteStore:
    """The Store port on SQLite. See ``ogmem.core.ports.Store`` for the contract."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._group_depth = 0  # only touched under _lock, by the thread holding it
        self._sql = queries.load_queries(DIALECT)
        with _translated_errors():
            self._conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
            self._conn.row_factory = _dict_row
            self._configure()
            self._migrate()

    def _configure(self) -> None:
        if self.path != ":memory:":
            self._conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode is durable across application crashes; only an OS crash can lose
        # the last transactions, which is the usual trade for an embedded store.
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    def _migrate(self) -> None:
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = {
            r["version"] for r in self._conn.execute("SELECT version FROM schema_migrations")
        }
        for number, name, script in queries.migration_scripts(DIALECT):
            if number in applied:
                continue
            record = (
                "INSERT INTO schema_migrations (version, name, applied_at) "
                f"VALUES ({number}, '{name}', '{rows.dump_time(utcnow())}');"
            )
            # executescript cannot take parameters; number and name come from our own file names.
            self._conn.executescript(f"BEGIN IMMEDIATE;\n{script}\n{record}\nCOMMIT;")

    def schema_version(self) -> int:
        with self._lock, _translated_errors():
            row = self._conn.execute("SELECT max(version) AS v FROM schema_migrations").fetchone()
        return int(row["v"] or 0)

    # -- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the shared connection (also used by the index adapter).

        Inside ``group_commit()`` it is a savepoint: it still succeeds or fails as a whole,
        and the group's single COMMIT makes it durable.
        """
        with self._lock, _translated_errors():
            if self._group_depth:
                yield from self._savepoint()
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("SAVEPOINT unit")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK TO unit")
            self._conn.execute("RELEASE unit")
            raise
        self._conn.execute("RELEASE unit")

    @contextmanager
    def group_commit(self) -> Iterator[None]:
        """Run many transactions of this thread under one COMMIT (one disk write for a batch
        of candidates instead of one each). Other threads wait for the group to end; a crash
        before the end loses the group, whose caller has not been answered yet."""
        with self._lock, _translated_errors():
            if self._group_depth:
                self._group_depth += 1
                try:
                    yield
                finally:
                    self._group_depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._group_depth = 1
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            finally:
                self._group_depth = 0
            self._conn.execute("COMMIT")

    def run(self, conn: sqlite3.Connection, query: str, /, **params: Any) -> sqlite3.Cursor:
        """Execute the named query inside ``transaction()``."""
        return conn.execute(self._sql[query], params)

    def run_many(
        self, conn: sqlite3.Connection, query: str, /, rows: Sequence[dict[str, Any]]
    ) -> None:
        conn.executemany(self._sql[query], rows)

    def fetch_all(self, query: str, /, **params: Any) -> list[dict[str, Any]]:
        with self._lock, _translated_errors():
            return list(self.run(self._conn, query, **params).fetchall())

    def fetch_one(self, query: str, /, **params: Any) -> dict[str, Any] | None:
        with self._lock, _translated_errors():
            row: dict[str, Any] | None = self.run(self._conn, query, **params).fetchone()
            return row

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

    def history(self, account_id: str, uri: str) -> list[NodeVersion]:
        return [
            rows.version_from_row(r)
            for r in self.fetch_all("history", account_id=account_id, uri=uri)
        ]

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
            self._insert_events(conn, events)
            self._insert_applied(
                conn, stored.account_id, fingerprint, stored.uri, action, stored.version
            )
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
            self._insert_events(conn, events)
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
            self._insert_events(conn, events)
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
            self._insert_events(conn, events)
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

    def _insert_events(self, conn: sqlite3.Connection, events: Sequence[OutboxEvent]) -> None:
        conn.executemany(self._sql["insert_event"], [rows.event_params(e) for e in events])

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

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
