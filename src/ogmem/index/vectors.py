"""NumpyVectorIndex: exact cosine search over in-memory float32 matrices, one per owner.

The matrices are a cache of the index records in the store (ogmem.index.owner_cache): an owner
is loaded when first searched and kept in step with the account's index clock, so writes by a
worker in another process are seen too; the cache stays within a memory budget, dropping the
least recently used owners. A search reads only the matrices of the owners its filter names (a
user's, its agent's), so its cost follows what they hold, not the account: ~0.1 ms for a user
of 1,000 records however many other users share the account. An account-wide search (no owner
in the filter) reads every owner's matrix, one after the other, loading those not cached.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ogmem.core.models import SearchFilter
from ogmem.core.storage import IndexStore, RecordHit
from ogmem.index.matrix import best_of, exact_search, hits_of, ranked
from ogmem.index.owner_cache import DEFAULT_BUDGET_MB, MB, OwnerCache


class NumpyVectorIndex:
    """The VectorIndex port: exact search, cached per owner, refreshed from the store."""

    def __init__(
        self,
        index: IndexStore,
        dimensions: int,
        model_id: str,
        *,
        cache_mb: int | None = None,
    ) -> None:
        budget = DEFAULT_BUDGET_MB if cache_mb is None else cache_mb
        self.cache = OwnerCache(index, dimensions, model_id, budget * MB)

    def search(
        self,
        account_id: str,
        query: npt.NDArray[np.float32],
        search_filter: SearchFilter,
        limit: int,
    ) -> list[RecordHit]:
        if limit <= 0:
            return []
        query = np.asarray(query, dtype=np.float32)
        hits: list[RecordHit] = []
        for owner in self.owners_to_search(account_id, search_filter):
            hits.extend(self.search_owner(account_id, owner, query, search_filter, limit))
        return best_of(hits, limit)

    def owners_to_search(self, account_id: str, search_filter: SearchFilter) -> list[str]:
        """Catches the account up, then names the owners whose matrices the search reads."""
        with self.cache.lock:
            self.cache.catch_up(account_id)
            if search_filter.owner_spaces is not None:
                return list(dict.fromkeys(search_filter.owner_spaces))
            return self.cache.owners(account_id)

    def search_owner(
        self,
        account_id: str,
        owner_space: str,
        query: npt.NDArray[np.float32],
        search_filter: SearchFilter,
        limit: int,
    ) -> list[RecordHit]:
        """The cache lock is held to load the matrix and to read the hits' keys, not for the
        product itself, so concurrent searches run side by side; if the matrix changed
        meanwhile (rare: a catch-up between the two), the search is redone under the lock."""
        lock = self.cache.lock
        with lock:
            matrix = self.cache.matrix(account_id, owner_space)
            generation, size = matrix.generation, len(matrix.keys)
            rows, excluded = matrix.vectors[:size], matrix.excluded(search_filter)
        scores, top = ranked(rows, excluded, query, limit)
        with lock:
            if matrix.generation == generation:
                return hits_of(matrix, scores, top)
            return exact_search(matrix, query, search_filter, limit)

    def forget_owner(self, account_id: str, owner_space: str) -> None:
        """Drop an owner's vectors from memory (a user erased); the store is the truth."""
        with self.cache.lock:
            self.cache.forget_owner(account_id, owner_space)

    def forget_account(self, account_id: str) -> None:
        with self.cache.lock:
            self.cache.forget_account(account_id)
