"""The benchmarks' loader writes through the product's ports: what it loads is found by the
product's own keyword, vector and hybrid search (a loader that skipped a step, as the old one
skipped the full-text scope, would leave keyword search empty)."""

from __future__ import annotations

import numpy as np
from bench import loader
from bench.search_bench import USER, bm25_hit_rate, recall_at

from ogmem import Engine, RequestContext
from ogmem.index.embedders import HashEmbedder

TEXTS = [f"memory {i} about the {word} garden" for i, word in enumerate(["quince", "tulip"] * 20)]


def test_what_the_loader_writes_every_search_finds() -> None:
    embedder = HashEmbedder()
    with Engine.open(":memory:", embedder=embedder, worker=False) as engine:
        loader.load(engine, "bench", USER, TEXTS, embedder.embed(TEXTS))
        ctx = RequestContext("bench", USER)
        hits = engine.search("memory 7 about the tulip garden", ctx, limit=5).hits
        assert hits[0].uri == loader.memory_uri("bench", USER, 7)
        assert "bm25" in hits[0].why and "vector" in hits[0].why
        assert bm25_hit_rate(engine, ["quince garden", "tulip"]) == 1.0
        assert bm25_hit_rate(engine, ["zebra"]) == 0.0
        assert engine.index.lagging_nodes("bench") == []  # every node's index is current


def test_recall_counts_the_exact_nearest_records_the_index_returns() -> None:
    embedder = HashEmbedder()
    vectors = np.random.default_rng(3).standard_normal((len(TEXTS), 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)  # distinct scores: no ties
    with Engine.open(":memory:", embedder=embedder, worker=False, vector_index="exact") as engine:
        loader.load(engine, "bench", USER, TEXTS, vectors)
        assert recall_at(engine, vectors, vectors[:5], 10) == 1.0  # exact search: all found
        # the queries themselves are nearer than anything indexed: one of the k exact nearest
        # is missing from every answer
        assert recall_at(engine, np.vstack([vectors, vectors[:5]]), vectors[:5], 10) == 0.9
