"""Hostile requests against one running server (MiniLM embedder): none may be answered with a
5xx or a reset, a half-sent body must be dropped within seconds, 1,000 wrong keys should meet
a rate limit, and afterwards the server must still answer /healthz and a search."""

from __future__ import annotations

import time

import httpx

from bench.stress import cases, catalogue, procs
from bench.stress.options import Options, store_in, workdir
from bench.stress.outcome import Goal, Outcome
from bench.stress.rawhttp import Answer, Connection, request

NAME = "bad_inputs"
ACCOUNT = "stress"
SLOW_BODY_LIMIT_S = 40.0  # how long we wait for the server to drop a half-sent body
SLOW_BODY_GOAL_S = 15.0
WRONG_KEYS = 1000
GOALS = (
    Goal("bad_inputs_5xx", "==", 0),
    Goal("bad_inputs_no_answer", "==", 0),
    Goal("bad_inputs_dropped_connections", "==", 0),
    Goal("slow_body_closed_s", "<=", SLOW_BODY_GOAL_S),
    Goal("auth_failures_rate_limited", ">", 0),
    Goal("bad_inputs_server_ok_after", "==", 1),
)


def run(options: Options) -> Outcome:
    outcome = Outcome(NAME, goals=GOALS)
    with workdir(NAME, options) as tmp, store_in(tmp, options) as store:
        env = procs.environment(store)
        key = procs.create_key(env, ACCOUNT)
        server = procs.start_server(env, tmp / "serve.log")
        with procs.stopped_at_exit(server):
            base = server.extra["base"]
            _seed(base, key)
            target = cases.Target(int(base.rsplit(":", 1)[1]), key, ACCOUNT)
            _run_catalogue(target, outcome)
            outcome.figures["slow_body_closed_s"] = _slow_body(target)
            _wrong_keys(base, outcome)
            outcome.figures["bad_inputs_server_ok_after"] = float(_still_serving(base, key))
            if outcome.failures:
                outcome.notes += server.tracebacks(limit=5)
    return outcome


def _seed(base: str, key: str) -> None:
    memory = {
        "category": "preference",
        "routing_key": "city",
        "abstract": "Lives in Lisbon",
        "content": "She moved to Lisbon last spring.",
    }
    body = {"user_id": "u", "memories": [memory]}
    headers = {"Authorization": f"Bearer {key}"}
    httpx.post(base + "/api/v1/memories", json=body, headers=headers, timeout=60).raise_for_status()


def _run_catalogue(target: cases.Target, outcome: Outcome) -> None:
    catalogued = catalogue.catalogue(target)
    counts = {"5xx": 0, "silent": 0, "dropped": 0}
    for case in catalogued:
        answers = _run_case(target, case, outcome, counts)
        shown = " / ".join(a.describe()[:70] for a in answers)
        print(f"    {case.name}: {shown} ({sum(a.seconds for a in answers):.1f} s)", flush=True)
    outcome.figures["bad_inputs_tried"] = float(len(catalogued) + 2)  # + slow body + wrong keys
    outcome.figures["bad_inputs_5xx"] = float(counts["5xx"])
    outcome.figures["bad_inputs_no_answer"] = float(counts["silent"])
    outcome.figures["bad_inputs_dropped_connections"] = float(counts["dropped"])


def _run_case(
    target: cases.Target, case: cases.Case, outcome: Outcome, counts: dict[str, int]
) -> list[Answer]:
    """The case's requests on one connection; then, unless the server said it would close
    the connection, a /healthz on it: a client may reuse any connection not announced closed."""
    answers: list[Answer] = []
    with Connection.to(target.port, timeout_s=case.timeout_s) as conn:
        for number, data in enumerate(case.requests, 1):
            answer = conn.exchange(data)
            answers.append(answer)
            if answer.failed:
                counts["5xx" if answer.status is not None else "silent"] += 1
                outcome.failures.append(f"{case.name} (request {number}): {answer.describe()}")
                break
        # after a 5xx too: an error must not cost the client its connection unannounced
        if answers[-1].closing or answers[-1].status is None:
            return answers
        probe = conn.exchange(request("GET", "/healthz", host=target.host))
    if probe.status != 200:
        counts["dropped"] += 1
        outcome.failures.append(
            f"{case.name}: the connection, not announced closed, then failed: {probe.describe()}"
        )
    return answers


def _slow_body(target: cases.Target) -> float:
    """Content-Length 1,000, then ten bytes and silence: how long until the server gives up."""
    head = request(
        "POST",
        "/api/v1/search",
        host=target.host,
        key=target.key,
        headers={"Content-Type": "application/json", "Content-Length": "1000"},
    )
    with Connection.to(target.port) as conn:
        conn.sock.sendall(head + b'{"query": ')
        closed = conn.wait_closed(SLOW_BODY_LIMIT_S)
    if closed is None:
        print(f"    half-sent body: still open after {SLOW_BODY_LIMIT_S:.0f} s", flush=True)
        return SLOW_BODY_LIMIT_S
    print(f"    half-sent body: closed after {closed:.1f} s", flush=True)
    return closed


def _wrong_keys(base: str, outcome: Outcome) -> None:
    statuses: dict[int, int] = {}
    errors = 0
    with httpx.Client(base_url=base, timeout=30) as http:
        for number in range(WRONG_KEYS):
            headers = {"Authorization": f"Bearer ogm_wrong{number:06d}"}
            try:
                status = http.get("/api/v1/sessions", params={"user_id": "u"}, headers=headers)
            except httpx.TransportError:
                errors += 1
                continue
            statuses[status.status_code] = statuses.get(status.status_code, 0) + 1
    print(f"    {WRONG_KEYS} wrong keys: {statuses}, {errors} transport errors", flush=True)
    outcome.figures["auth_failures_rate_limited"] = float(statuses.get(429, 0))
    outcome.figures["auth_failures_401"] = float(statuses.get(401, 0))
    unexpected = {s: n for s, n in statuses.items() if s not in (401, 429)}
    if unexpected or errors:
        outcome.failures.append(
            f"wrong keys: {unexpected} other answers, {errors} transport errors"
        )


def _still_serving(base: str, key: str) -> bool:
    """/healthz and a normal search answer; a 429 left by the wrong keys is waited out (a
    rate limit on failed keys may hold the address back for a while, the server is fine)."""
    headers = {"Authorization": f"Bearer {key}"}
    body = {"query": "where does she live?", "user_id": "u"}
    deadline = time.monotonic() + 90
    try:
        health = httpx.get(base + "/healthz", timeout=30)
        found = httpx.post(base + "/api/v1/search", json=body, headers=headers, timeout=60)
        while found.status_code == 429 and time.monotonic() < deadline:
            time.sleep(_retry_after(found.headers.get("Retry-After", "")))
            found = httpx.post(base + "/api/v1/search", json=body, headers=headers, timeout=60)
    except httpx.TransportError as exc:
        print(f"    after the bad inputs: {exc!r}", flush=True)
        return False
    ok = health.status_code == 200 and found.status_code == 200 and bool(found.json()["hits"])
    print(f"    after the bad inputs: healthz {health.status_code}, search {found.status_code}")
    return ok


def _retry_after(value: str) -> float:
    """Seconds from a Retry-After header (a number, or a date we do not bother with)."""
    return float(value) if value.strip().isdigit() else 1.0
