"""HTTP throughput and tail latency: `ogmem serve` on loopback, 16
concurrent clients for 20 s per scenario.

The load generator is Python threads on the same 2-core machine, so it takes CPU from the
server: the figures are a floor. Search runs over 2,000 remembered sentences (LoCoMo turns,
raw mode, MiniLM); after_turn appends one message per request to each client's session (the
commits it schedules run in the server's worker meanwhile, as in production).

``pg_main`` runs the same against PostgreSQL (bench/pg.py, fsync on; one `ogmem serve` with
its worker). Sanity figure beside the rates: ``*_search_hit_share``, the share of 50 of the
questions whose search over HTTP found anything.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

from bench import corpus, pg
from ogmem.core.models import CandidateMemory, RequestContext
from ogmem.engine import Engine

CLIENTS = 16
SECONDS = 20.0
# `ogmem serve --processes` (OGMEM_BENCH_HTTP_PROCESSES; 1, the default, did as well as 2 on
# the 2-core machine, which the load generator shares)
PROCESSES = int(os.environ.get("OGMEM_BENCH_HTTP_PROCESSES", "1"))
MEMORIES = 2000
ACCOUNT, USER = "bench", "u"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare(store: str) -> str:
    sentences = corpus.real_sentences(MEMORIES)
    candidates = [
        CandidateMemory(
            category="event", routing_key=f"t{i}", when="2023-05-08", abstract=s, content=s
        )
        for i, s in enumerate(sentences)
    ]
    with Engine.open(store, worker=False) as engine:
        engine.remember(candidates, RequestContext(ACCOUNT, USER, session_id="seed"))
        engine.drain()
        _, key = engine.keys.create(ACCOUNT)
    return key


def _start(store: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "OGMEM_STORE": store}
    command = [
        sys.executable,
        "-c",
        "from ogmem.cli import main; main()",
        "serve",
        "--port",
        str(port),
        "--processes",
        str(PROCESSES),
    ]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("ogmem serve did not come up")


def _load(
    base: str, key: str, request: Callable[[httpx.Client, int, int], httpx.Response]
) -> tuple[float, float]:
    latencies: list[float] = []
    failures: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + SECONDS

    def client(number: int) -> None:
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as http:
            sequence = 0
            while time.monotonic() < stop:
                started = time.perf_counter()
                response = request(http, number, sequence)
                took = (time.perf_counter() - started) * 1000
                sequence += 1
                with lock:
                    (latencies if response.status_code < 400 else failures).append(took)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} requests failed")
    return len(latencies) / SECONDS, float(np.percentile(latencies, 99))


def _search(questions: list[str]) -> Callable[[httpx.Client, int, int], httpx.Response]:
    def call(http: httpx.Client, number: int, sequence: int) -> httpx.Response:
        query = questions[(number * 997 + sequence) % len(questions)]
        return http.post("/api/v1/search", json={"query": query, "user_id": USER, "limit": 10})

    return call


def _after_turn(http: httpx.Client, number: int, sequence: int) -> httpx.Response:
    text = f"Turn {sequence} of client {number}: I walked my dog today."
    message = {"role": "user", "content": text, "message_id": f"c{number}-{sequence}"}
    body = {"session_id": f"load-{number}", "user_id": USER, "messages": [message]}
    return http.post("/api/v1/after_turn", json=body)


def _hit_share(base: str, key: str, questions: list[str]) -> float:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
        found = [
            bool(_search(questions)(http, 0, n).raise_for_status().json()["hits"])
            for n in range(50)
        ]
    return sum(found) / len(found)


def measure(store: str, prefix: str = "") -> dict[str, float]:
    questions = [s + "?" for s in corpus.real_sentences(MEMORIES + 300)[MEMORIES:]]
    key = _prepare(store)
    port = _free_port()
    server = _start(store, port)
    try:
        base = f"http://127.0.0.1:{port}"
        search_rps, search_p99 = _load(base, key, _search(questions))
        hit_share = _hit_share(base, key, questions)
        turn_rps, turn_p99 = _load(base, key, _after_turn)
    finally:
        server.terminate()
        server.wait(timeout=60)
    figures = {
        "http_search_rps": search_rps,
        "http_search_p99_ms": search_p99,
        "http_search_hit_share": hit_share,
        "http_after_turn_rps": turn_rps,
        "http_after_turn_p99_ms": turn_p99,
        "http_server_processes": float(PROCESSES),
    }
    return {prefix + name: value for name, value in figures.items()}


def main() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="ogmem-bench-") as tmp:
        return measure(str(Path(tmp) / "http.sqlite"))


def pg_main() -> dict[str, float]:
    with pg.database() as url:
        return measure(url, prefix="pg_")


if __name__ == "__main__":
    print(main())
