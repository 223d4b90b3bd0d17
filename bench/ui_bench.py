"""Web console page times over HTTP for an account of 10,000 memories: `ogmem serve` as a
separate process on loopback, one client logged in with a key, sequential requests.

The memories are loaded through bench/loader.py (synthetic texts, precomputed vectors), all in
one directory: the tree page of that directory lists 10,000 entries (it shows the first 200)
and counts every node below it, the heaviest tree page there is. The memory page reads a node
and its history; the search page runs a search and composes its block (the query embedded
with the offline MiniLM model both times). Figures are medians of REPEATS requests.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import quote_plus

import httpx

from bench import corpus, loader
from bench.http_bench import _free_port, _start
from ogmem.engine import Engine

MEMORIES = 10_000
REPEATS = 30
ACCOUNT, USER = "bench", "u"


def _prepare(store: Path) -> str:
    texts = corpus.synthetic_texts(MEMORIES)
    with Engine.open(store, worker=False) as engine:
        loader.load(engine, ACCOUNT, USER, texts, corpus.clustered_vectors(MEMORIES))
        return engine.keys.create(ACCOUNT, name="bench")[1]


def _median_ms(http: httpx.Client, paths: list[str]) -> float:
    http.get(paths[0])  # warm up: the first request loads caches
    timings = []
    for n in range(REPEATS):
        started = time.perf_counter()
        response = http.get(paths[n % len(paths)])
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{paths[n % len(paths)]}: HTTP {response.status_code}")
    return statistics.median(timings)


def main() -> dict[str, float]:
    queries = corpus.real_sentences(REPEATS)
    with tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp:
        store = Path(tmp) / "ui.sqlite"
        key = _prepare(store)
        port = _free_port()
        server = _start(str(store), port)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
                http.post("/ui/login", data={"key": key})
                directory = loader.memory_uri(ACCOUNT, USER, 0).rsplit("/", 1)[0]
                memories = [loader.memory_uri(ACCOUNT, USER, n * 331) for n in range(REPEATS)]
                figures = {
                    "ui_tree_ms_10k": _median_ms(http, [f"/ui/tree?uri={directory}"]),
                    "ui_memory_ms_10k": _median_ms(http, [f"/ui/memory?uri={u}" for u in memories]),
                    "ui_search_ms_10k": _median_ms(
                        http, [f"/ui/search?user={USER}&q={quote_plus(q)}" for q in queries]
                    ),
                }
        finally:
            server.terminate()
            server.wait(timeout=60)
    return figures


if __name__ == "__main__":
    print(main())
