"""HnswVectorIndex: approximate cosine search (a usearch HNSW graph) for large accounts.

Exact search reads every vector of an owner: ~7 ms at 100k x 384 on this 2-core machine, bound
by memory bandwidth. An HNSW graph visits a few thousand of them instead. Owners with fewer
than ``exact_below`` live records keep the exact product; above it the owner's graph follows
the same cache as the exact index (NumpyVectorIndex's per-owner matrix, caught up from the
store's index clock), keyed by the matrix's slot numbers. A slot written or removed since the
graph last took it is "pending": it is scored exactly at search time until the graph has it
(removed, then added again if alive), so a search never misses a fresh record.

The graph stores i8 vectors (a third of f32's memory, faster, same recall once re-ranked):
candidates are re-ranked with the float32 vectors of the matrix, so scores equal the exact
index's. Measured with bench/hnsw_bench.py on bench/corpus.py's clustered 100k x 384 vectors (the
hard case: near-uniform points inside well-separated clusters), 4 x 50 candidates per search:
connectivity 32, expansion_add 128, expansion_search 1024 give recall@50 0.98 vs exact, ~2.7 ms
a vector search (exact: ~7 ms), a ~13-19 s build on 2 cores and a ~120 MB graph. Real MiniLM
embeddings of 5000 LoCoMo sentences are easier (recall@50 0.997). Lower expansion_search trades
recall for speed (640: 0.957); a lower connectivity leaves clusters poorly linked.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ogmem.core.models import SearchFilter
from ogmem.core.storage import IndexStore, RecordHit
from ogmem.index import vectors
from ogmem.index.matrix import OwnerMatrix, exact_search
from ogmem.index.owner_cache import OwnerKey

if TYPE_CHECKING:
    from usearch.index import Index

logger = logging.getLogger(__name__)

EXACT_BELOW = 20_000
BUILD_CHUNK = 4096  # rows copied out of the matrix per add() while building
PATCH_BATCH = 4  # slots patched per hold of the account lock: ~1 ms each, searches wait on it
REBUILD_SHARE = 0.25  # pending beyond this share of live records: a rebuild is quicker
EXACT_BEYOND = 8  # asking the graph for more than live / 8 candidates: the product is as fast


@dataclass(frozen=True, slots=True)
class HnswParams:
    """The graph's parameters; the defaults were measured by bench/hnsw_bench.py."""

    connectivity: int = 32
    expansion_add: int = 128
    expansion_search: int = 1024
    quantisation: str = "i8"
    # candidates asked per wanted hit: room for the filter to drop some, and for the float32
    # re-ranking to repair the order i8 distances got slightly wrong
    oversample: int = 4
    build_threads: int = 0  # 0: every core


@dataclass
class _Follower:
    """One owner's graph and its upkeep; guarded by the cache lock."""

    graph: Index | None = None
    upkeep: threading.Thread | None = None  # the one thread building or patching the graph
    failed: bool = False
    build_seconds: float | None = None


