"""Search latency at 100k memories in one account, with full-text search and fusion on.

The 100k memories are synthetic texts (8-20 words from the LoCoMo vocabulary) with the vectors
the product's offline MiniLM model gives them, loaded through the product's ports
(bench/loader.py): the Store's bulk creation for the nodes, the IndexStore the worker writes
with for their records. Queries are four words of a memory and their MiniLM vector. Embedding
the 100k texts takes ~5 minutes, once per run (``workload``: the SQLite and PostgreSQL benches
share it). Until 2026-12-03 the vectors were random points around 256 centroids
(``corpus.clustered_vectors``): ~400 records of a cluster nearly equidistant from a query,
which no embedding model produces and on which a graph index needs 5x the search width that
MiniLM's vectors need (docs/decisions.md, "How wide the HNSW search looks"). Figures exclude
the query embedding, except ``search_p50_ms_100k_with_embedding``, which embeds each query.
``search_bm25_hit_rate_100k`` is the share of queries whose keyword search found anything: a
broken full-text path shows there, not as a faster search.

``pg_main`` runs the same on PostgreSQL (bench/pg.py, fsync on) with pgvector's HNSW index:
the records are loaded first, then the index is built by opening the engine (as the first
start after ``ogmem copy`` would; ``pg_search_index_build_s``). Its sanity figure beside the
latency: ``pg_search_recall_at_50_100k``, the share of the HNSW index's 50 nearest records that
are among the exact 50 nearest of the same vectors (ties at the 50th score count as found).
"""

from __future__ import annotations

import functools
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench import corpus, loader, pg
from ogmem.core.models import NodeStatus, RequestContext, SearchFilter
from ogmem.engine import Engine
from ogmem.index.embedders import MiniLMEmbedder
from ogmem.retrieval.keywords import keyword_terms

MEMORIES = 100_000
QUERIES = 200
ACCOUNT, USER = "bench", "u"


def bm25_hit_rate(engine: Engine, queries: list[str]) -> float:
    """Share of ``queries`` whose keyword search (the user's own records) found anything."""
    only_user = SearchFilter(owner_spaces=(f"user:{USER}",), statuses=(NodeStatus.ACTIVE,))
    found = [
        bool(engine.index.keyword_search(ACCOUNT, keyword_terms(q), only_user, 10)) for q in queries
    ]
    return sum(found) / len(found)


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


class Workload:
    """The memories and the queries: four words of a record and their vector; the warm-up
    queries are others of the same kind, so that the timed ones find the store as a serving
    process keeps it (index pages in memory), not the very pages they read before."""

    def __init__(self, embedder: MiniLMEmbedder) -> None:
        self.texts = corpus.synthetic_texts(MEMORIES)
        self.vectors = embedder.embed(self.texts)  # one call: sorted by length, less padding
        rng = np.random.default_rng(11)
        self.query_texts = self._queries(rng)
        self.warm_texts = self._queries(rng)
        self.query_vectors = embedder.embed(self.query_texts)
        self.warm_vectors = embedder.embed(self.warm_texts)

    def _queries(self, rng: np.random.Generator) -> list[str]:
        picks = rng.integers(0, MEMORIES, QUERIES)
        return [" ".join(rng.permutation(self.texts[i].split())[:4]) for i in picks]


@functools.cache
def workload() -> tuple[MiniLMEmbedder, Workload]:
    """The run's embedder and workload, built once: embedding 100k texts is the slow part."""
    embedder = MiniLMEmbedder()
    print("  (embedding 100k texts with MiniLM, once per run: ~5 min)", flush=True)
    return embedder, Workload(embedder)


def timed_searches(engine: Engine, work: Workload) -> dict[str, float]:
    """Hybrid search latencies (without, then with the query's embedding) and the BM25 hit
    rate, over the loaded ``work``."""
    ctx = RequestContext(ACCOUNT, USER)
    for text, vector in zip(work.warm_texts, work.warm_vectors, strict=True):
        engine.searcher.search(text, ctx, query_vector=vector)  # caches, buffers, pages
    timings = []
    for text, vector in zip(work.query_texts, work.query_vectors, strict=True):
        started = time.perf_counter()
        engine.searcher.search(text, ctx, query_vector=vector)
        timings.append((time.perf_counter() - started) * 1000)
    with_embedding = []
    for text in work.query_texts[:100]:
        started = time.perf_counter()
        engine.search(text, ctx)
        with_embedding.append((time.perf_counter() - started) * 1000)
    return {
        "search_bm25_hit_rate_100k": bm25_hit_rate(engine, work.query_texts),
        "search_p50_ms_100k": statistics.median(timings),
        "search_p95_ms_100k": _percentile(timings, 95),
        "search_p50_ms_100k_with_embedding": statistics.median(with_embedding),
    }


def recall_at(
    engine: Engine, vectors: npt.NDArray[np.float32], queries: npt.NDArray[np.float32], k: int
) -> float:
    """Mean share of the engine's k nearest records whose true score reaches the k-th best
    exact score over ``vectors`` (one record per memory, as the loader writes them)."""
    only_user = SearchFilter(owner_spaces=(f"user:{USER}",), statuses=(NodeStatus.ACTIVE,))
    shares = []
    for query in queries:
        kth_best = np.partition(vectors @ query, -k)[-k]
        hits = engine.vectors.search(ACCOUNT, query, only_user, k)
        shares.append(sum(hit.score >= kth_best - 1e-5 for hit in hits[:k]) / k)
    return float(np.mean(shares))


def main() -> dict[str, float]:
    embedder, work = workload()
    with (
        tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp,
        Engine.open(Path(tmp) / "search.sqlite", embedder=embedder, worker=False) as engine,
    ):
        loader.load(engine, ACCOUNT, USER, work.texts, work.vectors)
        return timed_searches(engine, work)


def pg_main() -> dict[str, float]:
    embedder, work = workload()
    with pg.database() as url:
        # the exact index creates nothing in the database: the HNSW index is built once, after
        with Engine.open(url, embedder=embedder, worker=False, vector_index="exact") as engine:
            loader.load(engine, ACCOUNT, USER, work.texts, work.vectors)
        started = time.perf_counter()
        with Engine.open(url, embedder=embedder, worker=False) as engine:
            build_s = time.perf_counter() - started
            figures = timed_searches(engine, work)
            recall = recall_at(engine, work.vectors, work.query_vectors, 50)
    named = {f"pg_{name}": value for name, value in figures.items()}
    return {**named, "pg_search_recall_at_50_100k": recall, "pg_search_index_build_s": build_s}


if __name__ == "__main__":
    print(main())
