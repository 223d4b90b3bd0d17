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
from urllib.parse import urlsplit

import httptools
import uvloop

USER = "u"
MIX = (("after_turn", 0.70), ("search", 0.25), ("compose", 0.05))
TIMEOUT_S = 60.0
RECV = 65536


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


class Connection:
    """One keep-alive HTTP/1.1 connection, the answers parsed by httptools (uvicorn's
    parser). httpx took ~1.7 ms of CPU per request here, a third of a core at 190 requests/s,
    on the two cores the server runs on; this takes a fraction of that, so the figures say
    more about the server and less about its client."""

    def __init__(self, base: str, key: str) -> None:
        address = urlsplit(base)
        self._host, self._port = address.hostname or "127.0.0.1", address.port or 80
        self._head = (
            f"Host: {address.netloc}\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\n"
        ).encode()
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, payload: dict[str, Any]) -> tuple[int, bytes]:
        """(status, body); a connection the server closed is opened again for the next."""
        body = json.dumps(payload).encode()
        request = b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s" % (
            path.encode(),
            self._head,
            len(body),
            body,
        )
        if self._streams is None:
            self._streams = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._streams
        answer = _Answer()
        parser = httptools.HttpResponseParser(answer)
        answer.parser = parser
        try:
            writer.write(request)
            while not answer.complete:
                data = await asyncio.wait_for(reader.read(RECV), TIMEOUT_S)
                if not data:
                    raise ConnectionError("the server closed the connection")
                parser.feed_data(data)
        except BaseException:
            await self.close()
            raise
        if not answer.keep_alive:
            await self.close()
        return parser.get_status_code(), b"".join(answer.body)

    async def close(self) -> None:
        if self._streams is not None:
            writer, self._streams = self._streams[1], None
            writer.close()


class _Answer:
    """httptools' callbacks for one answer."""

    def __init__(self) -> None:
        self.body: list[bytes] = []
        self.complete = False
        self.keep_alive = False
        self.parser: httptools.HttpResponseParser | None = None

    def on_headers_complete(self) -> None:
        # llhttp answers this only while the message is being parsed (False once it is done)
        assert self.parser is not None
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, data: bytes) -> None:
        self.body.append(data)

    def on_message_complete(self) -> None:
        self.complete = True


async def _client(
    base: str, key: str, client: int, stop: float, questions: list[str], tally: Tally
) -> None:
    rng = random.Random(client)
    http = Connection(base, key)  # one agent, one connection, as in production
    n = 0
    try:
        while time.monotonic() < stop:
            route = choose(rng)
            started = time.perf_counter()
            try:
                status, text = await http.post(
                    f"/api/v1/{route}", body(route, client, n, questions)
                )
                error = None if status < 400 else f"{status} {text[:200]!r}"
            except (OSError, TimeoutError, httptools.HttpParserError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            took = (time.perf_counter() - started) * 1000
            if error is None:
                tally.latencies[route].append(took)
                if route == "after_turn":
                    tally.acknowledged[client] += 1
            else:
                tally.errors.append({"route": route, "error": error, "ms": took})
            n += 1
    finally:
        await http.close()


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
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result = runner.run(main(base_url, api_key, float(duration), int(count), asked))
    Path(out).write_text(json.dumps(result.as_json(time.monotonic() - started)))
