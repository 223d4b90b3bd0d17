"""Outbox drain rate of one and of two ``ogmem worker`` processes on one PostgreSQL (bench/pg.py,
fsync on): events/s from the moment a backlog is committed until no event is left.

The workers start first, on an empty database, and index a warm-up of 64 memories (loading
their model); then 2,000 LoCoMo sentences are remembered in one commit (one group-committed
batch: the backlog appears at once), and the clock runs until every event is DONE. Median of 3
runs per worker count, interleaved. Sanity figures: ``*_dead`` (events in the dead-letter
queue, all runs) and ``*_lagging`` (nodes whose index is not current after a run, all runs).

With MiniLM the embedder is the work: one worker's onnxruntime already uses both cores of
this machine, so a second worker can only take what the first leaves idle (its database
waits). ``pg_worker_hash_events_per_s_*`` run the same with the hash embedder (no model), which
shows how the outbox itself (claims with SKIP LOCKED, index writes) scales across processes.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import corpus, pg
from bench.stress import procs
from ogmem.commit.writer import ContextWriter
from ogmem.core.models import CandidateMemory, RequestContext, WriteStatus
from ogmem.core.storage import Backend
from ogmem.llm.scripted import ScriptedLLM
from ogmem.nodes import Nodes
from ogmem.schemas.registry import SchemaRegistry
from ogmem.store import open_backend

BACKLOG = 2000
WARM_UP = 64
REPEATS = 3
ACCOUNT = "bench"
DRAIN_LIMIT_S = 900.0


def _candidates(sentences: list[str], tag: str) -> list[CandidateMemory]:
    return [
        CandidateMemory(
            category="event", routing_key=f"{tag}-{i}", when="2023-05-08", abstract=s, content=s
        )
        for i, s in enumerate(sentences)
    ]


def _remember(backend: Backend, candidates: list[CandidateMemory]) -> None:
    """The memories through the ContextWriter, one group commit (no embedding here: the
    workers do it)."""
    nodes = Nodes(backend.uow, backend.nodes, backend.outbox)
    writer = ContextWriter(nodes, SchemaRegistry.load(), ScriptedLLM(responder=lambda _: "{}"))
    written = writer.write_candidates(candidates, RequestContext(ACCOUNT, "u", session_id="s"))
    assert all(r.status is WriteStatus.WRITTEN for r in written)


def _drained(backend: Backend) -> dict[str, int]:
    """Wait until no event is pending or being processed; the counts then."""
    deadline = time.monotonic() + DRAIN_LIMIT_S
    while time.monotonic() < deadline:
        counts = backend.outbox.counts(ACCOUNT)
        if counts.get("PENDING", 0) + counts.get("PROCESSING", 0) == 0:
            return counts
        time.sleep(0.05)
    raise SystemExit(f"the workers did not drain the backlog in {DRAIN_LIMIT_S:.0f} s")


def _wait_started(workers: list[procs.Process]) -> None:
    deadline = time.monotonic() + procs.READY_TIMEOUT_S
    while not all("worker " in w.log_text() for w in workers):
        if time.monotonic() > deadline or not all(w.alive() for w in workers):
            raise SystemExit(f"ogmem worker did not start: {workers[0].log_text()[-2000:]}")
        time.sleep(0.1)


@dataclass
class Run:
    events: int
    seconds: float
    dead: int  # events in the dead-letter queue
    lagging: int  # nodes whose index records are not current afterwards


def run_once(count: int, embedder: str, sentences: list[str], logs: Path) -> Run:
    """The backlog drained by ``count`` worker processes, on a fresh database."""
    with pg.database() as url:
        backend = open_backend(url)
        env = procs.environment(url, embedder=embedder)
        workers = [procs.start_worker(env, logs / f"worker-{n}.log") for n in range(count)]
        try:
            with procs.stopped_at_exit(*workers):
                _wait_started(workers)
                _remember(backend, _candidates(sentences[:WARM_UP], "warm"))
                before = _drained(backend).get("DONE", 0)
                started = time.perf_counter()
                _remember(backend, _candidates(sentences[WARM_UP:], "event"))
                counts = _drained(backend)
                seconds = time.perf_counter() - started
            lagging = len(backend.index.lagging_nodes(ACCOUNT))
        finally:
            backend.close()
    return Run(counts.get("DONE", 0) - before, seconds, counts.get("DEAD", 0), lagging)


def measure(embedder: str, prefix: str) -> dict[str, float]:
    sentences = corpus.real_sentences(WARM_UP + BACKLOG)
    runs: dict[int, list[Run]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp:
        for _ in range(REPEATS):  # interleaved: both counts see the same machine load
            for count, done in runs.items():
                done.append(run_once(count, embedder, sentences, Path(tmp)))
    every = runs[1] + runs[2]
    return {
        **{
            f"{prefix}_{count}": statistics.median(r.events / r.seconds for r in done)
            for count, done in runs.items()
        },
        f"{prefix}_dead": float(sum(r.dead for r in every)),
        f"{prefix}_lagging": float(sum(r.lagging for r in every)),
    }


def pg_main() -> dict[str, float]:
    return {
        **measure("minilm", "pg_worker_events_per_s"),
        **measure("hash", "pg_worker_hash_events_per_s"),
    }


if __name__ == "__main__":
    print(pg_main())
