"""The load generator of the load check, in its own process: CLIENTS concurrent clients (one
connection each, asyncio) for SECONDS, each request after_turn (70 %), search (25 %) or
compose (5 %); writes every latency per route, every error, and how many messages each
client's session was acknowledged to OUT as JSON. BASE may list several servers (commas): the
clients are dealt across them in turn.

``python -m bench.stress.loadgen BASE[,BASE...] KEY SECONDS CLIENTS QUESTIONS_FILE OUT``
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

USER = "u"
MIX = (("after_turn", 0.70), ("search", 0.25), ("compose", 0.05))
TIMEOUT_S = 60.0


def choose(rng: random.Random) -> str:
    draw, total = rng.random(), 0.0
    for route, share in MIX:
        total += share
        if draw < total:
            return route
    return MIX[-1][0]


def body(route: str, client: int, n: int, questions: list[str]) -> dict[str, Any]:
    question = questions[(client * 997 + n) % len(questions)]
    if route == "after_turn":
        text = f"Turn {n} of client {client}: {question.rstrip('?')}."
        message = {"role": "user", "content": text, "message_id": f"c{client}-{n}"}
        return {"session_id": f"load-{client}", "user_id": USER, "messages": [message]}
    if route == "search":
        return {"query": question, "user_id": USER, "limit": 10}
    return {"query": question, "user_id": USER, "token_budget": 1000}


class Tally:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: list[dict[str, Any]] = []
        self.acknowledged: dict[int, int] = defaultdict(int)  # after_turn 2xx per client

    def as_json(self, seconds: float) -> dict[str, Any]:
        # the generator's own CPU: on 2 shared cores, what it takes the server does not get
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {
            "seconds": seconds,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "latencies_ms": self.latencies,
            "errors": self.errors,
            "acknowledged": self.acknowledged,
        }


async def _client(
    base: str, key: str, client: int, stop: float, questions: list[str], tally: Tally
) -> None:
    rng = random.Random(client)
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=1)  # one agent, one connection, as in production
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=TIMEOUT_S, limits=limits
    ) as http:
        n = 0
        while time.monotonic() < stop:
            route = choose(rng)
            started = time.perf_counter()
            try:
                answer = await http.post(f"/api/v1/{route}", json=body(route, client, n, questions))
                error = (
                    None
                    if answer.status_code < 400
                    else f"{answer.status_code} {answer.text[:200]}"
                )
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            took = (time.perf_counter() - started) * 1000
            if error is None:
                tally.latencies[route].append(took)
                if route == "after_turn":
                    tally.acknowledged[client] += 1
            else:
                tally.errors.append({"route": route, "error": error, "ms": took})
            n += 1


def server_of(bases: str, client: int) -> str:
    """The server a client talks to: the listed ones dealt in turn."""
    listed = bases.split(",")
    return listed[client % len(listed)]


async def main(bases: str, key: str, seconds: float, clients: int, questions: list[str]) -> Tally:
    tally = Tally()
    stop = time.monotonic() + seconds
    await asyncio.gather(
        *(_client(server_of(bases, c), key, c, stop, questions, tally) for c in range(clients))
    )
    return tally


if __name__ == "__main__":
    base_url, api_key, duration, count, questions_file, out = sys.argv[1:7]
    asked = json.loads(Path(questions_file).read_text())
    started = time.monotonic()
    result = asyncio.run(main(base_url, api_key, float(duration), int(count), asked))
    Path(out).write_text(json.dumps(result.as_json(time.monotonic() - started)))