class HnswVectorIndex(vectors.NumpyVectorIndex):
    """The VectorIndex port: exact below ``exact_below`` live records of an owner, HNSW above.

    A graph follows one owner's matrix of the cache (an owner of a crowded account searches
    its own records, exactly unless it holds many) and goes when the cache drops the matrix.
    ``background``: build the graph and patch it with new writes in a thread, searching exactly
    (or scoring the pending records exactly) meanwhile; False does that work inside the search
    that finds it due (tests, benchmarks). The graph is built when an owner reaches
    ``exact_below`` live records and dropped when it falls under half of that, so an owner
    hovering at the threshold is not rebuilt over and over.
    """

    def __init__(
        self,
        index: IndexStore,
        dimensions: int,
        model_id: str,
        *,
        exact_below: int = EXACT_BELOW,
        params: HnswParams | None = None,
        background: bool = True,
        cache_mb: int | None = None,
    ) -> None:
        super().__init__(index, dimensions, model_id, cache_mb=cache_mb)
        self._dimensions = dimensions
        self._exact_below = exact_below
        self._keep_above = exact_below // 2
        self._params = params or HnswParams()
        self._background = background
        self._followers: dict[OwnerKey, _Follower] = {}
        self.cache.on_drop.append(self._forget_owner_graph)

    def search_owner(
        self,
        account_id: str,
        owner_space: str,
        query: npt.NDArray[np.float32],
        search_filter: SearchFilter,
        limit: int,
    ) -> list[RecordHit]:
        key = (account_id, owner_space)
        with self.cache.lock:
            matrix = self.cache.matrix(account_id, owner_space)
            graph = self._graph_in_step(key, matrix)
            hits = None
            if graph is not None:
                hits = self._approximate(graph, matrix, query, search_filter, limit)
            if hits is None:  # small owner, graph not ready, or too selective a filter
                hits = exact_search(matrix, query, search_filter, limit)
            return hits

    def build(self, account_id: str) -> bool:
        """Catch up, then build and patch the graphs of the account's owners now, in this
        thread (warm-up, benchmarks); waits for running upkeep first. True when searches of
        some owner use a graph."""
        built = False
        for owner in self.owners_to_search(account_id, SearchFilter()):
            built = self._build_owner((account_id, owner)) or built
        return built

    def uses_graph(self, account_id: str) -> bool:
        """Whether the searches of some owner of the account go through its graph (as of the
        last catch-up)."""
        with self.cache.lock:
            for (account, owner), follower in self._followers.items():
                matrix = self.cache.peek(account, owner)
                if account != account_id or follower.graph is None or matrix is None:
                    continue
                if len(matrix.slot_of) >= self._exact_below:
                    return True
            return False

    def build_seconds(self, account_id: str) -> float | None:
        """How long the last graph build of an owner of the account took (None: never)."""
        with self.cache.lock:
            times = [
                follower.build_seconds
                for (account, _), follower in self._followers.items()
                if account == account_id and follower.build_seconds is not None
            ]
            return max(times) if times else None

    def _build_owner(self, key: OwnerKey) -> bool:
        while True:
            with self.cache.lock:
                matrix = self.cache.matrix(*key)
                follower = self._follower(key)
                upkeep = follower.upkeep
                if upkeep is None:
                    live = len(matrix.slot_of)
                    if live < self._exact_below or follower.failed:
                        return False
                    if follower.graph is None:
                        self._build_inline(key, matrix, follower)
                    assert follower.graph is not None
                    _patch(follower.graph, matrix, None, self._params.build_threads)
                    return True
            upkeep.join()

    # -- keeping the graph in step (every method below runs under the cache lock) ----------

    def _follower(self, key: OwnerKey) -> _Follower:
        return self._followers.setdefault(key, _Follower())

    def _forget_owner_graph(self, key: OwnerKey) -> None:
        """The cache dropped the owner's matrix: its graph goes too (a running upkeep keeps
        its own reference and finishes on the old matrix, harmlessly)."""
        self._followers.pop(key, None)

    def _graph_in_step(self, key: OwnerKey, matrix: OwnerMatrix) -> Index | None:
        """The graph to search, or None for the exact product; starts upkeep when due."""
        live = len(matrix.slot_of)
        if live < self._keep_above and key not in self._followers:
            return None  # the common case, a small owner: no follower to keep
        follower = self._follower(key)
        if live < self._keep_above or follower.failed:
            _forget(follower, matrix)
            return None
        pending = len(matrix.changed or ())
        if follower.upkeep is None:
            if follower.graph is not None and pending > REBUILD_SHARE * live:
                follower.graph = None  # a fresh graph is cheaper than that many patches
            if follower.graph is None and live >= self._exact_below:
                self._start_build(key, matrix, follower)
            elif follower.graph is not None and pending:
                self._start_patching(key, matrix, follower)
        return follower.graph if live >= self._exact_below else None

    def _start_build(self, key: OwnerKey, matrix: OwnerMatrix, follower: _Follower) -> None:
        if not self._background:
            self._build_inline(key, matrix, follower)
            assert follower.graph is not None
            _patch(follower.graph, matrix, None, self._params.build_threads)
            return
        slots, source = _snapshot(matrix)
        self._spawn(key, matrix, follower, (slots, source))

    def _start_patching(self, key: OwnerKey, matrix: OwnerMatrix, follower: _Follower) -> None:
        if not self._background:
            assert follower.graph is not None
            _patch(follower.graph, matrix, None, self._params.build_threads)
            return
        self._spawn(key, matrix, follower, None)

    def _build_inline(self, key: OwnerKey, matrix: OwnerMatrix, follower: _Follower) -> None:
        slots, source = _snapshot(matrix)
        graph, seconds = self._filled(slots, source)
        follower.graph, follower.build_seconds = graph, seconds
        logger.info("built the HNSW graph of %s: %d records in %.1f s", key, len(slots),
                    seconds)  # fmt: skip

    def _spawn(
        self,
        key: OwnerKey,
        matrix: OwnerMatrix,
        follower: _Follower,
        build: tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]] | None,
    ) -> None:
        follower.upkeep = threading.Thread(
            target=self._upkeep,
            args=(key, matrix, follower, build),
            name=f"ogmem-hnsw-{key[0]}-{key[1]}",
            daemon=True,  # a half-built graph is only a cache: never hold up the exit for it
        )
        follower.upkeep.start()

    # -- the upkeep thread: takes the cache lock only for short steps ----------------------

    def _upkeep(
        self,
        key: OwnerKey,
        matrix: OwnerMatrix,
        follower: _Follower,
        build: tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]] | None,
    ) -> None:
        try:
            if build is not None:
                graph, seconds = self._filled(*build)  # off the lock: searches go on exactly
                with self.cache.lock:
                    follower.graph, follower.build_seconds = graph, seconds
                logger.info("built the HNSW graph of %s: %d records in %.1f s", key,
                            len(build[0]), seconds)  # fmt: skip
            while True:
                with self.cache.lock:
                    current = follower.graph
                    if current is None or not _patch(current, matrix, PATCH_BATCH, 1):
                        follower.upkeep = None  # in the same hold: no change can slip by
                        return
        except Exception:
            logger.exception("HNSW upkeep of %s failed; its searches stay exact", key)
            with self.cache.lock:
                follower.upkeep, follower.failed = None, True
                _forget(follower, matrix)

    def _filled(
        self, slots: npt.NDArray[np.intp], source: npt.NDArray[np.float32]
    ) -> tuple[Index, float]:
        started = time.perf_counter()
        params = self._params
        graph = _usearch_index()(
            ndim=self._dimensions,
            metric="cos",
            dtype=params.quantisation,
            connectivity=params.connectivity,
            expansion_add=params.expansion_add,
            expansion_search=params.expansion_search,
        )
        for start in range(0, len(slots), BUILD_CHUNK):
            chunk = slots[start : start + BUILD_CHUNK]
            graph.add(chunk.astype(np.uint64), source[chunk], threads=params.build_threads)
        return graph, time.perf_counter() - started

    # -- searching --------------------------------------------------------------------------

    def _approximate(
        self,
        graph: Index,
        matrix: OwnerMatrix,
        query: npt.NDArray[np.float32],
        search_filter: SearchFilter,
        limit: int,
    ) -> list[RecordHit] | None:
        """The graph's best ``limit`` records, re-ranked exactly; None when only the exact
        product can be sure of them."""
        excluded = matrix.excluded(search_filter)
        allowed = excluded.size - int(np.count_nonzero(excluded))
        live = len(matrix.slot_of)
        count = limit * self._params.oversample
        # a filter passing under 1/oversample of the records leaves too few of the candidates
        if allowed <= limit or allowed * self._params.oversample < live:
            return None
        if count * EXACT_BEYOND > live:
            return None
        found = graph.search(query, count, threads=1).keys.astype(np.intp)
        found = found[~excluded[found]]
        if len(found) < limit:  # the filter is selective around this query: be exact
            return None
        if matrix.changed:  # records the graph does not have yet (or has stale): score them all
            pending = np.fromiter(matrix.changed, dtype=np.intp, count=len(matrix.changed))
            found = np.union1d(found, pending[~excluded[pending]])
        scores = matrix.vectors[found] @ query
        best = np.argsort(-scores)[:limit]
        return [
            RecordHit(key[0], key[1], float(scores[i]))
            for i in best
            if (key := matrix.keys[found[i]]) is not None
        ]


