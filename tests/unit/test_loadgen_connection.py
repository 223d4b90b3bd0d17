"""The load generator's HTTP connection (bench/stress/loadgen.py) against a real uvicorn:
answers and bodies whole, one connection kept alive, opened again after the server closed it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from bench.stress.loadgen import Connection

from tests.serving import serving


async def _echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers what it was sent, where from and with which key; /close closes afterwards,
    /missing is a 404."""
    if scope["type"] != "http":
        return
    body, more = b"", True
    while more:
        message = await receive()
        body, more = body + message.get("body", b""), message.get("more_body", False)
    headers = dict(scope["headers"])
    seen = {
        "path": scope["path"],
        "client_port": scope["client"][1],
        "key": headers[b"authorization"].decode(),
        "sent": json.loads(body),
        "padding": "x" * 200_000,  # more than one read of the socket
    }
    answer = json.dumps(seen).encode()
    fields = [(b"content-type", b"application/json")]
    if scope["path"] == "/close":
        fields.append((b"connection", b"close"))
    status = 404 if scope["path"] == "/missing" else 200
    await send({"type": "http.response.start", "status": status, "headers": fields})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture
def base() -> Iterator[str]:
    with serving(_echo) as url:
        yield url


def test_answers_come_whole_on_one_kept_connection_reopened_after_a_close(base: str) -> None:
    async def exchange() -> list[tuple[int, dict[str, Any]]]:
        connection = Connection(base, "ogm_key")
        answers = []
        for path in ("/a", "/b", "/close", "/c", "/missing"):
            status, body = await connection.post(path, {"path": path, "text": "é" * 10})
            answers.append((status, json.loads(body)))
        await connection.close()
        return answers

    answers = asyncio.run(exchange())
    assert [status for status, _ in answers] == [200, 200, 200, 200, 404]
    assert all(seen["key"] == "Bearer ogm_key" for _, seen in answers)
    assert [seen["sent"]["path"] for _, seen in answers] == ["/a", "/b", "/close", "/c", "/missing"]
    assert all(len(seen["padding"]) == 200_000 for _, seen in answers)
    ports = [seen["client_port"] for _, seen in answers]
    # kept alive until the server said close; then a new connection
    assert ports[0] == ports[1] == ports[2] and ports[3] != ports[2] and ports[4] == ports[3]
