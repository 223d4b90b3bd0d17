"""The PostgreSQL backend (extra ``postgres``): the connector, the stores over it, pgvector
search and LISTEN/NOTIFY wake-ups. ``open_postgres(url)`` migrates the database first."""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg

from ogmem import extras
from ogmem.core import errors
from ogmem.core.storage import Backend, VectorIndex
from ogmem.store import postgres_migrate
from ogmem.store.postgres_db import PostgresDatabase, translated, vector_adapters
from ogmem.store.postgres_index import OwnerSizes, PgVectorIndex, PostgresIndexStore
from ogmem.store.postgres_listen import Listener
from ogmem.store.postgres_sessions import PostgresSessionStore
from ogmem.store.sql_dreams import SqlDreamStore
from ogmem.store.sql_erase import SqlEraseStore
from ogmem.store.sql_keys import SqlKeyStore
from ogmem.store.sql_nodes import SqlNodeStore
from ogmem.store.sql_outbox import SqlOutboxStore

DEFAULT_VECTOR_INDEX = "pgvector"


def migrate(url: str) -> int:
    """Apply the pending migrations (``ogmem migrate``; opening does it too); the version."""
    with translated(), psycopg.connect(url, autocommit=True) as conn:
        return postgres_migrate.migrate(conn)


class _Listeners:
    """The backend's wake-up listeners, stopped with the backend if their owner forgets."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._open: set[Listener] = set()
        self._lock = threading.Lock()

    def listen(self, callback: Callable[[], None]) -> Callable[[], None]:
        listener = Listener(self._url, callback)
        with self._lock:
            self._open.add(listener)

        def stop() -> None:
            with self._lock:
                self._open.discard(listener)
            listener.stop()

        return stop

    def stop_all(self) -> None:
        with self._lock:
            listeners, self._open = list(self._open), set()
        for listener in listeners:
            listener.stop()


def open_postgres(url: str) -> Backend:
    with translated(), psycopg.connect(url, autocommit=True) as conn:
        postgres_migrate.migrate(conn)
        adapters = vector_adapters(conn)
    db = PostgresDatabase(url, adapters)
    listeners = _Listeners(url)
    db.on_close.append(listeners.stop_all)
    # one count of an owner's records serves both searches (keyword, vector) for a while
    sizes = OwnerSizes(db)
    index = PostgresIndexStore(db, sizes)

    def vector_index(
        kind: str, dimensions: int, model_id: str, *, cache_mb: int | None = None
    ) -> VectorIndex:
        """pgvector's HNSW index in the database by default; "exact" keeps in-memory matrices
        per owner in the process (as SQLite), "hnsw" a graph in the process (extra `ann`)."""
        from ogmem.index import vectors

        if kind == "pgvector":
            return PgVectorIndex(db, dimensions, model_id, sizes)
        if kind == "exact":
            return vectors.NumpyVectorIndex(index, dimensions, model_id, cache_mb=cache_mb)
        if kind == "hnsw":
            extras.require("ann", "OGMEM_VECTOR_INDEX=hnsw")
            from ogmem.index import hnsw

            graph: VectorIndex = hnsw.HnswVectorIndex(
                index, dimensions, model_id, cache_mb=cache_mb
            )
            return graph
        raise errors.ConfigurationError(
            f"unknown vector index {kind!r}; use 'pgvector', 'exact' or 'hnsw'"
        )

    return Backend(
        uow=db,
        nodes=SqlNodeStore(db),
        outbox=SqlOutboxStore(db),
        index=index,
        sessions=PostgresSessionStore(db),
        keys=SqlKeyStore(db),
        dreams=SqlDreamStore(db),
        vector_index=vector_index,
        erase=SqlEraseStore(db),
        wake_on_events=listeners.listen,
        default_vector_index=DEFAULT_VECTOR_INDEX,
        searches_in_server=True,
    )
