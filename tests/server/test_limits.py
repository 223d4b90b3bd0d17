"""The server's limits against a real HTTP server (uvicorn in a thread, real sockets): body
size, a stalled body, a slow request, a crash, and the same request twice on one keep-alive
connection."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.limits import AuthFailureLimiter, ServerLimits
from tests.serving import serving_engine

# the request timeout stays far above the body timeout: a loaded machine must not let the
# one fire where the other is tested (the request-timeout test has a server of its own)
LIMITS = ServerLimits(max_body_bytes=64_000, body_timeout_s=0.5, request_timeout_s=30.0)


@pytest.fixture
def served() -> Iterator[tuple[Engine, str, dict[str, str]]]:
    with (
        Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine,
        serving_engine(engine, LIMITS) as (base, key),
    ):
        yield engine, base, {"Authorization": f"Bearer {key}"}


def _turn(created_at: str | None = None, content: str = "I moved to Lisbon.") -> dict[str, Any]:
    message: dict[str, Any] = {"role": "user", "content": content}
    if created_at is not None:
        message["created_at"] = created_at
    return {"session_id": "s1", "user_id": "alice", "messages": [message]}


@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-10:00"])
def test_a_time_outside_utc_is_a_422_twice_on_one_connection(
    served: tuple[Engine, str, dict[str, str]], created_at: str
) -> None:
    _, base, headers = served
    with httpx.Client(base_url=base, headers=headers) as client:
        answers = [client.post("/api/v1/after_turn", json=_turn(created_at)) for _ in range(2)]
        healthy = client.post("/api/v1/after_turn", json=_turn())
    for answer in answers:
        assert answer.status_code == 422
        assert answer.json()["error"]["message"].startswith("messages[0].created_at")
    assert healthy.status_code == 200


def test_a_body_over_the_limit_is_413_by_length_and_by_count(
    served: tuple[Engine, str, dict[str, str]],
) -> None:
    engine, base, headers = served
    big = _turn(content="x" * 70_000)
    with httpx.Client(base_url=base, headers=headers) as client:
        declared = client.post("/api/v1/after_turn", json=big)

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            body = httpx.Request("POST", base, json=big).read()
            for start in range(0, len(body), 8192):
                yield body[start : start + 8192]

        counted = client.post(
            "/api/v1/after_turn", content=chunks(),
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
    for answer in (declared, counted):
        assert answer.status_code == 413, answer.text
        assert "OGMEM_MAX_BODY_BYTES" in answer.json()["error"]["message"]
    assert engine.list_sessions(_ctx(engine)) == []  # nothing half-written


def _ctx(engine: Engine) -> Any:
    from ogmem.core.models import RequestContext

    return RequestContext("A", "alice")


def test_a_stalled_body_is_answered_408_and_closed(
    served: tuple[Engine, str, dict[str, str]],
) -> None:
    _, base, headers = served
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        head = (
            f"POST /api/v1/after_turn HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: {headers['Authorization']}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        )
        sock.sendall(head.encode() + b'{"session_id": "s1"')  # and then nothing more
        answer = b""
        while chunk := sock.recv(65536):  # until the server closes the connection
            answer += chunk
        answer = answer.decode()
    assert answer.startswith("HTTP/1.1 408"), answer
    assert "stalled" in answer


def test_a_request_past_the_timeout_is_504_and_the_server_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    limits = ServerLimits(request_timeout_s=0.5)
    with (
        Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine,
        serving_engine(engine, limits) as (base, key),
    ):
        real_search = engine.search
        released = threading.Event()

        def stuck_search(*args: Any, **kwargs: Any) -> Any:
            released.wait(30)  # until the test has its answer: the 504 cannot wait for us
            return real_search(*args, **kwargs)

        monkeypatch.setattr(engine, "search", stuck_search)
        auth = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=base, headers=auth, timeout=10) as client:
            try:
                slow = client.post("/api/v1/search", json={"query": "lisbon", "user_id": "alice"})
            finally:
                released.set()
            assert client.get("/healthz").status_code == 200
    assert slow.status_code == 504 and slow.json()["error"]["code"] == "request_timeout"


def test_an_unexpected_crash_is_a_500_and_the_connection_stays_usable(
    served: tuple[Engine, str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, base, headers = served

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise OverflowError("a bug")

    monkeypatch.setattr(engine, "after_turn", crash)
    with httpx.Client(base_url=base, headers=headers) as client:
        answers = [client.post("/api/v1/after_turn", json=_turn()) for _ in range(2)]
        assert client.get("/healthz").status_code == 200
    for answer in answers:
        assert answer.status_code == 500
        assert answer.json()["error"] == {
            "code": "internal_error", "message": "internal server error", "detail": None
        }  # fmt: skip


def test_repeated_failed_authentication_is_limited(
    served: tuple[Engine, str, dict[str, str]],
) -> None:
    _, base, headers = served
    wrong = {"Authorization": "Bearer ogm_" + "x" * 43}
    with httpx.Client(base_url=base) as client:
        codes = [client.get("/api/v1/sessions?user_id=a", headers=wrong).status_code
                 for _ in range(LIMITS.auth_failures_per_minute + 5)]  # fmt: skip
        blocked = client.get("/api/v1/sessions?user_id=a", headers=headers)
    assert codes[: LIMITS.auth_failures_per_minute] == [401] * LIMITS.auth_failures_per_minute
    assert set(codes[LIMITS.auth_failures_per_minute :]) == {429}
    # even a valid key waits: the address is refused before any key is looked up
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) >= 1


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limiter_forgets_old_failures_and_bounds_its_memory() -> None:
    clock = _Clock()
    limiter = AuthFailureLimiter(3, clock=clock, max_clients=100)
    for _ in range(3):
        limiter.failed("10.0.0.1")
    assert limiter.retry_after("10.0.0.1") == pytest.approx(60.0)
    clock.now += 30
    assert limiter.retry_after("10.0.0.1") == pytest.approx(30.0)
    clock.now += 30.001
    assert limiter.retry_after("10.0.0.1") is None
    for number in range(1_000):
        limiter.failed(f"10.1.{number // 256}.{number % 256}")
    assert len(limiter._failures) == 100
