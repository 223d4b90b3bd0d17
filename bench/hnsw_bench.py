"""HNSW search at 100k memories: latency, recall@50 against exact search, graph build time.

Same memories (with their MiniLM vectors), queries and loading as bench/search_bench.py, whose
workload a run builds once, with the Searcher wired to an
HnswVectorIndex (graph built before timing; latency excludes the query embedding). Recall@50
compares the HNSW index with the exact NumpyVectorIndex on the same records and filter, at the
depth the Searcher asks for with its default limit (50).

``python -m bench.hnsw_bench real`` also measures recall@50 on real MiniLM embeddings of LoCoMo
sentences (embedding them takes a minute or two).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench import corpus, loader, search_bench
from ogmem.core.models import RequestContext, SearchFilter
from ogmem.engine import Engine
from ogmem.index.embedders import MiniLMEmbedder
from ogmem.index.hnsw import HnswVectorIndex
from ogmem.index.vectors import NumpyVectorIndex
from ogmem.retrieval.search import Searcher

ACCOUNT, USER = search_bench.ACCOUNT, search_bench.USER
DEPTH = 50  # the Searcher's vector depth for limit=10
REAL_SENTENCES, REAL_QUERIES = 5000, 200


def _recall(
    engine: Engine,
    approximate: HnswVectorIndex,
    query_vectors: npt.NDArray[np.float32],
    model_id: str,
) -> float:
    exact = NumpyVectorIndex(engine.index, query_vectors.shape[1], model_id)
    search_filter = SearchFilter(owner_spaces=(f"user:{USER}",))
    recalls = []
    for vector in query_vectors:
        expected = {h.uri for h in exact.search(ACCOUNT, vector, search_filter, DEPTH)}
        found = {h.uri for h in approximate.search(ACCOUNT, vector, search_filter, DEPTH)}
        recalls.append(len(found & expected) / len(expected))
    return float(np.mean(recalls))


def main() -> dict[str, float]:
    embedder, work = search_bench.workload()
    texts, vectors = work.texts, work.vectors
    query_texts, query_vectors = work.query_texts, work.query_vectors
    ctx = RequestContext(ACCOUNT, USER)
    with (
        tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp,
        Engine.open(Path(tmp) / "hnsw.sqlite", embedder=embedder, worker=False) as engine,
    ):
        loader.load(engine, ACCOUNT, USER, texts, vectors)
        index = HnswVectorIndex(engine.index, embedder.dimensions, embedder.model_id)
        if not index.build(ACCOUNT):
            raise SystemExit("the HNSW graph was not built")
        searcher = Searcher(engine.store, engine.index, index, embedder)
        searcher.search("warm up", ctx, query_vector=query_vectors[0])
        timings = []
        for text, vector in zip(query_texts, query_vectors, strict=True):
            started = time.perf_counter()
            searcher.search(text, ctx, query_vector=vector)
            timings.append((time.perf_counter() - started) * 1000)
        recall = _recall(engine, index, query_vectors, embedder.model_id)
        build_seconds = index.build_seconds(ACCOUNT) or 0.0
    return {
        "search_p50_ms_100k_hnsw": statistics.median(timings),
        "search_recall_at_50_100k_hnsw": recall,
        "hnsw_build_s_100k": build_seconds,
    }


def real_sentence_recall(count: int = REAL_SENTENCES) -> dict[str, float]:
    """Recall@50 on MiniLM embeddings of LoCoMo sentences; other sentences are the queries.

    The threshold is lowered so that these few thousand records go through the graph.
    """
    embedder = MiniLMEmbedder()
    sentences = corpus.real_sentences(count + REAL_QUERIES)
    texts, queries = sentences[:count], sentences[count:]
    vectors = embedder.embed(texts)
    query_vectors = embedder.embed(queries)
    with (
        tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp,
        Engine.open(Path(tmp) / "real.sqlite", embedder=embedder, worker=False) as engine,
    ):
        loader.load(engine, ACCOUNT, USER, texts, vectors)
        index = HnswVectorIndex(
            engine.index, embedder.dimensions, embedder.model_id, exact_below=len(texts) // 2
        )
        if not index.build(ACCOUNT):
            raise SystemExit("the HNSW graph was not built")
        recall = _recall(engine, index, query_vectors, embedder.model_id)
    return {f"search_recall_at_50_real_{len(texts)}_hnsw": recall}


if __name__ == "__main__":
    print(main())
    if "real" in sys.argv[1:]:
        print(real_sentence_recall())
