"""SqliteDatabase: the SQLite connector. One writing connection guarded by a lock: SQLite
serialises writers anyway, and a single connection keeps every multi-statement write inside
one ``BEGIN IMMEDIATE`` transaction. Reads outside a transaction go to a read-only connection
per thread (a file in WAL mode lets readers run beside the writer), so a search never waits
for a write; ``:memory:`` databases cannot be shared between connections and read on the one.

It runs named queries (``sql/sqlite/queries.sql``), applies migrations, encodes parameters
(times as fixed-width UTC text, lists as JSON, vectors as float32 blobs) and translates driver
errors into ours. It decides nothing.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ogmem.core import errors
from ogmem.core.models import utcnow
from ogmem.store import queries, rows, sqlite_migrate

DIALECT = "sqlite"
BUSY_TIMEOUT_MS = 10_000
# result codes (primary, the low byte) meaning "this file cannot be written now"
CANNOT_WRITE = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY,
                sqlite3.SQLITE_CANTOPEN}  # fmt: skip
PROBE_BYTES = 64 * 1024  # bigger than a usual write: free pages for it mean room for one
_UNIQUE = re.compile(r"UNIQUE constraint failed: (\w+)\.")

logger = logging.getLogger(__name__)
T = TypeVar("T")


# The column names of the statement read last: a search reads ~700 rows of a few statements,
# and taking the names out of cursor.description for each row cost a third of building it.
# One tuple, swapped whole, so a thread never pairs one statement's description with another's
# names.
_last_names: tuple[Any, tuple[str, ...]] = (None, ())


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    global _last_names
    description = cursor.description
    last = _last_names
    if last[0] is not description:
        last = _last_names = (description, tuple(column[0] for column in description))
    return dict(zip(last[1], row, strict=True))


# how SQLite stores what is not a plain str/int/float/None: looked up by exact type first
# (the write path encodes ~13 parameters per node; an isinstance chain for each cost more)
_ENCODERS: dict[type, Callable[[Any], Any]] = {
    datetime: rows.dump_time,
    np.ndarray: rows.to_blob,
    list: rows.dump_json_value,
    tuple: lambda value: rows.dump_json_value(list(value)),
    dict: rows.dump_json,
    bool: int,
}
_PLAIN = frozenset({str, int, float, type(None), bytes})


def encode(value: Any) -> Any:
    """A parameter as SQLite stores it (times as fixed-width UTC text, lists and mappings as
    JSON, vectors as float32 blobs)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    encoder = _ENCODERS.get(kind)
    if encoder is not None:
        return encoder(value)
    if isinstance(value, str):  # an enum of str
        return str(value)
    if isinstance(value, Mapping):
        return rows.dump_json(value)
    if isinstance(value, datetime):
        return rows.dump_time(value)
    return value


def _encoded(params: Mapping[str, Any]) -> dict[str, Any]:
    # plain values (most of them) pass without a call: ~14 per index record, thousands a batch
    return {
        name: value if type(value) in _PLAIN else encode(value) for name, value in params.items()
    }


def translate(exc: sqlite3.Error) -> errors.StoreError:
    """Our error for a driver error; a unique violation names its table."""
    message = f"sqlite: {exc}"
    if isinstance(exc, sqlite3.IntegrityError):
        found = _UNIQUE.search(str(exc))
        if found:
            return errors.UniqueViolation(message, table=found.group(1))
    return errors.StoreError(message)


