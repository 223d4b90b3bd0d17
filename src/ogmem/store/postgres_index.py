"""The PostgreSQL search index: full text on a generated tsvector (GIN), ranked by cover
density, and nearest neighbours with pgvector's HNSW index; the rest is SqlIndexStore's."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from cachetools import TTLCache

from ogmem.core.models import SearchFilter
from ogmem.core.storage import RecordHit, Vector
from ogmem.store.postgres_db import PostgresDatabase
from ogmem.store.sql_index import SqlIndexStore, filter_params

# owners holding at most this many records are scored exactly (1,000 records: ~2 ms in
# PostgreSQL on the bench machine, whatever the account holds; docs/decisions.md)
EXACT_OWNER_RECORDS = 20_000
# how long a verdict on the owners' size is trusted; a stale one only picks the other plan for
# a while (both filter alike: the results stay right, see OwnerSizes)
OWNER_SIZE_TTL_S = 60.0
OWNER_SIZE_ENTRIES = 10_000  # verdicts kept, the least recently used dropped first (~2 MB)


def _hits(found: list[dict[str, Any]], score: str) -> list[RecordHit]:
    return [RecordHit(r["uri"], int(r["level"]), float(r[score])) for r in found]


class OwnerSizes:
    """Whether a search's owners hold at most ``most`` index records: counted in the database
    (through the index on (account, owner), up to ``most`` + 1) and remembered for ``ttl_s``,
    so that a user's searches do not count again each time (~4 ms a search at 100k records,
    on the path the search waits for). Both searches ask: the vector search scores a few
    owners' records exactly instead of walking the graph, the keyword search reads theirs
    instead of the GIN index's matches over the account.

    A verdict may go stale within its time, and only ever picks the other plan: both plans
    apply the same filter, so an owner who outgrew ``most`` is scored exactly a while longer
    (slower), and one who shrank walks the graph, which falls back to exact scoring when it
    finds too few. Searches of the whole account (no owners) never ask the database.
    """

    def __init__(
        self,
        db: PostgresDatabase,
        most: int = EXACT_OWNER_RECORDS,
        *,
        ttl_s: float = OWNER_SIZE_TTL_S,
        entries: int = OWNER_SIZE_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._db = db
        self._most = most
        # least recently used first out past ``entries``, each kept ``ttl_s``; not thread-safe
        self._verdicts: TTLCache[tuple[str, tuple[str, ...]], bool] = TTLCache(
            entries, ttl_s, timer=clock
        )
        self._lock = threading.Lock()

    def few(self, account_id: str, owner_spaces: Sequence[str] | None) -> bool:
        """Whether the owners hold at most ``most`` records; False for the whole account."""
        if owner_spaces is None:
            return False
        key = (account_id, tuple(sorted(str(owner) for owner in owner_spaces)))
        with self._lock:
            held = self._verdicts.get(key)
        if held is not None:
            return held
        (row,) = self._db.fetch_all(
            "owner_records_count", account_id=account_id, owner_spaces=list(key[1]),
            most=self._most,
        )  # fmt: skip
        verdict = int(row["n"]) <= self._most
        with self._lock:
            self._verdicts[key] = verdict
        return verdict

    def forget_owner(self, account_id: str, owner_space: str) -> None:
        """Drop the verdicts naming this owner (its records were erased)."""
        with self._lock:
            for key in [k for k in self._verdicts if k[0] == account_id and owner_space in k[1]]:
                self._verdicts.pop(key, None)


class PostgresIndexStore(SqlIndexStore):
    def __init__(self, db: PostgresDatabase, sizes: OwnerSizes) -> None:
        super().__init__(db)
        self._sizes = sizes

    def keyword_search(
        self, account_id: str, words: Sequence[str], search_filter: SearchFilter, limit: int
    ) -> list[RecordHit]:
        """Records matching any of the words, filtered in the query itself: the GIN index
        finds the matches, the filters and the ranking read only those; or, for owners who
        hold few records, theirs are read and matched (migration 0014)."""
        if not words:
            return []
        few = self._sizes.few(account_id, search_filter.owner_spaces)
        found = self._db.fetch_all(
            "keyword_search", account_id=account_id, words=list(words), limit=limit,
            few_owner_records=few, **filter_params(search_filter),
        )  # fmt: skip
        return _hits(found, "rank")


class PgVectorIndex:
    """The VectorIndex port on pgvector: cosine distance over the partial HNSW index of the
    model's dimension, filtered by account and the SearchFilter in the same query. No cache in
    the process: every API server and worker reads the one index.

    HNSW filters after its graph walk (``hnsw.ef_search`` candidates, set per connection), so
    an owner holding 0.1 % of the table gets almost nothing back from it (pgvector 0.6 has no
    iterative scan). A search naming owners who hold few records (``OwnerSizes``) scores
    those records exactly instead: the cost follows the owners, not the account. Otherwise
    the graph is walked, and when the filter leaves fewer than ``limit`` records (a narrow
    category), the account's records that pass the filter are scored exactly.

    A search of the whole account (no owners; no product route asks for one, every search
    names its user) is scored exactly as well, as SQLite scores it: at 1M records of crowded
    vectors the graph's widest walk found a third of the exact 10 (bench/scale_bench.py). Such
    a search costs what the account holds, and finds what it should.
    """

    def __init__(
        self,
        db: PostgresDatabase,
        dimensions: int,
        model_id: str,
        sizes: OwnerSizes,
    ) -> None:
        self._db = db
        self._dims = int(dimensions)
        self._model_id = model_id
        self._sizes = sizes
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
        if self._sizes.few(account_id, search_filter.owner_spaces):
            found = self._db.fetch_all("vector_search_owners", dims=self._dims, **params)
            return _hits(found, "score")
        if search_filter.owner_spaces is None:
            found = self._db.fetch_all("vector_search_exact", dims=self._dims, **params)
            return _hits(found, "score")
        found = self._db.fetch_all(self._query, **params)
        if len(found) < limit:
            found = self._db.fetch_all("vector_search_exact", dims=self._dims, **params)
        return _hits(found, "score")

    def forget_owner(self, account_id: str, owner_space: str) -> None:
        """The vectors live only in the database; the owner's size is counted again."""
        self._sizes.forget_owner(account_id, owner_space)
