"""Mixed load: CLIENTS clients for SECONDS (70 % after_turn, 25 % search, 5 % compose) from a
load generator in its own process, against a server seeded with ~2,000 memories (MiniLM);
per-route p99, throughput, errors, and the server's memory before and after. Afterwards every
client's session must hold at least the messages it was acknowledged (``load_lost``).

On PostgreSQL the store is shared as in a scaled-out deployment: SERVERS ``ogmem serve
--no-worker`` processes and WORKERS ``ogmem worker`` processes, the clients split across the
servers (memory figures: the first server; CPU: all servers)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bench.stress import procs, texts
from bench.stress.options import Options, store_in, workdir
from bench.stress.outcome import Goal, Outcome, percentile

NAME = "load"
ACCOUNT, USER = "stress", "u"
QUESTIONS = 300
SEED_BATCH = 200
SERVERS, WORKERS = 2, 2  # on PostgreSQL
GOALS = (
    Goal("load_errors", "==", 0),
    Goal("load_lost", "==", 0),
    Goal("load_p99_ms_after_turn", "<", 300),
    Goal("load_p99_ms_search", "<", 500),
)


def run(options: Options) -> Outcome:
    outcome = Outcome(NAME, goals=GOALS)
    print(
        f"    {options.clients} clients for {options.seconds:.0f} s over "
        f"{options.seed_memories} memories",
        flush=True,
    )
    with workdir(NAME, options) as tmp, store_in(tmp, options) as store:
        env = procs.environment(store)
        key = procs.create_key(env, ACCOUNT)
        with procs.stopped_at_exit() as running:
            servers = _start(options, env, tmp, running)
            headers = {"Authorization": f"Bearer {key}"}
            with httpx.Client(
                base_url=servers[0].extra["base"], headers=headers, timeout=120
            ) as http:
                questions = _seed(http, options.seed_memories)
                _warm_up(servers, headers, questions[0])
            before, _ = procs.memory_mb(servers[0].pid)
            cpu_before = sum(procs.cpu_seconds(server.pid) for server in servers)
            result = _generate(servers, key, options, questions, tmp, env)
            after, peak = procs.memory_mb(servers[0].pid)
            result["server_cpu_s"] = sum(procs.cpu_seconds(s.pid) for s in servers) - cpu_before
            _figures(outcome, result, before, after, peak)
            with httpx.Client(
                base_url=servers[-1].extra["base"], headers=headers, timeout=120
            ) as http:
                _check_acknowledged(http, result["acknowledged"], outcome)
            if outcome.failures:
                outcome.notes += [t for process in running for t in process.tracebacks()]
    return outcome


def _start(
    options: Options, env: dict[str, str], tmp: Path, running: list[procs.Process]
) -> list[procs.Process]:
    """On SQLite one server of ``options.processes`` processes, each with its worker; SERVERS
    servers and WORKERS workers on PostgreSQL. Each process is appended to ``running`` as it
    starts (stopped at the end)."""
    if options.store != "postgres":
        count = options.processes
        running.append(procs.start_server(env, tmp / "serve.log", processes=count))
        print(f"    ogmem serve --processes {count}")
        return list(running)
    for n in range(WORKERS):
        running.append(procs.start_worker(env, tmp / f"worker{n}.log"))
    servers = []
    for n in range(SERVERS):
        servers.append(procs.start_server(env, tmp / f"serve{n}.log", no_worker=True))
        running.append(servers[-1])
    print(f"    {SERVERS} servers (--no-worker) and {WORKERS} workers on one PostgreSQL")
    return servers


def _check_acknowledged(http: httpx.Client, acknowledged: dict[str, int], outcome: Outcome) -> None:
    """Every client's session holds at least the messages it was acknowledged."""
    lost = 0
    for client, count in acknowledged.items():
        found = http.get(f"/api/v1/sessions/load-{client}", params={"user_id": USER})
        held = found.json()["session"]["messages"] if found.status_code == 200 else 0
        if held < count:
            lost += count - held
            outcome.failures.append(f"session load-{client}: {count} acknowledged, {held} held")
    outcome.figures["load_lost"] = float(lost)


