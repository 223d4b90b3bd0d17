"""kill -9 of an ``ogmem worker`` in the middle of a batch, then another worker: how long
until the events the dead worker held are processed (MiniLM embedder, as in production).

The server runs with --no-worker; a backlog of memories is written through it, one worker
drains it and is killed once it holds the last batch (nothing left pending), so the new
worker's first progress (DONE rising, from /api/v1/outbox/stats) can only come from taking
over the dead worker's events: the figure is that wait, the new worker's start included.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from bench.stress import procs
from bench.stress.options import Options, store_in, workdir
from bench.stress.outcome import Goal, Outcome

NAME = "worker"
ACCOUNT, USER = "stress", "u"
MEMORIES = 3000
PER_REQUEST = 100
RESUME_GOAL_S = 15.0
RESUME_LIMIT_S = 300.0  # well past today's 120 s lease
POLL_S = 0.05
GOALS = (Goal("worker_crash_resume_s", "<=", RESUME_GOAL_S), Goal("worker_crash_dlq", "==", 0))


def run(options: Options) -> Outcome:
    outcome = Outcome(NAME, goals=GOALS)
    with workdir(NAME, options) as tmp, store_in(tmp, options) as store:
        env = procs.environment(store)
        key = procs.create_key(env, ACCOUNT)
        server = procs.start_server(env, tmp / "serve.log", no_worker=True)
        with procs.stopped_at_exit(server) as running:
            headers = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=server.extra["base"], headers=headers, timeout=120) as http:
                _write_backlog(http)
                time.sleep(2.5)  # the debounced directory event comes due: no late PENDING
                first = procs.start_worker(env, tmp / "worker1.log")
                running.append(first)
                held = _kill_in_last_batch(http, first, outcome)
                if held is not None:
                    running.append(procs.start_worker(env, tmp / "worker2.log"))
                    _measure_resume(http, held, outcome)
                    _drain(http, outcome)
            if outcome.failures:
                outcome.notes += [t for p in running for t in p.tracebacks()]
    return outcome


def _counts(http: httpx.Client) -> dict[str, int]:
    answer = http.get("/api/v1/outbox/stats")
    answer.raise_for_status()
    counts: dict[str, int] = answer.json()["counts"]
    return {name: counts.get(name, 0) for name in ("PENDING", "PROCESSING", "DONE", "DLQ")}


def _write_backlog(http: httpx.Client) -> None:
    for start in range(0, MEMORIES, PER_REQUEST):
        # abstract = content, no overview: one text to embed per memory, a short batch
        memories: list[dict[str, Any]] = [
            {
                "category": "preference",
                "routing_key": f"topic-{n}",
                "abstract": f"Preference {n}: she likes topic {n} on Tuesdays.",
                "content": f"Preference {n}: she likes topic {n} on Tuesdays.",
            }
            for n in range(start, min(start + PER_REQUEST, MEMORIES))
        ]
        http.post(
            "/api/v1/memories", json={"user_id": USER, "memories": memories}
        ).raise_for_status()
    print(f"    backlog: {_counts(http)}", flush=True)


def _kill_in_last_batch(
    http: httpx.Client, worker: procs.Process, outcome: Outcome
) -> dict[str, Any] | None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and worker.alive():
        counts = _counts(http)
        if counts["PENDING"] == 0 and counts["PROCESSING"] > 0:
            worker.kill9()
            killed_at = time.monotonic()
            print(f"    kill -9 of the worker holding {counts['PROCESSING']} events: {counts}")
            return {"at": killed_at, "counts": counts}
        if counts["PENDING"] == 0 and counts["PROCESSING"] == 0:
            break
        time.sleep(POLL_S)
    outcome.failures.append(f"never caught the worker mid-batch: {_counts(http)}")
    return None


def _measure_resume(http: httpx.Client, held: dict[str, Any], outcome: Outcome) -> None:
    done_at_kill = held["counts"]["DONE"]
    outcome.figures["worker_crash_held_events"] = float(held["counts"]["PROCESSING"])
    while time.monotonic() - held["at"] < RESUME_LIMIT_S:
        counts = _counts(http)
        if counts["DONE"] > done_at_kill:
            waited = time.monotonic() - held["at"]
            outcome.figures["worker_crash_resume_s"] = waited
            print(f"    new worker made progress {waited:.1f} s after the kill: {counts}")
            return
        time.sleep(0.25)
    outcome.figures["worker_crash_resume_s"] = RESUME_LIMIT_S
    outcome.failures.append(f"no progress {RESUME_LIMIT_S:.0f} s after the kill: {_counts(http)}")


def _drain(http: httpx.Client, outcome: Outcome) -> None:
    deadline = time.monotonic() + 300
    counts = _counts(http)
    while counts["PENDING"] + counts["PROCESSING"] and time.monotonic() < deadline:
        time.sleep(0.5)
        counts = _counts(http)
    outcome.figures["worker_crash_dlq"] = float(counts["DLQ"])
    if counts["PENDING"] + counts["PROCESSING"]:
        outcome.failures.append(f"the outbox did not drain after the takeover: {counts}")
    print(f"    finally: {counts}", flush=True)
