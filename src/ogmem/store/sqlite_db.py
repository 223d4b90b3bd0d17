"""SqliteDatabase: the connection, migrations and transactions every SQLite adapter runs on.

One connection guarded by a lock: SQLite serialises writers anyway, ``:memory:`` databases
cannot be shared between connections, and a single connection keeps every multi-statement
write inside one ``BEGIN IMMEDIATE`` transaction.
"""

from __future__ import annotations

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
        with self._lock, translated_errors():
            row = self._conn.execute("SELECT max(version) AS v FROM schema_migrations").fetchone()
        return int(row["v"] or 0)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction on the shared connection (also used by the index adapter).

        Inside ``group_commit()`` it is a savepoint: it still succeeds or fails as a whole,
        and the group's single COMMIT makes it durable.
        """
        with self._lock, translated_errors():
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
        with self._lock, translated_errors():
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
