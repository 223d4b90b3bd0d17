"""The child processes of test_pg_processes: real ogmem code against the test's PostgreSQL.

(The merging writers are the stress suite's: ``python -m bench.stress.merge_writer``.)
``python -m tests.integration.pg_processes stalling-worker URL MARKER``
    an outbox worker (2 s lease, renewed by its heartbeat) that claims a batch eagerly (events
    not due yet, as a drain does), finishes the batch's first chunk, then touches MARKER and
    stalls inside the next one until it is killed.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from ogmem import Engine
from ogmem.index.directories import DirectorySummarizer
from ogmem.index.embedders import HashEmbedder, Vectors
from ogmem.index.sync import IndexSync
from ogmem.index.worker import CHUNK_URIS, OutboxWorker

ACCOUNT = "acme"
STALLING_WORKER_ID = "stalling-worker"
STALLING_LEASE = timedelta(seconds=2)


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
            worker_id=STALLING_WORKER_ID, lease=STALLING_LEASE, batch_size=2 * CHUNK_URIS,
        )  # fmt: skip
        worker.run_once(eager=True)  # the events are not due yet: only it may take them


if __name__ == "__main__":
    role, arguments = sys.argv[1], sys.argv[2:]
    if role == "stalling-worker":
        stalling_worker(arguments[0], Path(arguments[1]))
    else:
        raise SystemExit(f"unknown role {role!r}")
