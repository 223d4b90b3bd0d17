"""Search latency at 100k memories in one account.

The 100k memories are synthetic and loaded directly into the store's tables (writing them
through the pipeline would take ~10 minutes of embedding): texts of 8-20 words from the
LoCoMo vocabulary, one index record each, with clustered 384-d unit vectors. Queries are a
record's vector plus noise and four of its words. Figures exclude the query embedding, except
``search_p50_ms_100k_with_embedding``, which embeds each query with the offline MiniLM model.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import corpus
from ogmem.core.models import RequestContext, utcnow
from ogmem.engine import Engine
from ogmem.index.embedders import MiniLMEmbedder
from ogmem.store import rows
from ogmem.store.sqlite_index import to_blob

MEMORIES = 100_000
QUERIES = 200
ACCOUNT, USER = "bench", "u"


def _load(engine: Engine, texts: list[str], vectors: np.ndarray, model_id: str) -> None:
    now = rows.dump_time(utcnow())
    base = f"ctx://{ACCOUNT}/users/{USER}/memories/events/e"
    nodes = [
        (ACCOUNT, f"{base}{i}", "MEMORY", "event", f"user:{USER}", text, text, now, now)
        for i, text in enumerate(texts)
    ]
    owner = f"user:{USER}"
    records = [
        (
            ACCOUNT,
            f"{base}{i}",
            0,
            owner,
            "event",
            "MEMORY",
            "ACTIVE",
            1,
            text,
            to_blob(v),
            model_id,
            1,
        )
        for i, (text, v) in enumerate(zip(texts, vectors, strict=True))
    ]
    with engine.store.transaction() as conn:
        conn.executemany(
            "INSERT INTO context_nodes (account_id, uri, context_type, category, owner_space,"
            " abstract, content, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            nodes,
        )
        conn.executemany(
            "INSERT INTO index_records (account_id, uri, level, owner_space, category,"
            " context_type, status, node_version, text, vector, model_id, seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            records,
        )
        conn.execute("INSERT INTO index_clock (account_id, seq) VALUES (?, 1)", (ACCOUNT,))


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
        _load(engine, texts, vectors, embedder.model_id)
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
    return {
        "search_p50_ms_100k": statistics.median(timings),
        "search_p95_ms_100k": _percentile(timings, 95),
        "search_p50_ms_100k_with_embedding": statistics.median(with_embedding),
    }


if __name__ == "__main__":
    print(main())
