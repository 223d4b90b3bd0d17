"""One authenticated after_turn of 1,000 messages of 50 KB (50 MB), then commit?wait=true:
the server's peak memory (VmHWM) must stay under 1 GB. A server that refuses the body (413,
a body limit) gets the same messages in as many smaller requests as its limit needs."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from bench.stress import procs, texts
from bench.stress.options import Options, store_in, workdir
from bench.stress.outcome import Goal, Outcome

NAME = "big_request"
ACCOUNT, USER, SESSION = "stress", "u", "big"
MESSAGES = 1000
MESSAGE_BYTES = 50 * 1024
TIMEOUT_S = 3600.0  # a commit of 50 MB in raw mode: minutes on 2 busy cores
# the goal holds for the request and its commit, and for the indexing of what they wrote:
# the same server process pays for both
GOALS = (
    Goal("big_request_peak_rss_mb", "<", 1024),
    Goal("big_request_peak_rss_indexed_mb", "<", 1024),
)


def run(options: Options) -> Outcome:
    outcome = Outcome(NAME, goals=GOALS)
    with workdir(NAME, options) as tmp, store_in(tmp, options) as store:
        env = procs.environment(store)
        key = procs.create_key(env, ACCOUNT)
        server = procs.start_server(env, tmp / "serve.log")
        with procs.stopped_at_exit(server):
            headers = {"Authorization": f"Bearer {key}"}
            base = server.extra["base"]
            with httpx.Client(base_url=base, headers=headers, timeout=TIMEOUT_S) as http:
                _warm_up(http)
                outcome.figures["big_request_rss_before_mb"] = procs.memory_mb(server.pid)[0]
                _phases(http, server, options.rss_cap_mb, outcome)
            if outcome.failures:
                outcome.notes += server.tracebacks()
    return outcome


def _phases(http: httpx.Client, server: procs.Process, cap_mb: float, outcome: Outcome) -> None:
    """Send, commit, let the worker index: the server's peak after each."""
    phases: list[tuple[str, Callable[[], None]]] = [
        ("big_request_peak_rss_after_turn_mb", lambda: _send(http, messages(), outcome)),
        ("big_request_peak_rss_mb", lambda: _commit(http, outcome)),
        ("big_request_peak_rss_indexed_mb", lambda: _wait_indexed(http)),
    ]
    with procs.MemoryCap(server, cap_mb) as cap:
        for figure, phase in phases:
            try:
                phase()
            except httpx.TransportError as exc:
                if not cap.tripped:
                    raise
                outcome.figures[figure] = cap.peak_mb
                outcome.failures.append(
                    f"server killed by the check past {cap_mb:.0f} MB ({cap.peak_mb:.0f} MB) "
                    f"during {figure}; the request saw {type(exc).__name__}"
                )
                return
            outcome.figures[figure] = procs.memory_mb(server.pid)[1]


def messages() -> list[dict[str, Any]]:
    """1,000 distinct messages of MESSAGE_BYTES of prose each."""
    prose = " ".join(texts.sentences(400))
    while len(prose) < MESSAGE_BYTES:
        prose += " " + prose
    return [
        {
            "role": "user",
            "message_id": f"big-{n}",
            "content": (f"Message {n}. " + prose)[:MESSAGE_BYTES],
        }
        for n in range(MESSAGES)
    ]


def _warm_up(http: httpx.Client) -> None:
    # the embedder loads on first use: 'before' is the server as it runs, not as it starts
    http.post("/api/v1/search", json={"query": "warm up", "user_id": USER}).raise_for_status()


def _send(http: httpx.Client, batch: list[dict[str, Any]], outcome: Outcome) -> None:
    """All messages in one request; on 413, halve the request until the server takes it."""
    size, sent, requests, refused = len(batch), 0, 0, 0
    started = time.monotonic()
    while sent < len(batch):
        body = {"session_id": SESSION, "user_id": USER, "messages": batch[sent : sent + size]}
        answer = http.post("/api/v1/after_turn", json=body)
        if answer.status_code == 413 and size > 1:
            refused += 1
            size //= 2
            continue
        if answer.status_code != 200:  # a 413 for a single message included
            outcome.failures.append(f"after_turn of {size} message(s): {answer.status_code}")
            break
        sent, requests = sent + size, requests + 1
    seconds = time.monotonic() - started
    outcome.figures.update(
        big_request_refused_413=float(refused > 0),
        big_request_requests=float(requests),
        big_request_after_turn_s=seconds,
    )
    print(
        f"    {len(batch)} messages of {MESSAGE_BYTES // 1024} KB in {requests} request(s), "
        f"{refused} refused with 413, {seconds:.1f} s",
        flush=True,
    )


def _commit(http: httpx.Client, outcome: Outcome) -> None:
    started = time.monotonic()
    answer = http.post(
        f"/api/v1/sessions/{SESSION}/commit", params={"wait": "true"}, json={"user_id": USER}
    )
    seconds = time.monotonic() - started
    outcome.figures["big_request_commit_s"] = seconds
    if answer.status_code != 200:
        outcome.failures.append(f"commit?wait=true: {answer.status_code} {answer.text[:300]}")
        return
    session = answer.json()["session"]
    print(
        f"    commit: {session['status']}, {session['written']} written, "
        f"{session['failed']} failed, {seconds:.1f} s",
        flush=True,
    )
    outcome.figures["big_request_written"] = float(session["written"])
    outcome.figures["big_request_failed_candidates"] = float(session["failed"])
    if session["status"] != "committed" or session["failed"]:
        # every message is the user's own text: each should become a memory
        outcome.failures.append(
            f"commit: {session['status']}, {session['written']} written, {session['failed']} "
            f"failed: {session['last_reason']} {session['last_error'] or ''}"
        )


def _wait_indexed(http: httpx.Client, limit_s: float = 1800) -> None:
    """The worker indexes what the commit wrote: its memory counts as the request's too."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        counts = http.get("/api/v1/outbox/stats").json()["counts"]
        if counts.get("PENDING", 0) + counts.get("PROCESSING", 0) == 0:
            return
        time.sleep(1)
