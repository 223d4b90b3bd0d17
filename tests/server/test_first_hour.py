"""Issue 11 over HTTP: a failed commit?wait=true answers an error and is retried; unknown
roles are refused with the allowed list; session archives come back only on request."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from ogmem.core.models import EventType, RequestContext
from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.llm.openai_client import OpenAIClient
from ogmem.server.app import create_app

CTX = RequestContext("A", "alice")
TURN = {
    "session_id": "s1",
    "user_id": "alice",
    "messages": [{"role": "user", "content": "I adopted a puppy called Rex.", "message_id": "m1"}],
}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _client(engine: Engine) -> tuple[TestClient, dict[str, str]]:
    key = engine.keys.create("A", name="a")[1]
    return TestClient(create_app(engine)), {"Authorization": f"Bearer {key}"}


@pytest.fixture
def port() -> int:
    return _closed_port()


@pytest.fixture
def unreachable_llm_engine(port: int) -> Iterator[Engine]:
    llm = OpenAIClient(
        base_url=f"http://127.0.0.1:{port}/v1", model="m", api_key="k", max_retries=0
    )
    with Engine.open(":memory:", llm=llm, embedder=HashEmbedder(), worker=False) as engine:
        yield engine


@pytest.fixture
def engine() -> Iterator[Engine]:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as opened:
        yield opened


def test_a_commit_waited_for_whose_llm_is_unreachable_is_an_error_and_retried(
    unreachable_llm_engine: Engine, port: int
) -> None:
    engine = unreachable_llm_engine
    client, auth = _client(engine)
    assert client.post("/api/v1/after_turn", json=TURN, headers=auth).status_code == 200

    answer = client.post(
        "/api/v1/sessions/s1/commit?wait=true", json={"user_id": "alice"}, headers=auth
    )

    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "commit_failed" and f"127.0.0.1:{port}" in error["message"]
    assert error["detail"] == {"session_id": "s1", "retry": "scheduled"}
    (job,) = engine.outbox_events(CTX)
    assert job.type is EventType.COMMIT_SESSION and job.status.value == "PENDING"
    engine.worker._max_attempts = 2
    engine.drain()
    engine.worker._clock = lambda: datetime.now(UTC) + timedelta(hours=1)  # type: ignore[method-assign]
    engine.drain()
    (dead,) = engine.outbox_events(CTX)
    assert dead.status.value == "DLQ" and f"127.0.0.1:{port}" in str(dead.last_error)


def test_an_unknown_role_is_422_naming_the_allowed_roles(engine: Engine) -> None:
    client, auth = _client(engine)
    turn = {**TURN, "messages": [{"role": "human", "content": "Hi"}]}

    answer = client.post("/api/v1/after_turn", json=turn, headers=auth)

    assert answer.status_code == 422
    assert "user, assistant, system, tool" in answer.json()["error"]["message"]


def test_session_archives_come_back_only_when_asked(engine: Engine) -> None:
    client, auth = _client(engine)
    client.post("/api/v1/after_turn", json=TURN, headers=auth)
    client.post("/api/v1/sessions/s1/commit?wait=true", json={"user_id": "alice"}, headers=auth)
    engine.drain()
    query = {"query": "puppy Rex", "user_id": "alice"}

    default = client.post("/api/v1/search", json=query, headers=auth).json()["hits"]
    asked = client.post(
        "/api/v1/search", json={**query, "include_sessions": True}, headers=auth
    ).json()["hits"]
    block = client.post(
        "/api/v1/compose", json={**query, "include_sessions": True}, headers=auth
    ).json()

    assert default and not any("/sessions/" in h["uri"] for h in default)
    assert any("/sessions/" in h["uri"] for h in asked)
    assert any("/sessions/" in u for u in block["uris"])