def _seed(http: httpx.Client, count: int) -> list[str]:
    """``count`` memories through the API, indexed by the server's worker; returns the
    questions (sentences not among them)."""
    found = texts.sentences(count + QUESTIONS)
    started = time.monotonic()
    for start in range(0, count, SEED_BATCH):
        memories = [
            {
                "category": "event",
                "routing_key": f"t{n}",
                "when": "2023-05-08",
                "abstract": found[n],
                "content": found[n],
            }
            for n in range(start, min(start + SEED_BATCH, count))
        ]
        http.post(
            "/api/v1/memories", json={"user_id": USER, "memories": memories}
        ).raise_for_status()
    _wait_indexed(http)
    print(f"    seeded {count} memories in {time.monotonic() - started:.0f} s", flush=True)
    return [s.rstrip(".!") + "?" for s in found[count:]]


def _wait_indexed(http: httpx.Client, limit_s: float = 900) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        counts = http.get("/api/v1/outbox/stats").json()["counts"]
        if counts.get("PENDING", 0) + counts.get("PROCESSING", 0) == 0:
            return
        time.sleep(0.5)
    raise RuntimeError(f"seed not indexed after {limit_s:.0f} s: {counts}")


def _warm_up(servers: list[procs.Process], headers: dict[str, str], question: str) -> None:
    """One request per route and server before the 'before' memory reading: the query
    embedder and the vector matrix are loaded once, and that is not growth under load."""
    for server in servers:
        with httpx.Client(base_url=server.extra["base"], headers=headers, timeout=120) as http:
            _warm_up_one(http, question)


def _warm_up_one(http: httpx.Client, question: str) -> None:
    http.post("/api/v1/search", json={"query": question, "user_id": USER}).raise_for_status()
    http.post("/api/v1/compose", json={"query": question, "user_id": USER}).raise_for_status()
    message = {"role": "user", "content": "Warming up.", "message_id": "warm"}
    turn = {"session_id": "warm", "user_id": USER, "messages": [message]}
    http.post("/api/v1/after_turn", json=turn).raise_for_status()


def _generate(
    servers: list[procs.Process],
    key: str,
    options: Options,
    questions: list[str],
    tmp: Path,
    env: dict[str, str],
) -> dict[str, Any]:
    asked, out = tmp / "questions.json", tmp / "load.json"
    asked.write_text(json.dumps(questions))
    args = [
        sys.executable,
        "-m",
        "bench.stress.loadgen",
        ",".join(server.extra["base"] for server in servers),
        key,
        str(options.seconds),
        str(options.clients),
        str(asked),
        str(out),
    ]
    generator = procs.spawn("load generator", args, env, tmp / "loadgen.log")
    with procs.stopped_at_exit(generator):
        generator.popen.wait(timeout=options.seconds + 300)
    if not out.exists():
        raise RuntimeError(f"the load generator failed: {generator.log_text()[-2000:]}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _figures(
    outcome: Outcome, result: dict[str, Any], before: float, after: float, peak: float
) -> None:
    latencies: dict[str, list[float]] = result["latencies_ms"]
    done = sum(len(values) for values in latencies.values())
    errors: list[dict[str, Any]] = result["errors"]
    outcome.figures["load_rps"] = done / result["seconds"]
    outcome.figures["load_errors"] = float(len(errors))
    for route in ("after_turn", "search", "compose"):
        outcome.figures[f"load_p99_ms_{route}"] = percentile(latencies.get(route, []), 99)
        outcome.figures[f"load_p50_ms_{route}"] = percentile(latencies.get(route, []), 50)
    outcome.figures["load_rss_before_mb"] = before
    outcome.figures["load_rss_growth_mb"] = after - before
    outcome.figures["load_peak_rss_mb"] = peak
    # how much of the 2 cores each side had: the rest went to other work on the machine
    outcome.figures["load_server_cpu_share"] = result["server_cpu_s"] / result["seconds"]
    outcome.figures["load_generator_cpu_share"] = result["cpu_s"] / result["seconds"]
    counts = {route: len(values) for route, values in latencies.items()}
    print(
        f"    {done} requests {counts}, {len(errors)} errors; load average "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    outcome.failures += [f"{e['route']} after {e['ms']:.0f} ms: {e['error']}" for e in errors[:5]]
