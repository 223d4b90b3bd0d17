"""The vector cache's memory after searching every account (a child of bench/scale_bench.py).

``python -m bench.scale_cache STORE SIZE_JSON``: opens the loaded store in this fresh process
with the budget of the size, searches one small account, then every small account and every
user of the crowd once, each with a hybrid search, and prints one JSON line: the RSS after the
first search and after the walk (VmRSS), the peak (VmHWM), the budget and what the cache
accounts for. The crowd's users alone hold more than a laptop budget at full size, so the
least recently used owners are dropped as the walk goes on.

The process's base is what the same walk leaves when the cache may hold almost nothing
(bench/scale_bench.py runs it again with a budget of 1 MB): the RSS after the first search
misses what fills as the walk goes on and is bounded whatever the cache holds, SQLite's page
cache (2 MB per connection) and the allocators' pools.
"""

from __future__ import annotations

import gc
import json
import sys

import numpy as np

from bench.scale_bench import CROWD, DIM, SMALL_USER, Size, small_account
from ogmem.core.models import RequestContext
from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.index.owner_cache import MB
from ogmem.index.vectors import NumpyVectorIndex


def _status_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def main(store: str, size: Size) -> dict[str, float]:
    query = np.random.default_rng(5).standard_normal(DIM).astype(np.float32)
    query /= np.linalg.norm(query)
    with Engine.open(
        store, embedder=HashEmbedder(DIM), worker=False, vector_cache_mb=size.cache_mb
    ) as engine:
        assert isinstance(engine.vectors, NumpyVectorIndex)

        def search(account: str, user: str) -> None:
            engine.searcher.search("remember the trip", RequestContext(account, user),
                                   query_vector=query)  # fmt: skip

        search(small_account(0), SMALL_USER)
        gc.collect()
        start = _status_mb("VmRSS")
        for number in range(size.small_accounts):
            search(small_account(number), SMALL_USER)
        for user in range(size.users):
            search(CROWD, f"u{user}")
        gc.collect()
        cache = engine.vectors.cache
        return {
            "scale_cache_start_rss_mb": start,
            "scale_cache_rss_mb": _status_mb("VmRSS"),
            "scale_cache_peak_rss_mb": _status_mb("VmHWM"),
            "scale_cache_budget_mb": cache.budget_bytes / MB,
            "scale_cache_used_mb": cache.used_bytes / MB,
            "scale_cache_owners_loaded": len(cache.loaded()),
        }


if __name__ == "__main__":
    figures = main(sys.argv[1], Size(**json.loads(sys.argv[2])))
    print(json.dumps(figures))
