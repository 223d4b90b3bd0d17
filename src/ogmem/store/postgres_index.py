"""The PostgreSQL search index: full text on a generated tsvector (GIN), ranked by cover
density, and nearest neighbours with pgvector's HNSW index; the rest is SqlIndexStore's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ogmem.core.models import SearchFilter
from ogmem.core.storage import RecordHit, Vector
from ogmem.store.postgres_db import PostgresDatabase
from ogmem.store.sql_index import SqlIndexStore, filter_params

# owners holding at most this many records are scored exactly (1,000 records: ~2 ms in
# PostgreSQL on the bench machine, whatever the account holds; docs/decisions.md)
EXACT_OWNER_RECORDS = 20_000


def _hits(found: list[dict[str, Any]], score: str) -> list[RecordHit]:
    return [RecordHit(r["uri"], int(r["level"]), float(r[score])) for r in found]


class PostgresIndexStore(SqlIndexStore):
    def __init__(self, db: PostgresDatabase) -> None:
        super().__init__(db)

    def keyword_search(
        self, account_id: str, words: Sequence[str], search_filter: SearchFilter, limit: int
    ) -> list[RecordHit]:
        """Records matching any of the words, filtered in the query itself (the GIN index
        finds the matches, the filters and the ranking read only those)."""
        if not words:
            return []
        found = self._db.fetch_all(
            "keyword_search", account_id=account_id, words=list(words), limit=limit,
            **filter_params(search_filter),
        )  # fmt: skip
        return _hits(found, "rank")


class PgVectorIndex:
    """The VectorIndex port on pgvector: cosine distance over the partial HNSW index of the
    model's dimension, filtered by account and the SearchFilter in the same query. No cache in
    the process: every API server and worker reads the one index.

    HNSW filters after its graph walk (``hnsw.ef_search`` candidates, set per connection), so
    an owner holding 0.1 % of the table gets almost nothing back from it (pgvector 0.6 has no
    iterative scan). A search naming owners who hold at most ``exact_owner_records`` records
    (counted through the index on (account, owner)) scores those records exactly instead: the
    cost follows the owners, not the account. Otherwise the graph is walked, and when the filter
    leaves fewer than ``limit`` records (a narrow category), the account's records that pass
    the filter are scored exactly.
    """

    def __init__(
        self,
        db: PostgresDatabase,
        dimensions: int,
        model_id: str,
        *,
        exact_owner_records: int = EXACT_OWNER_RECORDS,
    ) -> None:
        self._db = db
        self._dims = int(dimensions)
        self._model_id = model_id
        self._exact_owner_records = exact_owner_records
        self._query = db.with_dimensions("vector_search", self._dims)
        db.fetch_one("ensure_vector_index", dims=self._dims)

    def search(
        self, account_id: str, query: Vector, search_filter: SearchFilter, limit: int
    ) -> list[RecordHit]:
        if limit <= 0:
            return []
        params = {
            "account_id": account_id,
            "query": np.asarray(query, dtype=np.float32),
            "model_id": self._model_id,
            "limit": limit,
            **filter_params(search_filter),
        }
        if self._few_owner_records(account_id, search_filter):
            found = self._db.fetch_all("vector_search_owners", dims=self._dims, **params)
            return _hits(found, "score")
        found = self._db.fetch_all(self._query, **params)
        if len(found) < limit:
            found = self._db.fetch_all("vector_search_exact", dims=self._dims, **params)
        return _hits(found, "score")

    def forget_owner(self, account_id: str, owner_space: str) -> None:
        """Nothing to drop: the vectors live only in the database."""

    def _few_owner_records(self, account_id: str, search_filter: SearchFilter) -> bool:
        if search_filter.owner_spaces is None:
            return False  # account-wide: the graph is the way
        (row,) = self._db.fetch_all(
            "owner_records_count", account_id=account_id,
            owner_spaces=[str(owner) for owner in search_filter.owner_spaces],
            most=self._exact_owner_records,
        )  # fmt: skip
        return int(row["n"]) <= self._exact_owner_records