@functools.cache
def _usearch_index() -> type[Index]:
    """usearch's Index class, loaded on first use: accounts searched exactly never load it."""
    _initialise_system_cxx_locale()
    from usearch.index import Index

    return Index


def _initialise_system_cxx_locale() -> None:
    """usearch's wheel carries its own (newer) libstdc++, linked statically, and exports the
    locale facet ids as GNU-unique symbols, which any libstdc++ loaded later binds to. When
    usearch assigns them first, the system libstdc++ of an extension loaded afterwards
    (onnxruntime, for MiniLM) segfaults initialising its locale. Initialising the system one
    first gives both copies the same, valid ids."""
    if not sys.platform.startswith("linux"):
        return
    try:
        classic = ctypes.CDLL("libstdc++.so.6")._ZNSt6locale7classicEv  # std::locale::classic()
    except (OSError, AttributeError):  # no system libstdc++: nothing can bind to usearch's ids
        return
    classic.restype = ctypes.c_void_p
    classic()


def _snapshot(
    matrix: OwnerMatrix,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """The live slots and the vector array to build from; from now on every slot written or
    removed is pending, so a row overwritten while the build reads it is put right afterwards."""
    slots = np.flatnonzero(matrix.alive[: len(matrix.keys)])
    matrix.changed = set()
    return slots, matrix.vectors


def _patch(graph: Index, matrix: OwnerMatrix, most: int | None, threads: int) -> bool:
    """Take up to ``most`` (None: all) pending slots into the graph; False if none was left."""
    changed = matrix.changed
    if not changed:
        return False
    taken = len(changed) if most is None else min(most, len(changed))
    slots = np.array([changed.pop() for _ in range(taken)], dtype=np.intp)
    graph.remove(slots.astype(np.uint64))  # an update is remove + add; absent keys are ignored
    alive = slots[matrix.alive[slots]]
    if len(alive):
        graph.add(alive.astype(np.uint64), matrix.vectors[alive], threads=threads)
    return True


def _forget(follower: _Follower, matrix: OwnerMatrix) -> None:
    """Drop the graph, unless an upkeep thread still works on it (the next search drops it)."""
    if follower.upkeep is None:
        follower.graph = None
        matrix.changed = None
