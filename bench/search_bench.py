"""Search latency at 100k memories in one account, with full-text search and fusion on.

The 100k memories are synthetic (texts of 8-20 words from the LoCoMo vocabulary, clustered
384-d unit vectors) and loaded through the product's ports (bench/loader.py): the Store's bulk
creation for the nodes, the IndexStore the worker writes with for their records. Queries are a
record's vector plus noise and four of its words. Figures exclude the query embedding, except
``search_p50_ms_100k_with_embedding``, which embeds each query with the offline MiniLM model.
``search_bm25_hit_rate_100k`` is the share of queries whose keyword search found anything: a
broken full-text path shows there, not as a faster search.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import corpus, loader
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


def main() -> dict[str, float]:
    embedder = MiniLMEmbedder()
    texts = corpus.synthetic_texts(MEMORIES)
    vectors = corpus.clustered_vectors(MEMORIES)
    rng = np.random.default_rng(11)
    picks = rng.integers(0, MEMORIES, QUERIES)
    query_texts = [" ".join(rng.permutation(texts[i].split())[:4]) for i in picks]
    query_vectors = vectors[picks] + 0.3 * rng.standard_normal((QUERIES, 384)).astype(np.float32)
    query_vectors /= np.linalg.norm(query_vectors, axis=1, keepdims=True)
    ctx = RequestContext(ACCOUNT, USER)
    with (
        tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp,
        Engine.open(Path(tmp) / "search.sqlite", embedder=embedder, worker=False) as engine,
    ):
        loader.load(engine, ACCOUNT, USER, texts, vectors)
        engine.searcher.search("warm up", ctx, query_vector=query_vectors[0])  # loads the cache
        timings = []
        for text, vector in zip(query_texts, query_vectors, strict=True):
            started = time.perf_counter()
            engine.searcher.search(text, ctx, query_vector=vector)
            timings.append((time.perf_counter() - started) * 1000)
        with_embedding = []
        for text in query_texts[:100]:
            started = time.perf_counter()
            engine.search(text, ctx)
            with_embedding.append((time.perf_counter() - started) * 1000)
        hit_rate = bm25_hit_rate(engine, query_texts)
    return {
        "search_bm25_hit_rate_100k": hit_rate,
        "search_p50_ms_100k": statistics.median(timings),
        "search_p95_ms_100k": _percentile(timings, 95),
        "search_p50_ms_100k_with_embedding": statistics.median(with_embedding),
    }


if __name__ == "__main__":
    print(main())
