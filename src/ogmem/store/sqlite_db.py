"""SqliteDatabase: the connection, migrations and transactions every SQLite adapter runs on.

One connection guarded by a lock: SQLite serialises writers anyway, ``:memory:`` databases
cannot be shared between connections, and a single connection keeps every multi-statement
write inside one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from ogmem.core import errors
from ogmem.core.models import utcnow
from ogmem.store import queries, rows

DIALECT = "sqlite"
BUSY_TIMEOUT_MS = 10_000
# result codes (primary, the low byte) meaning "this file cannot be written now"
CANNOT_WRITE = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY,
                sqlite3.SQLITE_CANTOPEN}  # fmt: skip
PROBE_BYTES = 64 * 1024  # bigger than a usual write: free pages for it mean room for one

logger = logging.getLogger(__name__)


def split_statements(script: str) -> list[str]:
    """The complete SQL statements of a script, in order (trigger bodies kept whole)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in current.splitlines()
    ):
        raise errors.StoreError(f"incomplete SQL statement in a migration: {current[:200]!r}")
    return statements


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


@contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        raise errors.StoreError(f"sqlite: {exc}") from exc


class SqliteDatabase:
    """A migrated SQLite file (or ``:memory:``) and the named queries of the dialect."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._group_depth = 0  # only touched under _lock, by the thread holding it
        self.write_error: str | None = None  # why the last write failed, until one succeeds
        self._sql = queries.load_queries(DIALECT)
        with translated_errors():
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
        """Apply the pending migrations under the write lock (BEGIN IMMEDIATE), reading what is
        applied inside it: several processes opening one new file at once then apply each
        migration exactly once (the others wait on the lock and find nothing left to do)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            applied = {
                r["version"] for r in self._conn.execute("SELECT version FROM schema_migrations")
            }
            for number, name, script in queries.migration_scripts(DIALECT):
                if number not in applied:
                    self._apply_migration(number, name, script)
            self._conn.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _apply_migration(self, number: int, name: str, script: str) -> None:
        # executescript() would COMMIT first and release the lock: run statement by statement
        for statement in split_statements(script):
            self._conn.execute(statement)
        self._conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
            (number, name, rows.dump_time(utcnow())),
        )

    def schema_version(self) -> int:
        with self._lock, translated_errors():
            row = self._conn.execute("SELECT max(version) AS v FROM schema_migrations").fetchone()
        return int(row["v"] or 0)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the shared connection (also used by the index adapter).

        Inside ``group_commit()`` it is a savepoint: it still succeeds or fails as a whole,
        and the group's single COMMIT makes it durable.
        """
        with self._lock, self._translated_writes():
            if self._group_depth:
                yield from self._savepoint()
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
            self.write_error = None

    def _savepoint(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("SAVEPOINT unit")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK TO unit")
            self._conn.execute("RELEASE unit")
            raise
        self._conn.execute("RELEASE unit")

    def _rollback(self) -> None:
        """End a failed transaction whatever failed, the COMMIT included: a COMMIT refused for
        a full disk leaves the transaction open, and every later BEGIN on this shared
        connection would fail ("cannot start a transaction within a transaction") until a
        restart, even once space is free again."""
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                logger.exception("rollback failed")

    @contextmanager
    def _translated_writes(self) -> Iterator[None]:
        """Driver errors become StoreError; one that says the file cannot be written (disk
        full, I/O error, read-only) is remembered until a write succeeds again (readiness)."""
        try:
            yield
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF in CANNOT_WRITE:
                self.write_error = f"sqlite: {exc}"
            raise errors.StoreError(f"sqlite: {exc}") from exc

    @contextmanager
    def group_commit(self) -> Iterator[None]:
        """Run many transactions of this thread under one COMMIT (one disk write for a batch
        of candidates instead of one each). Other threads wait for the group to end; a crash
        before the end loses the group, whose caller has not been answered yet."""
        with self._lock, self._translated_writes():
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
                self._conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
            finally:
                self._group_depth = 0
            self.write_error = None

    def check_writable(self) -> None:
        """Raise StoreError if the store cannot take writes. After a write failed for lack of
        space, a probe writes (and drops) a row of PROBE_BYTES, which needs free pages or a
        file that can grow; otherwise a read is enough, so readiness checks cost no write."""
        if self.write_error is None:
            self.fetch_one("store_probe_read")
            return
        with self.transaction() as conn:
            self.run(conn, "store_probe_write", now=rows.dump_time(utcnow()), size=PROBE_BYTES)
            self.run(conn, "store_probe_clear")

    def run(self, conn: sqlite3.Connection, query: str, /, **params: Any) -> sqlite3.Cursor:
        """Execute the named query inside ``transaction()``."""
        return conn.execute(self._sql[query], params)

    def run_many(
        self, conn: sqlite3.Connection, query: str, /, rows: Sequence[dict[str, Any]]
    ) -> None:
        conn.executemany(self._sql[query], rows)

    def fetch_all(self, query: str, /, **params: Any) -> list[dict[str, Any]]:
        with self._lock, translated_errors():
            return list(self.run(self._conn, query, **params).fetchall())

    def fetch_one(self, query: str, /, **params: Any) -> dict[str, Any] | None:
        with self._lock, translated_errors():
            row: dict[str, Any] | None = self.run(self._conn, query, **params).fetchone()
            return row

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
