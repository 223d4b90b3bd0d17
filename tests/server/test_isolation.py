"""Account B's key against account A's data, on every route: refused or empty, never a byte of
A's texts. A route added without a case here fails ``test_every_route_is_walked``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Route

from ogmem.core.models import RequestContext
from tests.server.conftest import Api

SECRET = "Zanzibarquux"  # a word only A's texts contain
NODE = "ctx://A/users/alice/memories/preferences/editor"
SESSION_NODE_DIR = "ctx://A/users/alice/sessions"


@pytest.fixture
def seeded(api: Api) -> Api:
    memory = {
        "category": "preference",
        "routing_key": "editor",
        "abstract": f"Prefers {SECRET} editor",
        "content": f"Alice uses {SECRET} daily.",
    }
    written = api.client.post(
        "/api/v1/memories", json={"user_id": "alice", "memories": [memory]}, headers=api.a
    )
    assert written.json()["results"][0]["status"] == "written"
    turn = {
        "session_id": "s1",
        "user_id": "alice",
        "messages": [{"role": "user", "content": f"My cat is {SECRET}.", "message_id": "m1"}],
    }
    api.client.post("/api/v1/after_turn", json=turn, headers=api.a)
    committed = api.client.post(
        "/api/v1/sessions/s1/commit?wait=true", json={"user_id": "alice"}, headers=api.a
    )
    assert committed.json()["session"]["status"] == "committed"
    api.engine.drain()
    found = api.client.post("/api/v1/search", json={"query": SECRET, "user_id": "alice"},
                            headers=api.a)  # fmt: skip
    assert SECRET in found.text  # A itself does find it: B's empty results below mean something
    return api


@dataclass(frozen=True)
class Intruder:
    """Whose key walks the routes, and what it aims at: another account's user space, or an
    agent space its user-bound key is not bound to."""

    headers: dict[str, str]
    user: str
    node: str
    directory: str
    agent: str | None = None


def _b(api: Api) -> Intruder:
    return Intruder(api.b, "alice", NODE, SESSION_NODE_DIR)


def _walk(api: Api, who: Intruder | None = None) -> list[tuple[str, str, httpx.Response]]:
    """(method, route template, response) for every route, called with the intruder's key
    (account B's by default) on A's data."""
    who = who or _b(api)
    c, b, node = api.client, who.headers, who.node
    alice: dict[str, Any] = {"user_id": who.user}
    acting = {**alice, "agent_id": who.agent} if who.agent else alice
    msg = {"role": "user", "content": "hello"}
    calls: list[tuple[str, str, Any]] = [
        ("GET", "/api/v1/sessions", lambda: c.get("/api/v1/sessions", params=alice, headers=b)),
        ("GET", "/api/v1/sessions/{session_id}",
         lambda: c.get("/api/v1/sessions/s1", params=alice, headers=b)),
        ("POST", "/api/v1/sessions/{session_id}/commit",
         lambda: c.post("/api/v1/sessions/s1/commit?wait=true", json=alice, headers=b)),
        ("POST", "/api/v1/search",
         lambda: c.post("/api/v1/search", json={"query": SECRET, **acting}, headers=b)),
        ("POST", "/api/v1/compose",
         lambda: c.post("/api/v1/compose", json={"query": SECRET, **acting}, headers=b)),
        ("GET", "/api/v1/fs/read",
         lambda: c.get("/api/v1/fs/read", params={"uri": node, **alice}, headers=b)),
        ("GET", "/api/v1/fs/ls",
         lambda: c.get("/api/v1/fs/ls", params={"uri": who.directory, **alice}, headers=b)),
        ("GET", "/api/v1/fs/tree",
         lambda: c.get("/api/v1/fs/tree", params={"uri": "ctx://A", **alice}, headers=b)),
        ("GET", "/api/v1/fs/history",
         lambda: c.get("/api/v1/fs/history", params={"uri": node, **alice}, headers=b)),
        ("POST", "/api/v1/fs/archive",
         lambda: c.post("/api/v1/fs/archive", json={"uri": node, **acting}, headers=b)),
        ("POST", "/api/v1/fs/move", lambda: c.post(
            "/api/v1/fs/move", json={"src": node, "dst": node + "-b", **acting}, headers=b)),
        ("DELETE", "/api/v1/fs",
         lambda: c.delete("/api/v1/fs", params={"uri": node, **alice}, headers=b)),
        ("GET", "/api/v1/outbox/stats", lambda: c.get("/api/v1/outbox/stats", headers=b)),
        # writes naming A's session and user land in B's own account, never in A's
        ("POST", "/api/v1/after_turn", lambda: c.post(
            "/api/v1/after_turn", json={"session_id": "s1", "messages": [msg], **acting},
            headers=b)),
        ("POST", "/api/v1/ingest", lambda: c.post(
            "/api/v1/ingest", json={"session_id": "s1", "message": msg, **acting}, headers=b)),
        ("POST", "/api/v1/ingest_batch", lambda: c.post(
            "/api/v1/ingest_batch", json={"session_id": "s1", "messages": [msg], **acting},
            headers=b)),
        ("POST", "/api/v1/memories", lambda: c.post("/api/v1/memories", json={"memories": [
            {"category": "preference", "routing_key": "editor", "abstract": "B's",
             "content": "B's own."}], **acting}, headers=b)),
        ("GET", "/healthz", lambda: c.get("/healthz", headers=b)),
        ("GET", "/readyz", lambda: c.get("/readyz", headers=b)),
        ("GET", "/metrics", lambda: c.get("/metrics", headers=b)),
        ("GET", "/openapi.json", lambda: c.get("/openapi.json", headers=b)),
        ("GET", "/docs", lambda: c.get("/docs", headers=b)),
        ("GET", "/docs/oauth2-redirect", lambda: c.get("/docs/oauth2-redirect", headers=b)),
        ("GET", "/redoc", lambda: c.get("/redoc", headers=b)),
    ]  # fmt: skip
    return [(method, path, call()) for method, path, call in calls]


def test_every_route_is_walked(api: Api) -> None:
    app: FastAPI = api.client.app  # type: ignore[assignment]
    # included routers are not listed flat in app.routes; the OpenAPI schema lists them all
    app_routes = {
        (method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops
    }
    app_routes |= {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route) and not route.include_in_schema
        for method in set(route.methods or ()) - {"HEAD"}
    }
    walked = {(method, path) for method, path, _ in _walk(api)}
    assert app_routes == walked


def test_account_b_sees_nothing_of_account_a(seeded: Api) -> None:
    # (A 404 may quote the URI B itself sent; what must never appear is A's content.)
    for method, path, response in _walk(seeded):
        assert SECRET not in response.text, (method, path)
        assert response.status_code in (200, 204, 404), (method, path, response.text)
        if path.startswith("/api/v1/fs") or "{session_id}" in path:
            assert response.status_code == 404, (method, path, response.text)
    for method, path, response in _walk(seeded):  # also once B has data of its own
        assert SECRET not in response.text, (method, path)


def test_b_lists_and_searches_find_nothing_of_a(seeded: Api) -> None:
    c, b = seeded.client, seeded.b
    assert c.get("/api/v1/sessions", params={"user_id": "alice"}, headers=b).json() == {
        "sessions": []
    }
    search = c.post("/api/v1/search", json={"query": SECRET, "user_id": "alice"}, headers=b)
    assert search.json()["hits"] == []
    compose = c.post("/api/v1/compose", json={"query": SECRET, "user_id": "alice"}, headers=b)
    assert compose.json()["uris"] == []


def test_a_is_unchanged_after_b_walked(seeded: Api) -> None:
    _walk(seeded)
    a = seeded.a
    node = seeded.client.get("/api/v1/fs/read", params={"uri": NODE, "user_id": "alice"},
                             headers=a).json()["node"]  # fmt: skip
    assert node["version"] == 1 and node["status"] == "ACTIVE" and SECRET in node["content"]
    session = seeded.client.get("/api/v1/sessions/s1", params={"user_id": "alice"}, headers=a)
    assert session.json()["session"]["messages"] == 1


# -- agent spaces: a user-bound key reaches only the agents it is bound to -------------------


@pytest.fixture
def agent_seeded(seeded: Api) -> tuple[Api, str]:
    """A's data plus one case memory of agent-bob; and that memory's URI."""
    case = {"category": "case", "routing_key": "deploy-fix", "abstract": f"{SECRET} deploy fix",
            "content": f"Restart {SECRET} first.",
            "attributes": {"problem": "deploy hangs", "solution": "restart"}}  # fmt: skip
    written = seeded.client.post(
        "/api/v1/memories",
        json={"user_id": "bob", "agent_id": "agent-bob", "memories": [case]},
        headers=seeded.a,
    )
    result = written.json()["results"][0]
    assert result["status"] == "written", written.text
    seeded.engine.drain()
    return seeded, result["uri"]


def test_a_user_key_reaches_nothing_of_an_agent_it_is_not_bound_to(
    agent_seeded: tuple[Api, str],
) -> None:
    api, agent_node = agent_seeded
    alice = api.auth(api.key_alice)
    who = Intruder(alice, "alice", agent_node, "ctx://A/agents/agent-bob", agent="agent-bob")
    for method, path, response in _walk(api, who):
        assert SECRET not in response.text, (method, path)
        assert response.status_code in (200, 204, 403, 404), (method, path, response.text)
    node = api.engine.read(agent_node, RequestContext("A", "bob", "agent-bob"))
    assert node.version == 1 and node.status.value == "ACTIVE"  # neither changed nor moved
