"""PostgresDatabase: the PostgreSQL connector. A pool of connections (psycopg 3), each working
as the application role under row-level security; a thread's transaction holds one of them
from its start to its end, exactly as the SQLite connector's transactions behave: nested, a
savepoint; a group commit, one outer transaction; a statement outside any, its own.

It runs named queries (``sql/postgres/queries.sql``), sets the transaction's account for
row-level security from each statement's ``account_id``, encodes parameters (times as
timestamptz, mappings as jsonb, lists as arrays, numpy vectors as pgvector) and translates
driver errors into ours. It decides nothing.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import psycopg
import psycopg_pool
from pgvector import Vector
from pgvector.psycopg.vector import VectorBinaryDumper, VectorBinaryLoader, VectorLoader
from psycopg.adapt import AdaptersMap
from psycopg.rows import dict_row
from psycopg.types import TypeInfo
from psycopg.types.json import Jsonb

from ogmem.core import errors
from ogmem.core.models import as_utc
from ogmem.store import queries, rows
from ogmem.store.postgres_rows import MultiRowInsert

DIALECT = "postgres"
POOL_MIN, POOL_MAX = 1, 10
POOL_TIMEOUT_S = 10.0  # waiting for a free connection (or for a server that is down)
_PARAM = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")

logger = logging.getLogger(__name__)
Connection = psycopg.Connection[dict[str, Any]]
Cursor = psycopg.Cursor[dict[str, Any]]
T = TypeVar("T")


def _changed(cursor: Cursor) -> int:
    """Rows a statement changed; after executemany, psycopg sums them over its runs."""
    return max(cursor.rowcount, 0)


def _send_many(sql: str, rows: list[dict[str, Any]], cursor: Cursor) -> None:
    cursor.executemany(sql, rows)


def _send_one(sql: str, rows: list[dict[str, Any]], cursor: Cursor) -> None:
    cursor.execute(sql, rows[0])


@dataclass
class _MultiRowSend:
    """Sends a batch as multi-row INSERTs and counts the rows they changed."""

    insert: MultiRowInsert
    rows: list[dict[str, Any]]
    changed: int = 0

    def __call__(self, cursor: Cursor) -> None:
        with psycopg.RawCursor(cursor.connection) as raw:
            for sql, values in self.insert.statements(self.rows):
                # each chunk's length is a text of its own: preparing them would fill the
                # connection's statement cache with texts run once
                raw.execute(sql, values, prepare=False)
                self.changed += max(raw.rowcount, 0)


def to_pyformat(sql: str) -> str:
    """A named query's ``:name`` parameters as psycopg's ``%(name)s`` (``::casts`` kept)."""
    return _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))


_INSERT_INTO = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)


def may_conflict(sql: str, keyed_tables: set[str]) -> bool:
    """Whether a statement can fail on a unique key: an INSERT without ON CONFLICT into a
    table with a unique key that the caller supplies (not only a generated id). Inside a
    transaction it runs under a savepoint, because a store may catch that error and go on
    (SqlNodeStore.insert reads the version it collided with), while PostgreSQL refuses every
    statement of a transaction after a failed one (SQLite does not)."""
    found = _INSERT_INTO.match(sql)
    return found is not None and found.group(1) in keyed_tables and "ON CONFLICT" not in sql.upper()


def encode(value: Any) -> Any:
    """A parameter as the driver adapts it: mappings as jsonb (dates in them as text), tuples
    as lists (arrays), enums of str as str, naive times as UTC; numpy vectors go to pgvector's
    adapter, numpy scalars become Python numbers."""
    if value is None or type(value) in (str, int, float, bool, list):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, Mapping):
        return Jsonb(dict(value), dumps=rows.dump_json)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _encoded(params: Mapping[str, Any]) -> dict[str, Any]:
    return {name: encode(value) for name, value in params.items()}


# text PostgreSQL cannot hold (a NUL character, in text or in jsonb): the input's fault, not
# the store's, so it is refused as invalid input (422 at the HTTP edge, not 503)
_UNSTORABLE = (psycopg.errors.UntranslatableCharacter, psycopg.errors.CharacterNotInRepertoire)


def translate(exc: psycopg.Error) -> errors.OgmemError:
    """Our error for a driver error; a unique violation names its table."""
    message = f"postgresql: {str(exc).strip() or type(exc).__name__}"
    if isinstance(exc, psycopg.errors.UniqueViolation):
        return errors.UniqueViolation(message, table=exc.diag.table_name or "")
    if isinstance(exc, _UNSTORABLE) or (isinstance(exc, psycopg.DataError) and "NUL" in message):
        return errors.InvalidInput(f"{message} (PostgreSQL stores no NUL character in text)")
    return errors.StoreError(message)


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc) from exc


def without_password(url: str) -> str:
    """The URL for people: no password, neither in the authority nor in the query."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        credentials, host = netloc.rsplit("@", 1)
        netloc = credentials.split(":", 1)[0] + "@" + host
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "password"], safe="/")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


