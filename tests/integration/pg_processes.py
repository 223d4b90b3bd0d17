"""The child processes of test_pg_processes: real ogmem code against the test's PostgreSQL.

``python -m tests.integration.pg_processes merge URL WRITER COUNT GO_FILE OUT``
    merges COUNT distinct facts into one preference node (one ``remember`` each), once
    GO_FILE exists; a result that comes back failed but retryable (the writer's own attempts
    all lost to other processes) is sent again, as a client would; writes its final statuses
    and how many resends it made to OUT as JSON.
``python -m tests.integration.pg_processes stalling-worker URL MARKER``
    an outbox worker (2 s lease, renewed by its heartbeat) that claims a batch eagerly (events
    not due yet, as a drain does), finishes the batch's first chunk, then touches MARKER and
    stalls inside the next one until it is killed.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from ogmem import CandidateMemory, Engine, RequestContext
from ogmem.index.directories import DirectorySummarizer
from ogmem.index.embedders import HashEmbedder, Vectors
from ogmem.index.sync import IndexSync
from ogmem.index.worker import OutboxWorker

ACCOUNT, USER, ROUTING_KEY = "acme", "alice", "editor"
STALLING_WORKER_ID = "stalling-worker"
STALLING_LEASE = timedelta(seconds=2)
MAX_RESENDS = 1000


def merge_candidate(writer: int, n: int) -> CandidateMemory:
    # distinct content each time: a repeated fact would be skipped as "no new information"
    return CandidateMemory(
        category="preference",
        routing_key=ROUTING_KEY,
        abstract=f"Editor fact {n} from writer {writer}",
        content=f"Writer {writer} learned fact {n}: she switched editor themes again.",
    )


def merge(url: str, writer: int, count: int, go: Path, out: Path) -> None:
    ctx = RequestContext(ACCOUNT, USER, session_id=f"w{writer}")
    statuses: Counter[str] = Counter()
    errors: list[str] = []
    resends = 0
    with Engine.open(url, worker=False, embedder=HashEmbedder()) as engine:
        out.with_suffix(".ready").touch()  # every writer opens the store, then all start
        while not go.exists():
            time.sleep(0.01)
        for n in range(count):
            result = engine.remember([merge_candidate(writer, n)], ctx)[0]
            while result.retryable and resends < MAX_RESENDS:
                resends += 1
                result = engine.remember([merge_candidate(writer, n)], ctx)[0]
            statuses[result.status.value] += 1
            if result.error and len(errors) < 5:
                errors.append(result.error)
    out.write_text(json.dumps({"statuses": statuses, "errors": errors, "resends": resends}))


class _StallingEmbedder(HashEmbedder):
    """Embeds its first call; on the second, says so through ``marker`` and never returns."""

    def __init__(self, marker: Path) -> None:
        super().__init__()
        self._marker = marker

    def embed(self, texts: Sequence[str]) -> Vectors:
        if self.calls:
            self._marker.touch()
            time.sleep(3600)
        return super().embed(texts)


def stalling_worker(url: str, marker: Path) -> None:
    embedder = _StallingEmbedder(marker)
    with Engine.open(url, worker=False, embedder=embedder, vector_index="exact") as engine:
        sync = IndexSync(engine.store, engine.index, embedder)
        worker = OutboxWorker(
            engine.outbox, sync, DirectorySummarizer(engine.store),
            worker_id=STALLING_WORKER_ID, lease=STALLING_LEASE,
        )  # fmt: skip
        worker.run_once(eager=True)  # the events are not due yet: only it may take them


if __name__ == "__main__":
    role, arguments = sys.argv[1], sys.argv[2:]
    if role == "merge":
        store, writer, count, go, out = arguments
        merge(store, int(writer), int(count), Path(go), Path(out))
    elif role == "stalling-worker":
        stalling_worker(arguments[0], Path(arguments[1]))
    else:
        raise SystemExit(f"unknown role {role!r}")
