"""kill -9 of ``ogmem serve`` at random moments while a client process streams after_turn and
memory writes; after each restart on the same store, every acknowledged write must be there.

A message is checked by sending it again with its message id: the server ignores an id it
already holds (``added`` 0), so ``added`` 1 means the acknowledged message had been lost. The
session's message count is checked too. A memory is checked by reading its URI. The hash
embedder is used: this check is about durability, and MiniLM would only slow the restarts.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.stress import procs
from bench.stress.options import Options, store_in, workdir
from bench.stress.outcome import Goal, Outcome

NAME = "crash"
ACCOUNT, USER = "stress", "u"
KILL_AFTER_S = (0.05, 2.5)  # after the first acknowledged write
SEED = 20261201
GOALS = (
    Goal("crash_trials", ">=", 10),
    Goal("crash_lost", "==", 0),
    Goal("crash_restart_failed", "==", 0),
)


@dataclass
class Trial:
    acks: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)


def run(options: Options) -> Outcome:
    outcome = Outcome(NAME, goals=GOALS)
    print("    embedder: hash (this check is about durability)", flush=True)
    rng = random.Random(SEED)
    with workdir(NAME, options) as tmp, store_in(tmp, options) as store:
        env = procs.environment(store, embedder="hash")
        key = procs.create_key(env, ACCOUNT)
        port = procs.free_port()
        log = tmp / "serve.log"
        running = [procs.start_server(env, log, port=port)]
        try:
            _trials(options.trials, running, env, key, tmp, rng, outcome)
        finally:
            running[-1].stop()
        if outcome.failures:
            outcome.notes += running[-1].tracebacks()
    return outcome


def _trials(
    count: int,
    running: list[procs.Process],
    env: dict[str, str],
    key: str,
    tmp: Path,
    rng: random.Random,
    outcome: Outcome,
) -> None:
    totals: Counter[str] = Counter()
    for number in range(count):
        server = running[-1]
        trial = _stream_and_kill(server, env, key, tmp, f"c{number}", rng)
        try:
            running.append(procs.start_server(env, server.log, port=_port(server)))
        except RuntimeError as exc:
            totals["restart_failed"] += 1
            outcome.failures.append(f"trial {number}: the server did not restart: {exc}")
            break
        _verify(running[-1].extra["base"], key, trial)
        totals.update(trials=1, acked=len(trial.acks), lost=len(trial.lost))
        totals["refused_5xx"] += sum(r.get("status", 0) >= 500 for r in trial.refused)
        outcome.failures += [f"trial {number}: {line}" for line in trial.lost[:10]]
        outcome.failures += [f"trial {number}: refused {r}" for r in trial.refused[:3]]
        print(
            f"    trial {number}: {len(trial.acks)} acknowledged, {len(trial.lost)} lost, "
            f"{len(trial.refused)} refused",
            flush=True,
        )
    outcome.figures.update(
        crash_trials=float(totals["trials"]),
        crash_acknowledged=float(totals["acked"]),
        crash_lost=float(totals["lost"]),
        crash_restart_failed=float(totals["restart_failed"]),
        crash_refused_5xx=float(totals["refused_5xx"]),
    )


def _port(server: procs.Process) -> int:
    return int(server.extra["base"].rsplit(":", 1)[1])


def _stream_and_kill(
    server: procs.Process, env: dict[str, str], key: str, tmp: Path, tag: str, rng: random.Random
) -> Trial:
    out = tmp / f"{tag}.jsonl"
    args = [sys.executable, "-m", "bench.stress.crash_client", server.extra["base"], key]
    client = procs.spawn("crash client", [*args, str(out), tag], env, tmp / f"{tag}.log")
    try:
        deadline = time.monotonic() + 60
        while not (out.exists() and out.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(*KILL_AFTER_S))
        server.kill9()
        client.popen.wait(timeout=60)  # its writers stop at the first refused connection
    finally:
        client.stop()
    return _read_acks(out)


def _read_acks(path: Path) -> Trial:
    trial = Trial()
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line cannot be an acknowledgement the client saw complete
        (trial.refused if record["kind"] == "refused" else trial.acks).append(record)
    return trial


def _verify(base: str, key: str, trial: Trial) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
        _verify_counts(http, trial)
        for ack in trial.acks:
            if ack["kind"] == "turn":
                _verify_message(http, ack, trial)
            else:
                _verify_memory(http, ack, trial)


def _verify_counts(http: httpx.Client, trial: Trial) -> None:
    acked = Counter(a["session"] for a in trial.acks if a["kind"] == "turn")
    for session, count in acked.items():
        found = http.get(f"/api/v1/sessions/{session}", params={"user_id": USER})
        held = found.json()["session"]["messages"] if found.status_code == 200 else 0
        if held < count:
            trial.lost.append(f"session {session}: {count} acknowledged, {held} held")


def _verify_message(http: httpx.Client, ack: dict[str, Any], trial: Trial) -> None:
    message = {"role": "user", "content": ack["content"], "message_id": ack["message_id"]}
    body = {"session_id": ack["session"], "user_id": USER, "messages": [message]}
    answer = http.post("/api/v1/after_turn", json=body)
    if answer.status_code != 200 or answer.json()["added"] != 0:
        trial.lost.append(
            f"message {ack['message_id']}: resent, {answer.status_code} {answer.text[:120]}"
        )


def _verify_memory(http: httpx.Client, ack: dict[str, Any], trial: Trial) -> None:
    found = http.get("/api/v1/fs/read", params={"uri": ack["uri"], "user_id": USER})
    if found.status_code != 200 or ack["content"] not in found.json()["node"]["content"]:
        trial.lost.append(f"memory {ack['uri']}: {found.status_code} {found.text[:120]}")