class _NumpyVectorLoader(VectorLoader):
    def load(self, data: Any) -> Any:
        return Vector.from_text(bytes(data).decode()).to_numpy()


class _NumpyVectorBinaryLoader(VectorBinaryLoader):
    def load(self, data: Any) -> Any:
        return Vector.from_binary(data).to_numpy()


def vector_adapters(conn: psycopg.Connection[Any]) -> AdaptersMap:
    """psycopg's adapters plus pgvector's for numpy arrays, loaded back as numpy arrays (what
    rows.load_vector takes); fetched once, shared by every connection of the pool."""
    info = TypeInfo.fetch(conn, "vector")
    if info is None:
        raise errors.StoreError("postgresql: the vector type is missing (CREATE EXTENSION vector)")
    adapters = AdaptersMap(psycopg.adapters)
    info.register(adapters)
    adapters.register_dumper("numpy.ndarray", type("", (VectorBinaryDumper,), {"oid": info.oid}))
    adapters.register_loader(info.oid, _NumpyVectorLoader)
    adapters.register_loader(info.oid, _NumpyVectorBinaryLoader)
    return adapters


@dataclass
class _Transaction:
    """This thread's open transaction: its connection, and the account it is set to."""

    conn: Connection
    account: str | None = None


class PostgresDatabase:
    """A migrated PostgreSQL database (``ogmem.store.postgres_migrate``) behind a pool."""

    dialect = DIALECT

    def __init__(self, url: str, adapters: AdaptersMap, *, pool_max: int = POOL_MAX) -> None:
        self.url = url
        named = queries.load_queries(DIALECT)
        self._configure_sql = named["configure_connection"]
        self._sql = {name: to_pyformat(sql) for name, sql in named.items()}
        self._multi_row = {name: MultiRowInsert.of(sql) for name, sql in self._sql.items()}
        self._adapters = adapters
        self._local = threading.local()
        self.on_close: list[Callable[[], None]] = []  # run first by close() (listeners)
        with translated():
            self._pool: psycopg_pool.ConnectionPool[Connection] = psycopg_pool.ConnectionPool(
                url,
                kwargs={"autocommit": True, "row_factory": dict_row, "context": adapters},
                configure=self._configure,
                min_size=POOL_MIN,
                max_size=pool_max,
                timeout=POOL_TIMEOUT_S,
                open=False,
                name="ogmem",
            )
        self._guarded: set[str] = set()
        try:
            with translated():
                self._pool.open(wait=True, timeout=POOL_TIMEOUT_S)
            keyed = {row["table_name"] for row in self.fetch_all("tables_with_unique_keys")}
        except BaseException:
            self._pool.close()
            raise
        self._guarded = {name for name, sql in named.items() if may_conflict(sql, keyed)}

    def _configure(self, conn: Connection) -> None:
        conn.execute(self._configure_sql)

    def with_dimensions(self, query: str, dims: int) -> str:
        """The name of ``query`` with its ``{dims}`` written in (an integer: pgvector needs a
        literal dimension for the expression of a partial HNSW index to match)."""
        name = f"{query}@{int(dims)}"
        if name not in self._sql:
            self._sql[name] = self._sql[query].replace("{dims}", str(int(dims)))
        return name

    def describe(self) -> str:
        return without_password(self.url)

    def schema_version(self) -> int:
        row = self.fetch_one("schema_version")
        return int(row["v"] or 0) if row else 0

    def check_writable(self) -> None:
        """Raise StoreError unless the server answers and takes writes (a standby in
        recovery, or a read-only default, does not)."""
        row = self.fetch_one("store_probe_read")
        if row is None or row["standby"] or row["read_only"]:
            raise errors.StoreError("postgresql: the server is read-only (a standby?)")

    # -- transactions ---------------------------------------------------------------------

    def _current(self) -> _Transaction | None:
        tx: _Transaction | None = getattr(self._local, "tx", None)
        return tx

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction on a connection of the pool, held until it ends; nested (or
        inside a group commit), a savepoint: it still succeeds or fails as a whole."""
        tx = self._current()
        if tx is None:
            with self._outermost():
                yield
            return
        with self._savepoint(tx):
            yield

    @contextmanager
    def group_commit(self) -> Iterator[None]:
        """Many transactions of this thread under one COMMIT; each stays a savepoint."""
        if self._current() is not None:
            yield
            return
        with self._outermost():
            yield

    @contextmanager
    def _outermost(self) -> Iterator[None]:
        with translated():
            conn = self._pool.getconn()
        try:
            with translated(), conn.transaction():
                self._local.tx = _Transaction(conn)
                try:
                    yield
                finally:
                    self._local.tx = None
        finally:
            self._pool.putconn(conn)

    @contextmanager
    def _savepoint(self, tx: _Transaction) -> Iterator[None]:
        account = tx.account
        try:
            with translated(), tx.conn.transaction():
                yield
        except BaseException:
            tx.account = account  # rolling back to the savepoint restored the setting too
            raise

    # -- running named queries --------------------------------------------------------------

    def _run(
        self,
        query: str,
        params: Mapping[str, Any],
        send: Callable[[Cursor], object],
        collect: Callable[[Cursor], T],
    ) -> T:
        """``send`` the statement in this thread's transaction, then ``collect`` its result.
        Outside a transaction, a statement naming an account gets a transaction of its own
        (the account setting is transaction-local); one naming none runs in autocommit."""
        account = params.get("account_id")
        tx = self._current()
        if tx is None and account is not None:
            with self.transaction():
                return self._run(query, params, send, collect)
        with translated():
            if tx is None:
                with self._pool.connection() as conn, conn.cursor() as cursor:
                    send(cursor)
                    return collect(cursor)
            with tx.conn.cursor() as cursor:
                self._send_in(tx, query, None if account is None else str(account), cursor, send)
                return collect(cursor)

    def _send_in(
        self,
        tx: _Transaction,
        query: str,
        account: str | None,
        cursor: Cursor,
        send: Callable[[Cursor], object],
    ) -> None:
        """Send in the open transaction: after setting its account for row-level security
        (transaction-local) if the statement names another one; under a savepoint if it may
        fail on a unique key (see ``may_conflict``)."""
        if account is not None and account != tx.account:
            tx.conn.execute(self._sql["set_account"], {"account_id": account})
            tx.account = account
        if query in self._guarded:
            with tx.conn.transaction():
                send(cursor)
        else:
            send(cursor)

    def execute(self, query: str, /, **params: Any) -> int:
        """Run a named statement; how many rows it changed (or returned)."""
        sql, values = self._sql[query], _encoded(params)
        return self._run(
            query, params, lambda cur: cur.execute(sql, values), lambda cur: cur.rowcount
        )

    def execute_many(self, query: str, /, params: Sequence[Mapping[str, Any]]) -> int:
        sql, changed = self._sql[query], 0
        by_account: dict[Any, list[dict[str, Any]]] = {}
        for one in params:  # each account's rows under its own setting
            by_account.setdefault(one.get("account_id"), []).append(_encoded(one))
        insert = self._multi_row.get(query)
        for batch in by_account.values():
            if insert is not None and len(batch) > 1:
                multi_row = _MultiRowSend(insert, batch)
                self._run(query, batch[0], multi_row, _changed)
                changed += multi_row.changed
                continue
            # executemany pipelines a batch in one round trip; for one row that costs more
            send = functools.partial(_send_many if len(batch) > 1 else _send_one, sql, batch)
            changed += self._run(query, batch[0], send, _changed)
        return changed

    def returning(self, query: str, /, **params: Any) -> list[dict[str, Any]]:
        return self.fetch_all(query, **params)

    def fetch_all(self, query: str, /, **params: Any) -> list[dict[str, Any]]:
        sql, values = self._sql[query], _encoded(params)
        return self._run(
            query, params, lambda cur: cur.execute(sql, values), lambda cur: cur.fetchall()
        )

    def fetch_one(self, query: str, /, **params: Any) -> dict[str, Any] | None:
        sql, values = self._sql[query], _encoded(params)
        return self._run(
            query, params, lambda cur: cur.execute(sql, values), lambda cur: cur.fetchone()
        )

    def raw_query(self, sql: str) -> list[dict[str, Any]]:
        """Rows of ``sql`` as the URL's user (the owner: past row-level security); tests."""
        with (
            translated(),
            psycopg.connect(
                self.url, autocommit=True, row_factory=dict_row, context=self._adapters
            ) as conn,
        ):
            return conn.execute(sql.encode()).fetchall()

    def close(self) -> None:
        for stop in self.on_close:
            stop()
        self._pool.close()
