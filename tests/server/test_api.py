"""Every endpoint of the HTTP API: success, validation naming the field, 404, 409, 401, 403."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.server.app import create_app
from tests.server.conftest import Api

EDITOR = "ctx://A/users/alice/memories/preferences/editor"
PREFERENCE = {
    "category": "preference",
    "routing_key": "editor",
    "abstract": "Prefers vim",
    "content": "Alice edits code in vim every day.",
}


def _turn(session: str = "s1", user: str = "alice", **extra: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": "I adopted a puppy called Rex.", "message_id": "m1"}]
    return {"session_id": session, "user_id": user, "messages": messages, **extra}


def _remember(api: Api, user: str = "alice", **memory: Any) -> dict[str, Any]:
    body = {"user_id": user, "memories": [{**PREFERENCE, **memory}]}
    response = api.client.post("/api/v1/memories", json=body, headers=api.a)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["results"][0]
    return result


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == code, error
    return error


# -- sessions -----------------------------------------------------------------------------------


def test_after_turn_buffers_the_turn(api: Api) -> None:
    response = api.client.post("/api/v1/after_turn", json=_turn(), headers=api.a)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["added"] == 1 and body["commit_scheduled"] is False
    assert body["session"]["session_id"] == "s1" and body["session"]["status"] == "open"
    again = api.client.post("/api/v1/after_turn", json=_turn(), headers=api.a)
    assert again.json()["added"] == 0  # the same message id: a retry is not doubled


def test_after_turn_validation_names_the_field(api: Api) -> None:
    turn = _turn()
    turn["messages"][0]["content"] = "x" * 200_001
    error = _error(api.client.post("/api/v1/after_turn", json=turn, headers=api.a), 422,
                   "validation_error")  # fmt: skip
    assert error["message"].startswith("messages[0].content:")
    assert "x" * 100 not in str(error)  # the input is not echoed back
    many = _turn()
    many["messages"] = many["messages"] * 1001
    error = _error(api.client.post("/api/v1/after_turn", json=many, headers=api.a), 422,
                   "validation_error")  # fmt: skip
    assert error["detail"]["errors"][0]["field"] == "messages"
    typo = {**_turn(), "user_Id": "bob"}
    error = _error(api.client.post("/api/v1/after_turn", json=typo, headers=api.a), 422,
                   "validation_error")  # fmt: skip
    assert "user_Id" in error["message"]


def test_ingest_and_ingest_batch(api: Api) -> None:
    single = {"session_id": "s2", "user_id": "alice", "message": {"role": "user", "content": "hi"}}
    response = api.client.post("/api/v1/ingest", json=single, headers=api.a)
    assert response.status_code == 200, response.text
    assert response.json()["session"]["messages"] == 1
    batch = _turn("s2")
    batch["messages"].append({"role": "assistant", "content": "Nice!", "name": "bot"})
    response = api.client.post("/api/v1/ingest_batch", json=batch, headers=api.a)
    assert response.json()["session"]["messages"] == 3
    bad = {**single, "message": {"role": "", "content": "hi"}}
    error = _error(api.client.post("/api/v1/ingest", json=bad, headers=api.a), 422,
                   "validation_error")  # fmt: skip
    assert error["message"].startswith("message.role:")


def test_commit_wait_then_session_reads(api: Api) -> None:
    api.client.post("/api/v1/after_turn", json=_turn(), headers=api.a)
    response = api.client.post(
        "/api/v1/sessions/s1/commit?wait=true", json={"user_id": "alice"}, headers=api.a
    )
    assert response.status_code == 200, response.text
    session = response.json()["session"]
    assert session["status"] == "committed" and session["written"] >= 1
    listed = api.client.get("/api/v1/sessions?user_id=alice", headers=api.a).json()["sessions"]
    assert [s["session_id"] for s in listed] == ["s1"]
    one = api.client.get("/api/v1/sessions/s1?user_id=alice", headers=api.a)
    assert one.json()["session"]["messages"] == 1
    queued = api.client.post("/api/v1/sessions/s1/commit", json={"user_id": "alice"}, headers=api.a)
    assert queued.json()["session"]["status"] == "committing"


def test_unknown_session_is_404(api: Api) -> None:
    commit = api.client.post("/api/v1/sessions/nope/commit", json={"user_id": "alice"},
                             headers=api.a)  # fmt: skip
    _error(commit, 404, "not_found")
    _error(api.client.get("/api/v1/sessions/nope?user_id=alice", headers=api.a), 404, "not_found")
    bad = api.client.get("/api/v1/sessions/a%20b?user_id=alice", headers=api.a)
    assert _error(bad, 422, "validation_error")["message"].startswith("session_id:")
    missing = api.client.get("/api/v1/sessions", headers=api.a)
    assert _error(missing, 422, "validation_error")["message"].startswith("user_id:")


# -- memories and retrieval -------------------------------------------------------------------


def test_memories_search_compose(api: Api) -> None:
    result = _remember(api)
    assert result == {"status": "written", "uri": EDITOR, "action": "create", "version": 1,
                      "reason": result["reason"], "error": None}  # fmt: skip
    api.engine.drain()
    search = {"query": "which editor does alice use", "user_id": "alice", "limit": 5}
    found = api.client.post("/api/v1/search", json=search, headers=api.a)
    assert found.status_code == 200, found.text
    hits = found.json()["hits"]
    assert hits[0]["uri"] == EDITOR and set(hits[0]) == {
        "uri", "category", "abstract", "score", "level", "why", "valid_from", "valid_to",
        "superseded",
    }  # fmt: skip
    assert found.json()["took_ms"] >= 0
    assert 0.0 <= hits[0]["score"] <= 1.0
    compose = {"query": "which vim editor", "user_id": "alice", "token_budget": 300}
    block = api.client.post("/api/v1/compose", json=compose, headers=api.a).json()
    assert "vim" in block["text"] and block["uris"] == [EDITOR] and block["budget"] == 300
    # nothing relevant: an empty block by default, everything with min_score 0
    unrelated = {**compose, "query": "chocolate cake recipe"}
    assert api.client.post("/api/v1/compose", json=unrelated, headers=api.a).json()["uris"] == []
    everything = api.client.post(
        "/api/v1/compose", json={**unrelated, "min_score": 0}, headers=api.a
    )
    assert everything.json()["uris"] == [EDITOR]
    strict = {**search, "min_score": 0.99}
    assert api.client.post("/api/v1/search", json=strict, headers=api.a).json()["hits"] == []
    assert block["tokens"] <= 300


def test_memories_report_failures_per_candidate(api: Api) -> None:
    body = {"user_id": "alice", "memories": [{**PREFERENCE, "category": "nonsense"}, PREFERENCE]}
    results = api.client.post("/api/v1/memories", json=body, headers=api.a).json()["results"]
    assert [r["status"] for r in results] == ["failed", "written"]
    assert results[0]["error"]


def test_retrieval_and_memories_validation_names_the_field(api: Api) -> None:
    cases = [
        ("/api/v1/search", {"query": "q", "user_id": "alice", "limit": 0}, "limit:"),
        ("/api/v1/search", {"query": "q" * 4001, "user_id": "alice"}, "query:"),
        ("/api/v1/search", {"query": "q", "user_id": "alice", "min_score": 1.5}, "min_score:"),
        ("/api/v1/compose", {"query": "q", "user_id": "alice", "min_score": -1}, "min_score:"),
        ("/api/v1/compose", {"query": "q", "user_id": "alice", "token_budget": 0},
         "token_budget:"),
        ("/api/v1/memories", {"user_id": "alice", "memories": [{"category": "preference",
         "abstract": "a"}]}, "memories[0].content:"),
        ("/api/v1/fs/archive", {"uri": "x" * 1025, "user_id": "alice"}, "uri:"),
        ("/api/v1/fs/move", {"src": EDITOR, "user_id": "alice"}, "dst:"),
    ]  # fmt: skip
    for path, body, field in cases:
        error = _error(api.client.post(path, json=body, headers=api.a), 422, "validation_error")
        assert error["message"].startswith(field), (path, error)


# -- fs -----------------------------------------------------------------------------------------


def test_fs_read_ls_tree_history(api: Api) -> None:
    _remember(api)
    _remember(api, content="Alice switched to neovim.")
    q = {"uri": EDITOR, "user_id": "alice"}
    node = api.client.get("/api/v1/fs/read", params=q, headers=api.a).json()["node"]
    assert node["uri"] == EDITOR and node["version"] == 2 and node["status"] == "ACTIVE"
    ls = api.client.get("/api/v1/fs/ls", params={"uri": "ctx://A/users/alice/memories",
                                                 "user_id": "alice"}, headers=api.a)  # fmt: skip
    assert [e["name"] for e in ls.json()["entries"]] == ["preferences"]
    assert ls.json()["entries"][0]["is_dir"] is True
    tree = api.client.get("/api/v1/fs/tree", params={"user_id": "alice"}, headers=api.a)
    assert EDITOR in [n["uri"] for n in tree.json()["nodes"]]
    versions = api.client.get("/api/v1/fs/history", params=q, headers=api.a).json()["versions"]
    assert [v["node"]["version"] for v in versions] == [1, 2]
    assert [v["action"] for v in versions] == ["create", "merge"]


def test_fs_unknown_and_invalid_uris(api: Api) -> None:
    missing = {"uri": "ctx://A/users/alice/memories/preferences/nothing", "user_id": "alice"}
    _error(api.client.get("/api/v1/fs/read", params=missing, headers=api.a), 404, "not_found")
    history = api.client.get("/api/v1/fs/history", params=missing, headers=api.a)
    assert history.json() == {"versions": []}  # the engine's contract: no versions, no error
    _error(api.client.post("/api/v1/fs/archive", json=missing, headers=api.a), 404, "not_found")
    _error(api.client.delete("/api/v1/fs", params=missing, headers=api.a), 404, "not_found")
    bad = {"uri": "ctx://A/users/../etc", "user_id": "alice"}
    _error(api.client.get("/api/v1/fs/read", params=bad, headers=api.a), 422, "invalid_uri")
    long = {"uri": "x" * 1025, "user_id": "alice"}
    error = _error(api.client.get("/api/v1/fs/read", params=long, headers=api.a), 422,
                   "validation_error")  # fmt: skip
    assert error["message"].startswith("uri:")


def test_archive_move_delete_check_the_version(api: Api) -> None:
    _remember(api)
    stale = {"uri": EDITOR, "user_id": "alice", "expected_version": 7}
    error = _error(api.client.post("/api/v1/fs/archive", json=stale, headers=api.a), 409,
                   "version_conflict")  # fmt: skip
    assert error["detail"] == {"uri": EDITOR, "expected": 7, "actual": 1}
    archived = api.client.post("/api/v1/fs/archive", json={**stale, "expected_version": 1},
                               headers=api.a)  # fmt: skip
    assert archived.status_code == 200 and archived.json()["node"]["status"] == "ARCHIVED"
    moved_uri = EDITOR + "-old"
    move = {"src": EDITOR, "dst": moved_uri, "user_id": "alice", "expected_version": 1}
    _error(api.client.post("/api/v1/fs/move", json=move, headers=api.a), 409, "version_conflict")
    moved = api.client.post("/api/v1/fs/move", json={**move, "expected_version": 2},
                            headers=api.a)  # fmt: skip
    assert moved.status_code == 200, moved.text
    assert moved.json()["node"]["uri"] == moved_uri
    version = moved.json()["node"]["version"]
    gone = {"uri": moved_uri, "user_id": "alice", "expected_version": version + 1}
    _error(api.client.delete("/api/v1/fs", params=gone, headers=api.a), 409, "version_conflict")
    deleted = api.client.delete("/api/v1/fs", params={**gone, "expected_version": version},
                                headers=api.a)  # fmt: skip
    assert deleted.status_code == 204 and deleted.content == b""
    read = {"uri": moved_uri, "user_id": "alice"}
    _error(api.client.get("/api/v1/fs/read", params=read, headers=api.a), 404, "not_found")


# -- operations ---------------------------------------------------------------------------------


def test_outbox_stats_health_metrics_docs(api: Api) -> None:
    _remember(api)
    stats = api.client.get("/api/v1/outbox/stats", headers=api.a).json()
    assert stats["counts"]["PENDING"] >= 1 and stats["oldest_pending_age_s"] >= 0
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["store"] == "ok"
    # with keys, metrics (figures of every account) live on the operator's own address
    elsewhere = api.client.get("/metrics", headers=api.a)
    assert elsewhere.status_code == 404 and "--metrics-port" in elsewhere.text
    text = api.client.app.state.metrics.exposition().decode()  # type: ignore[attr-defined]
    assert 'ogmem_outbox_events{status="PENDING"}' in text
    assert 'route="/api/v1/outbox/stats"' in text and "ogmem_http_request_duration" in text
    assert 'ogmem_extraction_memories_total{outcome="written"}' in text
    assert api.client.get("/docs").status_code == 200
    paths = api.client.get("/openapi.json").json()["paths"]
    assert "/api/v1/after_turn" in paths and "/api/v1/fs" in paths


def test_readyz_reports_a_stopped_worker() -> None:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        app = create_app(engine, worker_expected=True)
        with TestClient(app) as client:
            ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["worker"] == "stopped"


# -- auth ---------------------------------------------------------------------------------------


def test_missing_bad_and_revoked_keys_are_401(api: Api) -> None:
    response = api.client.post("/api/v1/after_turn", json=_turn())
    _error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    bad = api.auth("ogm_" + "x" * 43)
    _error(api.client.get("/api/v1/sessions?user_id=alice", headers=bad), 401, "unauthorized")
    basic = {"Authorization": "Basic Zm9vOmJhcg=="}
    _error(api.client.get("/api/v1/sessions?user_id=alice", headers=basic), 401, "unauthorized")
    key_id = next(k.key_id for k in api.keys.list_keys("B"))
    assert api.keys.revoke(key_id)
    _error(api.client.get("/api/v1/sessions?user_id=x", headers=api.b), 401, "unauthorized")


def test_user_bound_key_acts_only_as_its_user(api: Api) -> None:
    alice = api.auth(api.key_alice)
    assert api.client.post("/api/v1/after_turn", json=_turn(), headers=alice).status_code == 200
    _remember(api, user="bob")
    bob_uri = "ctx://A/users/bob/memories/preferences/editor"
    refused = [
        api.client.post("/api/v1/after_turn", json=_turn(user="bob"), headers=alice),
        api.client.get("/api/v1/sessions?user_id=bob", headers=alice),
        api.client.post("/api/v1/search", json={"query": "q", "user_id": "bob"}, headers=alice),
        api.client.get("/api/v1/fs/read", params={"uri": bob_uri, "user_id": "alice"},
                       headers=alice),
        api.client.get("/api/v1/fs/tree", params={"uri": "ctx://A", "user_id": "alice"},
                       headers=alice),
        api.client.delete("/api/v1/fs", params={"uri": bob_uri, "user_id": "alice"},
                          headers=alice),
        api.client.get("/api/v1/outbox/stats", headers=alice),
    ]  # fmt: skip
    for response in refused:
        _error(response, 403, "forbidden")
    # without a URI, a user-bound key lists its own user's space, not the account's
    tree = api.client.get("/api/v1/fs/tree", params={"user_id": "alice"}, headers=alice)
    assert bob_uri not in tree.text and tree.status_code == 200


def test_dev_mode_acts_for_the_default_account() -> None:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        app = create_app(engine, require_keys=False)
        with TestClient(app) as client:
            client.post("/api/v1/memories", json={"user_id": "u", "memories": [PREFERENCE]})
            read = client.get(
                "/api/v1/fs/read",
                params={"uri": "ctx://default/users/u/memories/preferences/editor", "user_id": "u"},
            )
            exposition = client.get("/metrics").text  # dev mode: loopback only, no tenants
    assert read.status_code == 200 and read.json()["node"]["version"] == 1
    assert 'ogmem_outbox_events{status="PENDING"}' in exposition


def test_a_user_key_bound_to_an_agent_reads_but_does_not_curate_its_memories(api: Api) -> None:
    key = api.keys.create("A", "alice", name="alice+coder", agents=["coder"])[1]
    alice = api.auth(key)
    skill = {
        "category": "skill",
        "routing_key": "bisect",
        "abstract": "git bisect",
        "content": "Bisect a regression with git bisect run.",
        "attributes": {"steps": ["git bisect start"]},
    }
    as_coder = {"user_id": "alice", "agent_id": "coder"}
    taught = api.client.post(
        "/api/v1/memories", json={**as_coder, "memories": [skill]}, headers=alice
    )  # the agent learns from its user's requests
    result = taught.json()["results"][0]
    assert result["status"] == "written", taught.text
    api.engine.drain()
    node = {"uri": result["uri"], "user_id": "alice"}
    query = {"query": "bisect", **as_coder}
    found = api.client.post("/api/v1/search", json=query, headers=alice)
    assert result["uri"] in found.text
    assert api.client.get("/api/v1/fs/read", params=node, headers=alice).status_code == 200
    assert api.client.get("/api/v1/fs/history", params=node, headers=alice).status_code == 200
    moved = {"src": node["uri"], "dst": node["uri"] + "2", "user_id": "alice"}
    other_agent = {**query, "agent_id": "other"}
    for response in (
        api.client.post("/api/v1/fs/archive", json=node, headers=alice),
        api.client.delete("/api/v1/fs", params=node, headers=alice),
        api.client.post("/api/v1/fs/move", json=moved, headers=alice),
        api.client.post("/api/v1/search", json=other_agent, headers=alice),
    ):
        _error(response, 403, "forbidden")
    # an account key curates the agent's memories
    archived = api.client.post("/api/v1/fs/archive", json=node, headers=api.a)
    assert archived.status_code == 200 and archived.json()["node"]["status"] == "ARCHIVED"


@pytest.mark.parametrize(
    ("session", "user", "field"), [("..", "alice", "session_id"), ("s1", ".", "user_id")]
)
def test_dot_segments_are_no_ids(api: Api, session: str, user: str, field: str) -> None:
    error = _error(
        api.client.post("/api/v1/after_turn", json=_turn(session, user), headers=api.a),
        422,
        "validation_error",
    )
    assert error["message"].startswith(field)
    ok = api.client.post("/api/v1/after_turn", json=_turn("...", "a.b"), headers=api.a)
    assert ok.status_code == 200  # dots are fine inside an id


def test_a_nul_character_is_stored_or_refused_never_a_server_error(api: Api) -> None:
    """SQLite stores it; PostgreSQL cannot hold it in text and says so (422, not 503)."""
    turn = {"session_id": "s1", "user_id": "alice",
            "messages": [{"role": "user", "content": "a \x00 b", "message_id": "m1"}]}  # fmt: skip
    answered = api.client.post("/api/v1/after_turn", json=turn, headers=api.a)
    assert answered.status_code in (200, 422), answered.text
    if answered.status_code == 422:
        assert "NUL" in answered.text
    memory = {"category": "preference", "routing_key": "editor", "abstract": "vim \x00"}
    written = api.client.post(
        "/api/v1/memories", json={"user_id": "alice", "memories": [memory]}, headers=api.a
    )
    assert written.status_code in (200, 422), written.text
