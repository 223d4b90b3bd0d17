"""``ogmem serve --processes N``: N server processes on one listening socket.

One Python process runs Python code on one core at a time (the GIL): under load the server
was bound by it, with ~1.1 of 2 cores busy while requests queued (`make stress`, `load`).
Several processes share the work the way uvicorn's ``--workers`` does: the parent binds the
socket, starts N children (uvicorn's supervisor: it restarts a child that dies and stops them
all on SIGTERM), and each child builds its own Engine from the same settings. The store is the
one truth they share: SQLite serialises their writes with its file lock (WAL, busy timeout),
PostgreSQL with its own; each child keeps its vector cache in step with the store's index
clock, so a memory one child wrote is found by every other.

Each child runs an outbox worker unless ``--no-worker`` (claims are leased: workers in several
processes never take the same event). Request metrics are kept per process in files under a
directory the parent makes (prometheus-client's multiprocess mode) and summed where they are
served, so ``/metrics`` counts every process's requests.

The children read what the parent decided (worker or not) from environment variables, since
uvicorn starts them from an import string, not from objects.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING

from ogmem import collector, wiring
from ogmem.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

WORKER_VARIABLE = "_OGMEM_SERVE_WORKER"  # "1": each child runs an outbox worker
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own variable
FACTORY = "ogmem.server.processes:app_from_environment"


def app_from_environment() -> FastAPI:
    """The app of one child process: its own Engine, closed when uvicorn shuts it down."""
    from ogmem.server.app import create_app

    settings = Settings.from_env()
    engine = wiring.open_engine(settings, worker=False)
    worker = os.environ.get(WORKER_VARIABLE) == "1"
    if worker:
        engine.start_worker()

    @asynccontextmanager
    async def closing(_: object) -> AsyncIterator[None]:
        collector.settle_for_serving()  # the app is built: what it holds lives as long
        try:
            yield
        finally:
            engine.close()

    return create_app(
        engine, require_keys=engine.keys.has_active(), worker_expected=worker,
        limits=settings.limits, lifespan=closing,
    )  # fmt: skip


@contextmanager
def shared_metrics() -> Iterator[str]:
    """A directory for the children's metric files, named in the environment they inherit,
    removed when the server stops (stale files would add old counts to new ones)."""
    directory = tempfile.mkdtemp(prefix="ogmem-metrics-")
    previous = os.environ.get(MULTIPROCESS_DIR)
    os.environ[MULTIPROCESS_DIR] = directory
    try:
        yield directory
    finally:
        if previous is None:
            os.environ.pop(MULTIPROCESS_DIR, None)
        else:
            os.environ[MULTIPROCESS_DIR] = previous
        shutil.rmtree(directory, ignore_errors=True)


def run(config_options: dict[str, object], processes: int, *, worker: bool) -> None:
    """Serve with ``processes`` children until SIGTERM / Ctrl-C; ``config_options`` are
    uvicorn.Config's (host, port, limits)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ[WORKER_VARIABLE] = "1" if worker else "0"
    config = uvicorn.Config(FACTORY, factory=True, workers=processes, **config_options)  # type: ignore[arg-type]
    Multiprocess(config, sockets=[config.bind_socket()]).run()
