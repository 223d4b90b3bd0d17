"""Ingest throughput: memories/s through write + worker (embedding included), against the
embedder alone on the same sentences.

1,000 distinct real sentences from the LoCoMo dev conversations, each remembered as one event
memory (abstract = content = the sentence, so one text to embed per memory), written through
the ContextWriter into a SQLite file, then indexed by draining the outbox worker. Both use the
same MiniLM embedder instance (warm), median of 5 runs each (single runs swing by +-5 % on
this shared machine).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench import corpus
from ogmem.core.models import CandidateMemory, RequestContext, WriteStatus
from ogmem.engine import Engine
from ogmem.index.embedders import MiniLMEmbedder

SENTENCES = 1000
REPEATS = 5


def _candidates(sentences: list[str]) -> list[CandidateMemory]:
    return [
        CandidateMemory(
            category="event", routing_key=f"turn-{i}", when="2023-05-08", abstract=s, content=s
        )
        for i, s in enumerate(sentences)
    ]


def _ingest_once(
    directory: Path, embedder: MiniLMEmbedder, sentences: list[str]
) -> tuple[float, float]:
    """Seconds to write the memories, then seconds for the worker to index them."""
    path = directory / "ingest.sqlite"
    path.unlink(missing_ok=True)
    ctx = RequestContext("bench", "u", session_id="s1")
    # writes first, then the worker drains: running the worker thread beside the writes was
    # measured no faster (onnxruntime already keeps both cores busy)
    with Engine.open(path, embedder=embedder, worker=False) as engine:
        started = time.perf_counter()
        results = engine.remember(_candidates(sentences), ctx)
        written = time.perf_counter()
        stats = engine.drain()
        indexed = time.perf_counter()
        assert all(r.status is WriteStatus.WRITTEN for r in results)
        assert stats.dead_lettered == 0 and engine.outbox_stats(ctx)["PENDING"] == 0
    return written - started, indexed - written


def _embed_once(embedder: MiniLMEmbedder, sentences: list[str]) -> float:
    started = time.perf_counter()
    embedder.embed(sentences)
    return len(sentences) / (time.perf_counter() - started)


def main() -> dict[str, float]:
    sentences = corpus.real_sentences(SENTENCES)
    embedder = MiniLMEmbedder()
    embedder.embed(sentences[:64])  # load the model outside the timings
    with tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp:
        embed_rates, ingest_rates, write_s, index_s = [], [], [], []
        for _ in range(REPEATS):  # interleaved, so that both see the same machine load
            embed_rates.append(_embed_once(embedder, sentences))
            writing, indexing = _ingest_once(Path(tmp), embedder, sentences)
            write_s.append(writing)
            index_s.append(indexing)
            ingest_rates.append(len(sentences) / (writing + indexing))
    embedder_rate, ingest_rate = statistics.median(embed_rates), statistics.median(ingest_rates)
    per_memory_ms = 1000 / len(sentences)
    return {
        "embedder_per_s": embedder_rate,
        "ingest_per_s": ingest_rate,
        "ingest_vs_embedder_ratio": ingest_rate / embedder_rate,
        # where the rest goes: the transactional writes, and the worker beyond embedding
        "ingest_write_ms_per_memory": statistics.median(write_s) * per_memory_ms,
        "ingest_index_overhead_ms_per_memory": (
            statistics.median(index_s) * per_memory_ms - 1000 / embedder_rate
        ),
    }


if __name__ == "__main__":
    print(main())
