"""as_of over HTTP: search and fs/read; valid_from and expires_at on typed memories."""

from __future__ import annotations

from typing import Any

from tests.server.conftest import Api

HOME = "ctx://A/users/alice/memories/entities/alice-home"


def _home(city: str, valid_from: str) -> dict[str, Any]:
    return {
        "category": "entity", "routing_key": "alice-home", "abstract": f"Alice lives in {city}",
        "content": f"Alice lives in {city}.", "attributes": {"kind": "person"},
        "valid_from": valid_from,
    }  # fmt: skip


def _post(api: Api, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.client.post(f"/api/v1/{path}", json=body, headers=api.a)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _moved(api: Api) -> None:
    for city, start in (("Paris", "2019-06-01"), ("Berlin", "2024-03-01T00:00:00Z")):
        _post(api, "memories", {"user_id": "alice", "memories": [_home(city, start)]})
    api.engine.drain()


def test_search_puts_the_current_fact_first_and_as_of_the_past_one(api: Api) -> None:
    _moved(api)
    now = _post(api, "search", {"user_id": "alice", "query": "where does Alice live?"})
    first, second = now["hits"][:2]
    assert (first["uri"], first["superseded"]) == (HOME, False)
    assert (second["uri"], second["superseded"]) == (HOME + ".v1", True)
    assert second["valid_to"].startswith("2024-03-01")
    body = {"user_id": "alice", "query": "where did Alice live?", "as_of": "2022-06-01T00:00:00"}
    assert _post(api, "search", body)["hits"][0]["abstract"] == "Alice lives in Paris"


def test_fs_read_as_of_returns_the_fact_held_then(api: Api) -> None:
    _moved(api)
    params: dict[str, str] = {"uri": HOME, "user_id": "alice", "as_of": "2022-06-01"}
    response = api.client.get("/api/v1/fs/read", params=params, headers=api.a)
    assert response.status_code == 200, response.text
    node = response.json()["node"]
    assert node["abstract"] == "Alice lives in Paris" and node["valid_to"].startswith("2024-03")
    params["as_of"] = "2018-01-01"  # before Alice lived anywhere we know of
    missing = api.client.get("/api/v1/fs/read", params=params, headers=api.a)
    assert missing.status_code == 404, missing.text


def test_a_bad_as_of_is_a_422_naming_it(api: Api) -> None:
    body = {"user_id": "alice", "query": "where?", "as_of": "last tuesday"}
    response = api.client.post("/api/v1/search", json=body, headers=api.a)
    assert response.status_code == 422 and "as_of" in response.text


def test_expires_at_is_kept_and_an_expired_memory_is_not_found(api: Api) -> None:
    memory = {**_home("Rome", "2020-01-01"), "routing_key": "trip",
              "expires_at": "2000-01-01T00:00:00Z"}  # fmt: skip
    _post(api, "memories", {"user_id": "alice", "memories": [memory]})
    api.engine.drain()
    found = _post(api, "search", {"user_id": "alice", "query": "Rome"})
    assert [h for h in found["hits"] if "Rome" in h["abstract"]] == []
    params = {"uri": "ctx://A/users/alice/memories/entities/trip", "user_id": "alice"}
    node = api.client.get("/api/v1/fs/read", params=params, headers=api.a).json()["node"]
    assert node["expires_at"].startswith("2000-01-01")