def _check_place(path: Path) -> None:
    """The store file's directory exists (created if needed) and the file is not a directory;
    else a one-line error naming the path (not an OSError or "unable to open database")."""
    if path.is_dir():
        raise errors.ConfigurationError(f"the store {path} is a directory, not a SQLite file")
    if path.parent.exists() and not path.parent.is_dir():
        raise errors.ConfigurationError(
            f"the store's directory {path.parent} is a file, not a directory"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise errors.ConfigurationError(
            f"cannot create the store's directory {path.parent}: {exc.strerror or exc}"
        ) from exc


class SqliteDatabase:
    """A migrated SQLite file (or ``:memory:``) and the named queries of the dialect."""

    dialect = DIALECT

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            _check_place(Path(self.path))
        self._lock = threading.RLock()
        self._depth = 0  # transactions open on the connection; only touched under _lock
        self._grouped = False  # the outermost transaction is a group commit
        self._owner: int | None = None  # the thread whose transaction is open
        self._readers = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []
        self._registry = threading.Lock()
        self.write_error: str | None = None  # why the last write failed, until one succeeds
        self._sql = queries.load_queries(DIALECT)
        try:
            self._conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )
            self._conn.row_factory = _dict_row
            self._configure()
            sqlite_migrate.migrate(self._conn)
        except sqlite3.Error as exc:
            raise translate(exc) from exc

    def _configure(self) -> None:
        self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.path != ":memory:":
            sqlite_migrate.enter_wal_mode(self._conn, BUSY_TIMEOUT_MS / 1000)
        # NORMAL in WAL mode is durable across application crashes; only an OS crash can lose
        # the last transactions, which is the usual trade for an embedded store.
        self._conn.execute("PRAGMA synchronous = NORMAL")

    def schema_version(self) -> int:
        row = self.fetch_one("schema_version")
        return int(row["v"] or 0) if row else 0

    def describe(self) -> str:
        return self.path

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction on the shared connection; nested (or inside a group
        commit), a savepoint: it still succeeds or fails as a whole."""
        with self._lock, self._translated_writes():
            if self._depth:
                yield from self._savepoint()
                return
            yield from self._outermost(grouped=False)

    @contextmanager
    def group_commit(self) -> Iterator[None]:
        """Run many transactions of this thread under one COMMIT (one disk write for a batch
        of candidates instead of one each). Other threads wait for the group to end; a crash
        before the end loses the group, whose caller has not been answered yet."""
        with self._lock, self._translated_writes():
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            yield from self._outermost(grouped=True)

    def _outermost(self, *, grouped: bool) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        self._depth, self._grouped, self._owner = 1, grouped, threading.get_ident()
        try:
            yield
            self._conn.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        finally:
            self._depth, self._grouped, self._owner = 0, False, None
        self.write_error = None

    def _savepoint(self) -> Iterator[None]:
        self._conn.execute("SAVEPOINT unit")
        self._depth += 1
        try:
            yield
        except BaseException:
            self._undo_savepoint()
            raise
        finally:
            self._depth -= 1
        self._conn.execute("RELEASE unit")

    def _undo_savepoint(self) -> None:
        # some errors (a full disk, I/O) make SQLite roll back the whole transaction itself:
        # then there is no savepoint left to roll back to, and the first error is what counts
        if not self._conn.in_transaction:
            return
        try:
            self._conn.execute("ROLLBACK TO unit")
            self._conn.execute("RELEASE unit")
        except sqlite3.Error:
            logger.exception("rolling back to a savepoint failed")

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
        """Driver errors become ours; one that says the file cannot be written (disk full,
        I/O error, read-only) is remembered until a write succeeds again (readiness)."""
        try:
            yield
        except sqlite3.Error as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF in CANNOT_WRITE:
                self.write_error = f"sqlite: {exc}"
            raise translate(exc) from exc

    def check_writable(self) -> None:
        """Raise StoreError if the store cannot take writes. After a write failed for lack of
        space, a probe writes (and drops) a row of PROBE_BYTES, which needs free pages or a
        file that can grow; otherwise a read is enough, so readiness checks cost no write."""
        if self.write_error is None:
            self.fetch_one("store_probe_read")
            return
        with self.transaction():
            self.execute("store_probe_write", now=utcnow(), size=PROBE_BYTES)
            self.execute("store_probe_clear")

    def truncate_log(self) -> bool:
        """Checkpoint the write-ahead log into the file and empty it, so that pages a
        transaction replaced leave no copy there; False when a reader kept it from finishing
        (the log is then reused from its start by a later checkpoint)."""
        if self.path == ":memory:":
            return True
        with self._lock, self._translated_writes():
            if self._depth:
                raise errors.StoreError("truncate_log() inside a transaction")
            (busy, _, _) = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone().values()
            return not busy

    # -- running named queries --------------------------------------------------------------

    def execute(self, query: str, /, **params: Any) -> int:
        """Run a named statement in this thread's transaction (its own one outside any);
        returns the rows it changed."""
        sql, values = self._sql[query], _encoded(params)
        return self._write(lambda: int(self._conn.execute(sql, values).rowcount))

    def execute_many(self, query: str, /, params: Sequence[Mapping[str, Any]]) -> int:
        if not params:
            return 0
        sql, values = self._sql[query], [_encoded(p) for p in params]
        return self._write(
            lambda: int(self._conn.executemany(sql, values).rowcount), alone=len(values) == 1
        )

    def returning(self, query: str, /, **params: Any) -> list[dict[str, Any]]:
        """Rows of a writing statement (UPDATE ... RETURNING), in a transaction."""
        sql, values = self._sql[query], _encoded(params)
        return self._write(lambda: list(self._conn.execute(sql, values).fetchall()))

    def execute_with_triggers(self, query: str, /, params: Sequence[Mapping[str, Any]]) -> int:
        """``execute_many`` that returns the rows changed, those its triggers changed
        included (``rowcount`` leaves them out, and is 0 for an insert into a view)."""
        sql, values = self._sql[query], [_encoded(p) for p in params]

        def run() -> int:
            before = self._conn.total_changes
            self._conn.executemany(sql, values)
            return int(self._conn.total_changes - before)

        return self._write(run, alone=len(values) == 1)

    def _write(self, statement: Callable[[], T], *, alone: bool = True) -> T:
        """Writes in this thread's open transaction, as they are (a statement is atomic on
        its own: no savepoint needed). Outside one, a statement ``alone`` runs in autocommit:
        it takes SQLite's write lock as it starts, as BEGIN IMMEDIATE would, and the BEGIN
        and COMMIT calls it saves are two fewer waits for the GIL while this lock is held,
        which every writer queues for under load (stress `load`). Several statements (one
        per row of an executemany) get a transaction of their own, to succeed or fail whole."""
        with self._lock, self._translated_writes():
            if self._depth:  # the lock is ours, so the open transaction is this thread's
                return statement()
            if not alone:
                with self.transaction():
                    return statement()
            result = statement()
            self.write_error = None
            return result

    def fetch_all(self, query: str, /, **params: Any) -> list[dict[str, Any]]:
        sql, values = self._sql[query], _encoded(params)
        return self._read(lambda conn: list(conn.execute(sql, values).fetchall()))

    def fetch_one(self, query: str, /, **params: Any) -> dict[str, Any] | None:
        sql, values = self._sql[query], _encoded(params)
        row: dict[str, Any] | None = self._read(lambda conn: conn.execute(sql, values).fetchone())
        return row

    def _read(self, statement: Callable[[sqlite3.Connection], T]) -> T:
        """A read inside this thread's transaction sees its own writes (the writing
        connection); any other goes to this thread's reader, without waiting for writers."""
        reader = None if self._owner == threading.get_ident() else self._reader()
        with self._translated_reads():
            if reader is not None:
                return statement(reader)
            with self._lock:
                return statement(self._conn)

    def _reader(self) -> sqlite3.Connection | None:
        if self.path == ":memory:":
            return None
        reader: sqlite3.Connection | None = getattr(self._readers, "conn", None)
        if reader is None:
            reader = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False,
                timeout=BUSY_TIMEOUT_MS / 1000,
            )  # fmt: skip
            reader.row_factory = _dict_row
            reader.execute("PRAGMA query_only = 1")
            self._readers.conn = reader
            with self._registry:  # not the writer's lock: a reader must never wait for it
                self._reader_conns.append(reader)
        return reader

    @contextmanager
    def _translated_reads(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise translate(exc) from exc

    def close(self) -> None:
        with self._lock, self._registry:
            for reader in self._reader_conns:
                reader.close()
            self._reader_conns.clear()
            self._conn.close()
