"""OwnerMatrix: the vectors and filter columns of one owner's records, searched exactly.

A float32 matrix with a slot per record (slots of removed records are reused) and small
integer codes for the filter columns, so a filter is one vectorised isin(). The cache
(ogmem.index.owner_cache) keeps one per (account, owner space).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ogmem.core.models import SearchFilter
from ogmem.core.storage import IndexedVector, RecordHit, best_first

MIN_CAPACITY = 16
FILTER_COLUMNS = ("owner_space", "category", "context_type", "status")
# what a slot costs beside its vector: its key tuple and URI string, the slot_of entry, and
# what the allocators lose to them when owners come and go. Measured as the process's RSS
# beyond the arrays: ~310 bytes a slot after 11,000 owners came and went (bench/scale_bench.py,
# 2026-12-02), where the objects alone trace to ~240 (tracemalloc). And a matrix beside its
# slots: the object, its dicts and code tables (5 records of 384-d traced 30 KB, 26 KB slots)
SLOT_OVERHEAD_BYTES = 320
MATRIX_OVERHEAD_BYTES = 4096


@dataclass
class _Codes:
    """Small integer codes for a text column, so filters become one vectorised isin()."""

    by_text: dict[str, int] = field(default_factory=dict)

    def code(self, text: str) -> int:
        return self.by_text.setdefault(text, len(self.by_text))

    def wanted(self, texts: Iterable[str]) -> list[int]:
        return [self.by_text[t] for t in texts if t in self.by_text]


class OwnerMatrix:
    """The vectors of one owner; ``capacity``: the records expected (it grows as needed)."""

    def __init__(self, dimensions: int, capacity: int = MIN_CAPACITY) -> None:
        size = max(MIN_CAPACITY, capacity)
        self.dimensions = dimensions
        self.vectors = np.zeros((size, dimensions), dtype=np.float32)
        self.columns = {name: np.full(size, -1, dtype=np.int32) for name in FILTER_COLUMNS}
        self.codes = {name: _Codes() for name in FILTER_COLUMNS}
        self.alive = np.zeros(size, dtype=bool)
        self.keys: list[tuple[str, int] | None] = []
        self.slot_of: dict[tuple[str, int], int] = {}
        self.free: list[int] = []
        self.generation = 0  # bumped by every catch-up: a search that raced one is redone
        # searches repeat the same few filters; a mask stays valid until the matrix changes
        self._masks: dict[SearchFilter, npt.NDArray[np.bool_]] = {}
        # slots upserted or removed since a follower (an HNSW graph) last took them; None when
        # nobody follows, so the exact index pays nothing for it
        self.changed: set[int] | None = None

    def nbytes(self) -> int:
        """What the matrix holds in memory, near enough for a cache budget."""
        arrays = self.vectors.nbytes + self.alive.nbytes
        arrays += sum(column.nbytes for column in self.columns.values())
        return arrays + SLOT_OVERHEAD_BYTES * len(self.keys) + MATRIX_OVERHEAD_BYTES

    def upsert(self, record: IndexedVector) -> None:
        self._masks.clear()
        key = (record.uri, record.level)
        slot = self.slot_of.get(key)
        if slot is None:
            slot = self._new_slot()
            self.slot_of[key] = slot
            self.keys[slot] = key
        self.vectors[slot] = record.vector
        for name in FILTER_COLUMNS:
            self.columns[name][slot] = self.codes[name].code(str(getattr(record, name)))
        self.alive[slot] = True
        if self.changed is not None:
            self.changed.add(slot)

    def remove(self, key: tuple[str, int]) -> None:
        slot = self.slot_of.pop(key, None)
        if slot is not None:
            self._masks.clear()
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
        for name in FILTER_COLUMNS:
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


def exact_search(
    matrix: OwnerMatrix,
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
    matrix: OwnerMatrix, scores: npt.NDArray[np.float32], top: npt.NDArray[np.intp]
) -> list[RecordHit]:
    # plain floats and ints first: indexing a numpy array once per hit cost more than the
    # matrix product (500 hits: ~1.5 ms against 0.1 ms)
    chosen = scores[top]
    finite = np.isfinite(chosen).tolist()
    keys = matrix.keys
    return [
        RecordHit(key[0], key[1], score)
        for i, score, kept in zip(top.tolist(), chosen.tolist(), finite, strict=True)
        if kept and (key := keys[i]) is not None
    ]


def best_of(hits: list[RecordHit], limit: int) -> list[RecordHit]:
    """The ``limit`` best of hits gathered from several owners (scores are comparable: each
    is the exact cosine), ties in (uri, level) order."""
    return best_first(hits)[:limit]


def _top_indices(scores: npt.NDArray[np.float32], limit: int) -> npt.NDArray[np.intp]:
    if limit >= len(scores):
        return np.argsort(-scores)
    candidates = np.argpartition(scores, len(scores) - limit)[-limit:]
    return candidates[np.argsort(-scores[candidates])]
