"""HnswVectorIndex: approximate cosine search (a usearch HNSW graph) for large accounts.

Exact search reads every vector of the account: ~7 ms at 100k x 384 on this 2-core machine,
bound by memory bandwidth. An HNSW graph visits a few thousand of them instead. Accounts with
fewer than ``exact_below`` live records keep the exact product; above it the account's graph
follows the same cache as the exact index (NumpyVectorIndex's per-account matrix, caught up from
the store's index clock), keyed by the matrix's slot numbers. A slot written or removed since
the graph last took it is "pending": it is scored exactly at search time until the graph has it
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
    """One account's graph and its upkeep; guarded by the account lock."""

    graph: Index | None = None
    upkeep: threading.Thread | None = None  # the one thread building or patching the graph
    failed: bool = False
    build_seconds: float | None = None


class HnswVectorIndex:
    """The VectorIndex port: exact below ``exact_below`` live records, HNSW above.

    ``background``: build the graph and patch it with new writes in a thread, searching exactly
    (or scoring the pending records exactly) meanwhile; False does that work inside the search
    that finds it due (tests, benchmarks). The graph is built when an account reaches
    ``exact_below`` live records and dropped when it falls under half of that, so an account
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
    ) -> None:
        # the exact index owns the per-account matrices, their catch-up and their locks
        self._exact = vectors.NumpyVectorIndex(index, dimensions, model_id)
        self._dimensions = dimensions
        self._exact_below = exact_below
        self._keep_above = exact_below // 2
        self._params = params or HnswParams()
        self._background = background
        self._followers: dict[str, _Follower] = {}

    def search(
        self,
        account_id: str,
        query: npt.NDArray[np.float32],
        search_filter: SearchFilter,
        limit: int,
    ) -> list[RecordHit]:
        with self._lock(account_id):
            matrix = self._exact._refreshed(account_id)
            graph = self._graph_in_step(account_id, matrix)
            hits = None
            if graph is not None and limit > 0:
                query = np.asarray(query, dtype=np.float32)
                hits = self._approximate(graph, matrix, query, search_filter, limit)
            if hits is None:  # small account, graph not ready, or too selective a filter
                hits = vectors.exact_search(matrix, query, search_filter, limit)
            return hits

    def build(self, account_id: str) -> bool:
        """Catch up, then build and patch the account's graph now, in this thread (warm-up,
        benchmarks); waits for a running upkeep first. True when searches use the graph."""
        while True:
            with self._lock(account_id):
                matrix = self._exact._refreshed(account_id)
                follower = self._follower(account_id)
                upkeep = follower.upkeep
                if upkeep is None:
                    live = len(matrix.slot_of)
                    if live < self._exact_below or follower.failed:
                        return False
                    if follower.graph is None:
                        self._build_inline(account_id, matrix, follower)
                    assert follower.graph is not None
                    _patch(follower.graph, matrix, None, self._params.build_threads)
                    return True
            upkeep.join()

    def uses_graph(self, account_id: str) -> bool:
        """Whether the account's searches go through its graph (as of the last catch-up)."""
        with self._lock(account_id):
            follower = self._followers.get(account_id)
            matrix = self._exact._accounts.get(account_id)
            return (
                follower is not None
                and follower.graph is not None
                and matrix is not None
                and len(matrix.slot_of) >= self._exact_below
            )

    def build_seconds(self, account_id: str) -> float | None:
        """How long the account's last graph build took (None: never built)."""
        with self._lock(account_id):
            follower = self._followers.get(account_id)
            return None if follower is None else follower.build_seconds

    # -- keeping the graph in step (every method below runs under the account lock) --------

    def _lock(self, account_id: str) -> threading.Lock:
        return self._exact._lock(account_id)

    def _follower(self, account_id: str) -> _Follower:
        return self._followers.setdefault(account_id, _Follower())

    def _graph_in_step(self, account_id: str, matrix: vectors._AccountMatrix) -> Index | None:
        """The graph to search, or None for the exact product; starts upkeep when due."""
        follower = self._follower(account_id)
        live = len(matrix.slot_of)
        if live < self._keep_above or follower.failed:
            _forget(follower, matrix)
            return None
        pending = len(matrix.changed or ())
        if follower.upkeep is None:
            if follower.graph is not None and pending > REBUILD_SHARE * live:
                follower.graph = None  # a fresh graph is cheaper than that many patches
            if follower.graph is None and live >= self._exact_below:
                self._start_build(account_id, matrix, follower)
            elif follower.graph is not None and pending:
                self._start_patching(account_id, matrix, follower)
        return follower.graph if live >= self._exact_below else None

    def _start_build(
        self, account_id: str, matrix: vectors._AccountMatrix, follower: _Follower
    ) -> None:
        if not self._background:
            self._build_inline(account_id, matrix, follower)
            assert follower.graph is not None
            _patch(follower.graph, matrix, None, self._params.build_threads)
            return
        slots, source = _snapshot(matrix)
        self._spawn(account_id, matrix, follower, (slots, source))

    def _start_patching(
        self, account_id: str, matrix: vectors._AccountMatrix, follower: _Follower
    ) -> None:
        if not self._background:
            assert follower.graph is not None
            _patch(follower.graph, matrix, None, self._params.build_threads)
            return
        self._spawn(account_id, matrix, follower, None)

    def _build_inline(
        self, account_id: str, matrix: vectors._AccountMatrix, follower: _Follower
    ) -> None:
        slots, source = _snapshot(matrix)
        graph, seconds = self._filled(slots, source)
        follower.graph, follower.build_seconds = graph, seconds
        logger.info("built the HNSW graph of %s: %d records in %.1f s", account_id,
                    len(slots), seconds)  # fmt: skip

    def _spawn(
        self,
        account_id: str,
        matrix: vectors._AccountMatrix,
        follower: _Follower,
        build: tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]] | None,
    ) -> None:
        follower.upkeep = threading.Thread(
            target=self._upkeep,
            args=(account_id, matrix, follower, build),
            name=f"ogmem-hnsw-{account_id}",
            daemon=True,  # a half-built graph is only a cache: never hold up the exit for it
        )
        follower.upkeep.start()

    # -- the upkeep thread: takes the account lock only for short steps --------------------

    def _upkeep(
        self,
        account_id: str,
        matrix: vectors._AccountMatrix,
        follower: _Follower,
        build: tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]] | None,
    ) -> None:
        try:
            if build is not None:
                graph, seconds = self._filled(*build)  # off the lock: searches go on exactly
                with self._lock(account_id):
                    follower.graph, follower.build_seconds = graph, seconds
                logger.info("built the HNSW graph of %s: %d records in %.1f s", account_id,
                            len(build[0]), seconds)  # fmt: skip
            while True:
                with self._lock(account_id):
                    current = follower.graph
                    if current is None or not _patch(current, matrix, PATCH_BATCH, 1):
                        follower.upkeep = None  # in the same hold: no change can slip by
                        return
        except Exception:
            logger.exception("HNSW upkeep of %s failed; its searches stay exact", account_id)
            with self._lock(account_id):
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
        matrix: vectors._AccountMatrix,
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
    matrix: vectors._AccountMatrix,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
    """The live slots and the vector array to build from; from now on every slot written or
    removed is pending, so a row overwritten while the build reads it is put right afterwards."""
    slots = np.flatnonzero(matrix.alive[: len(matrix.keys)])
    matrix.changed = set()
    return slots, matrix.vectors


def _patch(graph: Index, matrix: vectors._AccountMatrix, most: int | None, threads: int) -> bool:
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


def _forget(follower: _Follower, matrix: vectors._AccountMatrix) -> None:
    """Drop the graph, unless an upkeep thread still works on it (the next search drops it)."""
    if follower.upkeep is None:
        follower.graph = None
        matrix.changed = None
