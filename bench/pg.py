"""PostgreSQL for the benchmarks and the stress suite: one server per run, started through the
``pgserver`` package exactly as the tests start theirs (tests/pg.py), but durable (fsync and
synchronous commit on, the server's defaults) and with the page cache PostgreSQL's and
pgvector's tuning guides give a server: a quarter of the machine's memory (``shared_buffers``;
the default 128 MB would not hold a 100k store's vector graph, docs/decisions.md). The figures
are what a user would get from a server set up as those guides say. Each benchmark gets a fresh
migrated database, dropped after it.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Iterator
from contextlib import contextmanager

from tests.pg import PgCluster

_cluster: list[PgCluster] = []


def shared_buffers_mb() -> int:
    """A quarter of the machine's memory, as the tuning guides advise a database server."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return int(memory // 4 // 2**20)


def cluster() -> PgCluster:
    """The run's server, started on first use and stopped when the process exits."""
    if not _cluster:
        cache_mb = shared_buffers_mb()
        print(
            f"  (starting PostgreSQL 16 + pgvector through pgserver, fsync on, "
            f"shared_buffers {cache_mb} MB)",
            flush=True,
        )
        _cluster.append(PgCluster(durable=True, shared_buffers_mb=cache_mb))
        atexit.register(_cluster[0].stop)
    return _cluster[0]


@contextmanager
def database() -> Iterator[str]:
    """The URL of a fresh migrated database (as the application's owner user), dropped after."""
    url = cluster().fresh_database()
    try:
        yield url
    finally:
        cluster().drop(url)
