"""PostgreSQL for the benchmarks and the stress suite: one server per run, started through the
``pgserver`` package exactly as the tests start theirs (tests/pg.py), but durable (fsync and
synchronous commit on, the server's defaults): the figures are what a user would get. Each
benchmark gets a fresh migrated database, dropped after it.
"""

from __future__ import annotations

import atexit
from collections.abc import Iterator
from contextlib import contextmanager

from tests.pg import PgCluster

_cluster: list[PgCluster] = []


def cluster() -> PgCluster:
    """The run's server, started on first use and stopped when the process exits."""
    if not _cluster:
        print("  (starting PostgreSQL 16 + pgvector through pgserver, fsync on)", flush=True)
        _cluster.append(PgCluster(durable=True))
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
