"""How many threads numpy's BLAS may use in ogmem's own processes (serve, worker, the CLI,
the benches): one, unless the operator chose otherwise.

ogmem's matrix products are small (one query against a user's few thousand vectors), and a
server gets its parallelism from concurrent requests, not from splitting one product across
cores. OpenBLAS's default (a thread per core) made each search spend about twice its CPU on
threads that wake, split a tiny product and wait: on 2 cores under `make stress` load, a search
took 54 ms of CPU with the default and 31 ms with one thread, for the same wall time alone.

An application that embeds ``Engine`` keeps its own settings: a library must not change a
process-wide setting behind its host's back.
"""

from __future__ import annotations

import os

from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

# the variables an operator sets to choose BLAS threads; any of them set means "leave it"
OPERATOR_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def limit_blas_threads() -> bool:
    """One BLAS thread for this process unless one of OPERATOR_VARIABLES is set; returns
    whether the limit was applied."""
    if any(os.environ.get(name) for name in OPERATOR_VARIABLES):
        return False
    threadpool_limits(limits=1, user_api="blas")
    return True
