"""The SQLite backend: the connector, the stores over it, the in-memory vector cache."""

from __future__ import annotations

from ogmem import extras
from ogmem.core import errors
from ogmem.core.storage import Backend, VectorIndex
from ogmem.store.sql_dreams import SqlDreamStore
from ogmem.store.sql_keys import SqlKeyStore
from ogmem.store.sql_nodes import SqlNodeStore
from ogmem.store.sql_outbox import SqlOutboxStore
from ogmem.store.sqlite_db import SqliteDatabase
from ogmem.store.sqlite_erase import SqliteEraseStore
from ogmem.store.sqlite_index import SqliteIndexStore
from ogmem.store.sqlite_sessions import SqliteSessionStore


def open_sqlite(path: str) -> Backend:
    db = SqliteDatabase(path)
    try:
        index = SqliteIndexStore(db)
    except BaseException:
        db.close()
        raise

    def vector_index(
        kind: str, dimensions: int, model_id: str, *, cache_mb: int | None = None
    ) -> VectorIndex:
        """Exact search over in-memory matrices (one per owner, within ``cache_mb``) by
        default; "hnsw" (extra `ann`) switches large owners to a graph."""
        from ogmem.index import vectors

        if kind == "exact":
            return vectors.NumpyVectorIndex(index, dimensions, model_id, cache_mb=cache_mb)
        if kind == "hnsw":
            extras.require("ann", "OGMEM_VECTOR_INDEX=hnsw")
            from ogmem.index import hnsw

            graph: VectorIndex = hnsw.HnswVectorIndex(
                index, dimensions, model_id, cache_mb=cache_mb
            )
            return graph
        raise errors.ConfigurationError(f"unknown vector index {kind!r}; use 'exact' or 'hnsw'")

    return Backend(
        uow=db,
        nodes=SqlNodeStore(db),
        outbox=SqlOutboxStore(db),
        index=index,
        sessions=SqliteSessionStore(db),
        keys=SqlKeyStore(db),
        dreams=SqlDreamStore(db),
        vector_index=vector_index,
        erase=SqliteEraseStore(db),
    )
