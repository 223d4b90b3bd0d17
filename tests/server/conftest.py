"""An app over an engine on each backend (in-memory SQLite, PostgreSQL), with keys for
accounts A and B and a user-bound key."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.keys import Keys
from ogmem.server.app import create_app
from tests.conftest import store_url


@dataclass(frozen=True)
class Api:
    client: TestClient
    engine: Engine
    keys: Keys
    key_a: str
    key_b: str
    key_alice: str  # account A, bound to user alice

    def auth(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    @property
    def a(self) -> dict[str, str]:
        return self.auth(self.key_a)

    @property
    def b(self) -> dict[str, str]:
        return self.auth(self.key_b)


@pytest.fixture(params=["sqlite-memory", "postgres"])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    url = store_url(request, request.param, tmp_path)
    with Engine.open(url, embedder=HashEmbedder(), worker=False) as engine:
        keys = engine.keys
        key_a = keys.create("A", name="a")[1]
        key_b = keys.create("B", name="b")[1]
        key_alice = keys.create("A", "alice", name="alice")[1]
        app = create_app(engine)
        with TestClient(app) as client:  # an unexpected crash fails the test loudly
            yield Api(client, engine, keys, key_a, key_b, key_alice)
