"""A real uvicorn server over an ASGI app (or ogmem's app over an Engine, with an account key),
on a free loopback port, in a thread of the test."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from ogmem.engine import Engine
from ogmem.limits import ServerLimits
from ogmem.server.app import create_app


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """The server's base URL while the block runs; stopped after it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def serving_engine(engine: Engine, limits: ServerLimits) -> Iterator[tuple[str, str]]:
    """(base URL, a key of account A) of ogmem's server over ``engine``."""
    key = engine.keys.create("A")[1]
    with serving(create_app(engine, limits=limits)) as base:
        yield base, key
