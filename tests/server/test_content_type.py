"""A JSON body is read as JSON whatever its Content-Type says when a key is required (curl -d
sends form data); in dev mode a body must be declared JSON, and the 415 names the header."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.server.app import create_app
from tests.server.conftest import Api

TURN = json.dumps(
    {"session_id": "s1", "user_id": "alice",
     "messages": [{"role": "user", "content": "I moved to Lisbon"}]}
)  # fmt: skip
NOT_DECLARED_JSON = {
    "curl -d": "application/x-www-form-urlencoded",
    "text": "text/plain; charset=utf-8",
    "none": None,
}


def _headers(content_type: str | None, **more: str) -> dict[str, str]:
    return {**more, **({"Content-Type": content_type} if content_type else {})}


@pytest.mark.parametrize("content_type", NOT_DECLARED_JSON.values(), ids=list(NOT_DECLARED_JSON))
def test_with_a_key_any_body_is_read_as_json(api: Api, content_type: str | None) -> None:
    headers = _headers(content_type, **api.a)
    response = api.client.post("/api/v1/after_turn", content=TURN, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["added"] == 1


@pytest.fixture
def dev_client() -> Iterator[TestClient]:
    with (
        Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine,
        TestClient(create_app(engine, require_keys=False)) as client,
    ):
        yield client


@pytest.mark.parametrize("content_type", NOT_DECLARED_JSON.values(), ids=list(NOT_DECLARED_JSON))
def test_dev_mode_refuses_a_body_not_declared_json_naming_the_header(
    dev_client: TestClient, content_type: str | None
) -> None:
    response = dev_client.post("/api/v1/after_turn", content=TURN, headers=_headers(content_type))
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert "Content-Type: application/json" in error["message"]


def test_dev_mode_takes_a_body_declared_json(dev_client: TestClient) -> None:
    headers = {"Content-Type": "application/json"}
    response = dev_client.post("/api/v1/after_turn", content=TURN, headers=headers)
    assert response.status_code == 200, response.text
    assert dev_client.get("/api/v1/sessions", params={"user_id": "alice"}).status_code == 200
