"""The turn's routes (after_turn, ingest, ingest_batch, search, compose) run in a pool of
their own (server/turns.py): at most ``turn_threads`` at once, a turn's append before a
search queued ahead of it, the key always checked before the Engine is called, and the other
routes answered while that pool is full."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from ogmem.core import errors
from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.limits import ServerLimits
from ogmem.server.app import create_app
from ogmem.settings import Settings
from tests.serving import serving_engine

MESSAGE = {"role": "user", "content": "hi"}
TURN = {"session_id": "s1", "user_id": "alice", "messages": [MESSAGE]}
# (route, body, the Engine method it calls)
ROUTES = [
    ("/api/v1/after_turn", TURN, "after_turn"),
    ("/api/v1/ingest", {"session_id": "s1", "user_id": "alice", "message": MESSAGE}, "ingest"),
    ("/api/v1/ingest_batch", TURN, "ingest"),
    ("/api/v1/search", {"query": "hi", "user_id": "alice"}, "search"),
    ("/api/v1/compose", {"query": "hi", "user_id": "alice"}, "compose"),
]


class _Gate:
    """Stands in for an Engine call: counts the calls inside at once and holds them until
    released."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real, self.inside, self.most = real, 0, 0
        self.released = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        try:
            self.released.wait(30)
            return self.real(*args, **kwargs)
        finally:
            with self._lock:
                self.inside -= 1

    def wait_inside(self, count: int) -> None:
        deadline = time.monotonic() + 20
        while self.inside < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert self.inside == count


def test_at_most_turn_threads_run_at_once_and_other_routes_go_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with (
        Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine,
        serving_engine(engine, ServerLimits(turn_threads=2)) as (base, key),
    ):
        gate = _Gate(engine.search)
        monkeypatch.setattr(engine, "search", gate)
        auth = {"Authorization": f"Bearer {key}"}

        def search(_: int) -> int:
            with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
                body = {"query": "hi", "user_id": "alice"}
                return client.post("/api/v1/search", json=body).status_code

        with ThreadPoolExecutor(5) as pool:
            answers = pool.map(search, range(5))
            try:
                gate.wait_inside(2)
                time.sleep(0.3)  # room for a third to get in, were the pool wider
                assert gate.inside == 2
                # the pool is full: a route of the shared pool still answers
                sessions = httpx.get(f"{base}/api/v1/sessions?user_id=alice", headers=auth)
                assert sessions.status_code == 200
            finally:
                gate.released.set()
            assert list(answers) == [200] * 5
    assert gate.most == 2


def test_a_turn_waiting_behind_a_search_goes_before_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """One thread, a search running and another waiting: an after_turn that comes within the
    head start is served first (the second search would have gone first, first come first
    served)."""
    limits = ServerLimits(turn_threads=1, append_head_start_ms=60_000)
    with (
        Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine,
        serving_engine(engine, limits) as (base, key),
    ):
        calls: list[str] = []
        gate = _Gate(engine.search)
        real_turn = engine.after_turn
        monkeypatch.setattr(
            engine, "search", lambda *a, **k: calls.append("search") or gate(*a, **k)
        )
        monkeypatch.setattr(
            engine, "after_turn", lambda *a, **k: calls.append("after_turn") or real_turn(*a, **k)
        )
        auth = {"Authorization": f"Bearer {key}"}

        def post(route: str, body: dict[str, Any]) -> int:
            with httpx.Client(base_url=base, headers=auth, timeout=30) as client:
                return client.post(route, json=body).status_code

        search = ("/api/v1/search", {"query": "hi", "user_id": "alice"})
        with ThreadPoolExecutor(3) as pool:
            try:
                running = pool.submit(post, *search)
                gate.wait_inside(1)
                waiting = pool.submit(post, *search)
                time.sleep(0.3)  # the second search is queued before the turn comes
                turn = pool.submit(post, "/api/v1/after_turn", TURN)
                time.sleep(0.3)
                assert calls == ["search"]  # both wait for the one thread
            finally:
                gate.released.set()
            assert [running.result(), waiting.result(), turn.result()] == [200, 200, 200]
    assert calls == ["search", "after_turn", "search"]


def test_the_append_head_start_comes_from_the_environment() -> None:
    assert Settings.from_env({}).limits.append_head_start_ms == 125
    env = {"OGMEM_APPEND_HEAD_START_MS": "40"}
    assert Settings.from_env(env).limits.append_head_start_ms == 40
    with pytest.raises(errors.ConfigurationError, match="OGMEM_APPEND_HEAD_START_MS"):
        Settings.from_env({"OGMEM_APPEND_HEAD_START_MS": "soon"})


@pytest.mark.parametrize(("route", "body", "method"), ROUTES)
def test_the_key_is_checked_before_the_engine_is_called(
    route: str, body: dict[str, Any], method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        alice = engine.keys.create("A", "alice")[1]
        bob = engine.keys.create("A", "bob")[1]
        real = getattr(engine, method)
        monkeypatch.setattr(engine, method, lambda *a, **k: calls.append(method) or real(*a, **k))
        with TestClient(create_app(engine)) as client:
            missing = client.post(route, json=body)
            wrong = client.post(route, json=body, headers={"Authorization": "Bearer ogm_x"})
            other_user = client.post(route, json=body, headers={"Authorization": f"Bearer {bob}"})
            assert calls == []
            own = client.post(route, json=body, headers={"Authorization": f"Bearer {alice}"})
    assert (missing.status_code, wrong.status_code, other_user.status_code) == (401, 401, 403)
    assert own.status_code == 200 and calls == [method]
    assert own.headers["content-type"] == "application/json"


def test_the_openapi_document_keeps_each_turn_routes_answer() -> None:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        paths = create_app(engine).openapi()["paths"]
    answers = {
        route: paths[route]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
        for route, _, _ in ROUTES
    }
    assert answers == {
        "/api/v1/after_turn": {"$ref": "#/components/schemas/AfterTurnOut"},
        "/api/v1/ingest": {"$ref": "#/components/schemas/SessionEnvelope"},
        "/api/v1/ingest_batch": {"$ref": "#/components/schemas/SessionEnvelope"},
        "/api/v1/search": {"$ref": "#/components/schemas/SearchOut"},
        "/api/v1/compose": {"$ref": "#/components/schemas/ComposeOut"},
    }


def test_turn_threads_comes_from_the_environment() -> None:
    assert Settings.from_env({}).limits.turn_threads == 4
    assert Settings.from_env({"OGMEM_TURN_THREADS": "12"}).limits.turn_threads == 12
    with pytest.raises(errors.ConfigurationError, match="OGMEM_TURN_THREADS"):
        Settings.from_env({"OGMEM_TURN_THREADS": "0"})
