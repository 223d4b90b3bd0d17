"""Ingest throughput: memories/s through write + worker (embedding included), against the
embedder alone on the same sentences.

1,000 distinct real sentences from the LoCoMo dev conversations, each remembered as one event
memory (abstract = content = the sentence, so one text to embed per memory), written through
the ContextWriter into a SQLite file, then indexed by draining the outbox worker. Both use the
same MiniLM embedder instance (warm), median of 5 runs each (single runs swing by +-5 % on
this shared machine).

``pg_main`` runs the same on PostgreSQL (bench/pg.py, fsync on), a fresh database per run.
Beside each rate, ``*_ingest_top_hit_share``: the share of 50 of the sentences whose own
memory is the first hit of a search for it (a worker that indexed nothing would be fast).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from bench import corpus, pg
from ogmem.core.models import CandidateMemory, RequestContext, WriteStatus
from ogmem.engine import Engine
from ogmem.index.embedders import MiniLMEmbedder

SENTENCES = 1000
REPEATS = 5
CHECKED = 50  # sentences searched for afterwards (the sanity figure)
FreshStore = Callable[[], AbstractContextManager[str]]


def _candidates(sentences: list[str]) -> list[CandidateMemory]:
    return [
        CandidateMemory(
            category="event", routing_key=f"turn-{i}", when="2023-05-08", abstract=s, content=s
        )
        for i, s in enumerate(sentences)
    ]


def _ingest_once(
    store: str, embedder: MiniLMEmbedder, sentences: list[str]
) -> tuple[float, float, float]:
    """Seconds to write the memories, seconds for the worker to index them, and the share of
    the checked sentences found first by a search for them."""
    ctx = RequestContext("bench", "u", session_id="s1")
    # writes first, then the worker drains: running the worker thread beside the writes was
    # measured no faster (onnxruntime already keeps both cores busy)
    with Engine.open(store, embedder=embedder, worker=False) as engine:
        started = time.perf_counter()
        results = engine.remember(_candidates(sentences), ctx)
        written = time.perf_counter()
        stats = engine.drain()
        indexed = time.perf_counter()
        assert all(r.status is WriteStatus.WRITTEN for r in results)
        assert stats.dead_lettered == 0 and engine.outbox_stats(ctx)["PENDING"] == 0
        checked = sentences[:: len(sentences) // CHECKED][:CHECKED]
        firsts = [engine.search(s, ctx, limit=1).hits for s in checked]
        found = sum(
            bool(hits) and hits[0].abstract == s for s, hits in zip(checked, firsts, strict=True)
        )
    return written - started, indexed - written, found / len(checked)


def _embed_once(embedder: MiniLMEmbedder, sentences: list[str]) -> float:
    started = time.perf_counter()
    embedder.embed(sentences)
    return len(sentences) / (time.perf_counter() - started)


def measure(fresh_store: FreshStore, prefix: str = "") -> dict[str, float]:
    """The figures, each run on a store from ``fresh_store``; names start with ``prefix``."""
    sentences = corpus.real_sentences(SENTENCES)
    embedder = MiniLMEmbedder()
    embedder.embed(sentences[:64])  # load the model outside the timings
    embed_rates, ingest_rates, write_s, index_s, found = [], [], [], [], []
    for _ in range(REPEATS):  # interleaved, so that both see the same machine load
        embed_rates.append(_embed_once(embedder, sentences))
        with fresh_store() as store:
            writing, indexing, share = _ingest_once(store, embedder, sentences)
        write_s.append(writing)
        index_s.append(indexing)
        found.append(share)
        ingest_rates.append(len(sentences) / (writing + indexing))
    embedder_rate, ingest_rate = statistics.median(embed_rates), statistics.median(ingest_rates)
    per_memory_ms = 1000 / len(sentences)
    figures = {
        "embedder_per_s": embedder_rate,
        "ingest_per_s": ingest_rate,
        "ingest_vs_embedder_ratio": ingest_rate / embedder_rate,
        # where the rest goes: the transactional writes, and the worker beyond embedding
        "ingest_write_ms_per_memory": statistics.median(write_s) * per_memory_ms,
        "ingest_index_overhead_ms_per_memory": (
            statistics.median(index_s) * per_memory_ms - 1000 / embedder_rate
        ),
        "ingest_top_hit_share": min(found),
    }
    return {prefix + name: value for name, value in figures.items()}


def main() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp:

        @contextmanager
        def fresh_file() -> Iterator[str]:
            path = Path(tmp) / "ingest.sqlite"
            for stale in Path(tmp).glob("ingest.sqlite*"):
                stale.unlink()
            yield str(path)

        return measure(fresh_file)


def pg_main() -> dict[str, float]:
    return measure(pg.database, prefix="pg_")


if __name__ == "__main__":
    print(main())
