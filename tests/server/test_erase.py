"""DELETE /api/v1/users/{user_id}: an account key erases any user of its account, a user-bound
key only its own user (and with it that key); bad ids are 422, never a 500."""

from __future__ import annotations

from typing import Any

from tests.server.conftest import Api

PREFERENCE = {"category": "preference", "routing_key": "editor", "abstract": "Prefers vim",
              "content": "Uses vim daily."}  # fmt: skip


def _remember(api: Api, user: str) -> None:
    body = {"user_id": user, "memories": [PREFERENCE]}
    response = api.client.post("/api/v1/memories", json=body, headers=api.a)
    assert response.json()["results"][0]["status"] == "written", response.text
    message = {"role": "user", "content": "Hello there", "message_id": "m1"}
    turn = {"session_id": f"s-{user}", "user_id": user, "messages": [message]}
    assert api.client.post("/api/v1/after_turn", json=turn, headers=api.a).status_code == 200


def _tree(api: Api, user: str) -> list[Any]:
    params = {"uri": f"ctx://A/users/{user}", "user_id": user}
    response = api.client.get("/api/v1/fs/tree", params=params, headers=api.a)
    assert response.status_code == 200, response.text
    nodes: list[Any] = response.json()["nodes"]
    return nodes


def test_an_account_key_erases_one_user_and_no_other(api: Api) -> None:
    _remember(api, "alice")
    _remember(api, "bob")
    response = api.client.delete("/api/v1/users/alice", headers=api.a)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user_id"] == "alice" and body["counts"]["nodes"] >= 1
    assert body["counts"]["sessions"] == 1 and body["counts"]["messages"] == 1
    assert body["counts"]["api keys"] == 1  # the key bound to alice
    assert _tree(api, "alice") == [] and _tree(api, "bob")
    sessions = api.client.get("/api/v1/sessions", params={"user_id": "alice"}, headers=api.a)
    assert sessions.json() == {"sessions": []}
    again = api.client.delete("/api/v1/users/alice", headers=api.a).json()
    assert sum(again["counts"].values()) == 0


def test_a_user_key_erases_only_its_own_user(api: Api) -> None:
    _remember(api, "alice")
    _remember(api, "bob")
    alice = api.auth(api.key_alice)
    refused = api.client.delete("/api/v1/users/bob", headers=alice)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert _tree(api, "bob")
    assert api.client.delete("/api/v1/users/alice", headers=alice).status_code == 200
    assert _tree(api, "alice") == []
    gone = api.client.get("/api/v1/sessions", params={"user_id": "alice"}, headers=alice)
    assert gone.status_code == 401  # its key was the erased user's


def test_a_user_id_that_cannot_exist_is_a_422(api: Api) -> None:
    for bad in ("a b", "x" * 129, "%2E%2E"):
        response = api.client.delete(f"/api/v1/users/{bad}", headers=api.a)
        assert response.status_code == 422, (bad, response.text)
