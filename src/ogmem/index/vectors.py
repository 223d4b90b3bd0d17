"""NumpyVectorIndex: exact cosine search over an in-memory float32 matrix per account.

The matrix is a cache of the index records in the store. Before each search it catches up
with the account's index clock (records written and tombstones left since the last look), so
writes by a worker in another process are seen too. Exact search: ~8 ms for 100k x 384 on this
2-core machine; an HNSW index can take its place behind the same port.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ogmem.core.models import SearchFilter
from ogmem.core.storage import IndexChanges, IndexedVector, IndexStore, RecordHit
from ogmem.core.storage_erase import ERASED_TOMBSTONE

logger = logging.getLogger(__name__)

INITIAL_CAPACITY = 1024
_FILTER_COLUMNS = ("owner_space", "category", "context_type", "status")


@dataclass
class _Codes:
    """Small integer codes for a text column, so filters become one vectorised isin()."""

    by_text: dict[str, int] = field(default_factory=dict)

    def code(self, text: str) -> int:
        return self.by_text.setdefault(text, len(self.by_text))

    def wanted(self, texts: Iterable[str]) -> list[int]:
        return [self.by_text[t] for t in texts if t in self.by_text]


class _AccountMatrix:
    """The vectors of one account; slots of removed records are reused."""

    def __init__(self, dimensions: int) -> None:
        self.dimensions = dimensions
        self.vectors = np.zeros((INITIAL_CAPACITY, dimensions), dtype=np.float32)
        self.columns = {
            name: np.full(INITIAL_CAPACITY, -1, dtype=np.int32) for name in _FILTER_COLUMNS
        }
        self.codes = {name: _Codes() for name in _FILTER_COLUMNS}
        self.alive = np.zeros(INITIAL_CAPACITY, dtype=bool)
        self.keys: list[tuple[str, int] | None] = []
        self.slot_of: dict[tuple[str, int], int] = {}
        self.free: list[int] = []
        self.seq = 0
        self.generation = 0  # bumped by every catch-up that changed something
        # searches repeat the same few filters; a mask stays valid until the matrix changes
        self._masks: dict[SearchFilter, npt.NDArray[np.bool_]] = {}
        # slots upserted or removed since a follower (an HNSW graph) last took them; None when
        # nobody follows, so the exact index pays nothing for it
        self.changed: set[int] | None = None

    def upsert(self, record: IndexedVector) -> None:
        self._masks.clear()
        key = (record.uri, record.level)
        slot = self.slot_of.get(key)
        if slot is None:
            slot = self._new_slot()
            self.slot_of[key] = slot
            self.keys[slot] = key
        self.vectors[slot] = record.vector
        for name in _FILTER_COLUMNS:
            self.columns[name][slot] = self.codes[name].code(str(getattr(record, name)))
        self.alive[slot] = True
        if self.changed is not None:
            self.changed.add(slot)

    def remove(self, key: tuple[str, int]) -> None:
        self._masks.clear()
        slot = self.slot_of.pop(key, None)
        if slot is not None:
            self.alive[slot] = False
            self.vectors[slot] = 0.0  # an erased user's vectors must not linger in memory
            self.keys[slot] = None
            self.free.append(slot)
            if self.changed is not None:
                self.changed.add(slot)

    def _new_slot(self) -> int:
        if self.free:
            return self.free.pop()
        slot = len(self.keys)
        if slot >= len(self.alive):
            self._grow()
        self.keys.append(None)
        return slot

    def _grow(self) -> None:
        extra = len(self.alive)
        self.vectors = np.vstack([self.vectors, np.zeros((extra, self.dimensions), np.float32)])
        self.alive = np.concatenate([self.alive, np.zeros(len(self.alive), dtype=bool)])
        for name in _FILTER_COLUMNS:
            column = self.columns[name]
            self.columns[name] = np.concatenate([column, np.full(len(column), -1, dtype=np.int32)])

    def excluded(self, search_filter: SearchFilter) -> npt.NDArray[np.bool_]:
        """True where a slot may not be returned (dead, or outside the filter); cached."""
        cached = self._masks.get(search_filter)
        if cached is None:
            cached = self._masks[search_filter] = ~self._build_mask(search_filter)
        return cached

    def _build_mask(self, search_filter: SearchFilter) -> npt.NDArray[np.bool_]:
        size = len(self.keys)
        mask = self.alive[:size].copy()
        wanted = {
            "owner_space": search_filter.owner_spaces,
            "category": search_filter.categories,
            "context_type": search_filter.context_types,
            "status": search_filter.statuses,
        }
        for name, values in wanted.items():
            if values is not None:
                codes = self.codes[name].wanted(str(v) for v in values)
                mask &= np.isin(self.columns[name][:size], codes)
        return mask


class NumpyVectorIndex:
    """The VectorIndex port: exact search, cached per account, refreshed from the store."""

    def __init__(self, index: IndexStore, dimensions: int, model_id: str) -> None:
        self._index = index
        self._dimensions = dimensions
        self._model_id = model_id
        self._accounts: dict[str, _AccountMatrix] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def search(
        self,
        account_id: str,
        query: npt.NDArray[np.float32],
        search_filter: SearchFilter,
        limit: int,
    ) -> list[RecordHit]:
        """The account's lock is held to catch up and to read the hits' keys, not for the
        product itself, so concurrent searches of one account run side by side; if the matrix
        changed meanwhile (rare: a refresh between the two), the search is redone under it."""
        lock = self._lock(account_id)
        with lock:
            matrix = self._refreshed(account_id)
            generation, size = matrix.generation, len(matrix.keys)
            rows, excluded = matrix.vectors[:size], matrix.excluded(search_filter)
        scores, top = ranked(rows, excluded, query, limit)
        with lock:
            if matrix.generation == generation:
                return hits_of(matrix, scores, top)
            return exact_search(matrix, query, search_filter, limit)

    def _lock(self, account_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(account_id, threading.Lock())

    def _matrix(self, account_id: str) -> _AccountMatrix:
        matrix = self._accounts.get(account_id)
        if matrix is None:
            matrix = self._accounts[account_id] = _AccountMatrix(self._dimensions)
        return matrix

    def _refreshed(self, account_id: str) -> _AccountMatrix:
        matrix = self._matrix(account_id)
        if self._index.clock(account_id) == matrix.seq:
            return matrix
        changes = self._index.changes_since(account_id, matrix.seq)
        if ERASED_TOMBSTONE in changes.removed:
            changes = self._reload(account_id, matrix)
        for key in changes.removed:
            matrix.remove(key)
        skipped = 0
        for record in changes.written:
            if record.model_id != self._model_id:
                skipped += 1
                matrix.remove((record.uri, record.level))
                continue
            matrix.upsert(record)
        if skipped:
            logger.warning(
                "%d index records of %s were embedded by another model; run `ogmem reindex`",
                skipped, account_id,
            )  # fmt: skip
        matrix.seq = changes.clock
        matrix.generation += 1
        return matrix

    def _reload(self, account_id: str, matrix: _AccountMatrix) -> IndexChanges:
        """Every record of the account, and as removed every cached key not among them:
        after an erase, whose tombstone does not say which records went."""
        changes = self._index.changes_since(account_id, 0)
        kept = {(record.uri, record.level) for record in changes.written}
        changes.removed.extend(key for key in matrix.slot_of if key not in kept)
        return changes


def exact_search(
    matrix: _AccountMatrix,
    query: npt.NDArray[np.float32],
    search_filter: SearchFilter,
    limit: int,
) -> list[RecordHit]:
    """The ``limit`` best records of a caught-up matrix by dot product (cosine: unit vectors)."""
    size = len(matrix.keys)
    scores, top = ranked(matrix.vectors[:size], matrix.excluded(search_filter), query, limit)
    return hits_of(matrix, scores, top)


def ranked(
    rows: npt.NDArray[np.float32],
    excluded: npt.NDArray[np.bool_],
    query: npt.NDArray[np.float32],
    limit: int,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.intp]]:
    """Scores of every row (excluded ones -inf) and the indices of the ``limit`` best."""
    if len(rows) == 0 or limit <= 0:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.intp)
    scores = rows @ np.asarray(query, dtype=np.float32)
    np.putmask(scores, excluded, -np.inf)
    return scores, _top_indices(scores, limit)


def hits_of(
    matrix: _AccountMatrix, scores: npt.NDArray[np.float32], top: npt.NDArray[np.intp]
) -> list[RecordHit]:
    return [
        RecordHit(key[0], key[1], float(scores[i]))
        for i in top
        if np.isfinite(scores[i]) and (key := matrix.keys[i]) is not None
    ]


def _top_indices(scores: npt.NDArray[np.float32], limit: int) -> npt.NDArray[np.intp]:
    if limit >= len(scores):
        return np.argsort(-scores)
    candidates = np.argpartition(scores, len(scores) - limit)[-limit:]
    return candidates[np.argsort(-scores[candidates])]
