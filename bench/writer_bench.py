"""Candidates/s through ContextWriter on a SQLite file, next to a bare INSERT loop on that file.

Workload: 2,000 candidates, one session: 1,000 new preferences on distinct topics, 500 events,
500 merges into 100 of those topics (the ScriptedLLM answers each merge at once, so the figure
is the pipeline's own cost). The bare loop inserts the same number of rows, one transaction per
row, as the writer commits one transaction per candidate.

``pg_main`` runs the same workload on PostgreSQL (bench/pg.py: a local server through a Unix
socket, fsync on), a fresh database per run; ``pg_writer_nodes`` is its sanity figure (the
nodes under the account after the last run: the 1,000 preferences and 500 events).
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

from bench import pg, results
from ogmem.commit.writer import ContextWriter
from ogmem.core.models import CandidateMemory, RequestContext, WriteStatus
from ogmem.llm.scripted import ScriptedLLM
from ogmem.nodes import Nodes
from ogmem.schemas.registry import SchemaRegistry
from ogmem.store import open_backend

CANDIDATES = 2000
REPEATS = 5
MERGE_ANSWER = json.dumps(
    {"abstract": "merged", "overview": "merged overview", "content": "merged"}
)


def workload() -> list[CandidateMemory]:
    creates = [
        CandidateMemory(
            category="preference", routing_key=f"topic-{i}", abstract=f"Preference number {i}",
            content=f"The user prefers option {i} for topic {i}, for reasons given in session.",
        )
        for i in range(1000)
    ]  # fmt: skip
    events = [
        CandidateMemory(
            category="event", routing_key=f"meeting-{i}", when="2026-11-20",
            abstract=f"Meeting {i} took place", content=f"Meeting {i} was held with the team.",
        )
        for i in range(500)
    ]  # fmt: skip
    merges = [
        CandidateMemory(
            category="preference", routing_key=f"topic-{i % 100}", abstract=f"Update {i}",
            content=f"Later the user refined topic {i % 100}: variant {i}.",
        )
        for i in range(500)
    ]  # fmt: skip
    return creates + events + merges


def run_writer(
    store_url: str,
    candidates: list[CandidateMemory],
    account: str = "bench",
    counted: list[int] | None = None,
) -> tuple[int, float]:
    """``candidates`` through the ContextWriter into the store at ``store_url`` (any backend),
    into ``account`` (which must be fresh); appends the account's node count to ``counted``."""
    backend = open_backend(store_url)
    try:
        store = Nodes(backend.uow, backend.nodes, backend.outbox)
        writer = ContextWriter(
            store, SchemaRegistry.load(), ScriptedLLM(responder=lambda _: MERGE_ANSWER)
        )
        ctx = RequestContext(account, "user", session_id="s1")
        outcome: list[WriteStatus] = []
        seconds = results.timed(
            lambda: outcome.extend(r.status for r in writer.write_candidates(candidates, ctx))
        )
        if counted is not None:
            counted.append(len(backend.nodes.subtree(account, f"ctx://{account}")))
    finally:
        backend.close()
    written = outcome.count(WriteStatus.WRITTEN)
    assert written == len(candidates), f"only {written} of {len(candidates)} written"
    return len(candidates), seconds


def run_bare_inserts(directory: Path, rows: int) -> tuple[int, float]:
    """The baseline the writer is compared with: the driver alone, one row per transaction,
    on a file with the store's PRAGMAs (a ceiling, not a product path)."""
    with closing(sqlite3.connect(directory / "bare.sqlite", isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("DROP TABLE IF EXISTS bench_rows")
        conn.execute("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")

        # the floor, not a product figure: one bare INSERT per transaction on the same
        # machine, so writer_vs_bare_insert_ratio says what the writer adds to SQLite's own
        # commit cost; the writer's figures above load through its ports
        def insert_all() -> None:
            for i in range(rows):
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO bench_rows (payload) VALUES (?)", (f"row {i}",))
                conn.execute("COMMIT")

        return rows, results.timed(insert_all)


def main() -> dict[str, float]:
    candidates = workload()[:CANDIDATES]
    with tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp:
        directory = Path(tmp)

        def fresh_file() -> tuple[int, float]:
            path = directory / "writer.sqlite"
            for stale in directory.glob("writer.sqlite*"):
                stale.unlink()
            return run_writer(str(path), candidates)

        writer_rate = results.median_rate(fresh_file, REPEATS)
        bare_rate = results.median_rate(
            lambda: run_bare_inserts(directory, len(candidates)), REPEATS
        )
    return {"writer_candidates_per_s": writer_rate, "bare_insert_rows_per_s": bare_rate}


def pg_main() -> dict[str, float]:
    candidates = workload()[:CANDIDATES]
    counted: list[int] = []

    def fresh_database() -> tuple[int, float]:
        with pg.database() as url:
            return run_writer(url, candidates, counted=counted)

    rate = results.median_rate(fresh_database, REPEATS)
    return {"pg_writer_candidates_per_s": rate, "pg_writer_nodes": float(counted[-1])}
