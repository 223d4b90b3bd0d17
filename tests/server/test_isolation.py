"""Account B's key against account A's data, on every route: refused or empty, never a byte of
A's texts. A route added without a case here fails ``test_every_route_is_walked``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import Route

from ogmem.console import actions, login, pages
from ogmem.console.render import Console
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
        ("GET", "/api/v1/outbox/events", lambda: c.get("/api/v1/outbox/events", headers=b)),
        ("POST", "/api/v1/outbox/events/{event_id}/retry",
         lambda: c.post("/api/v1/outbox/events/1/retry", headers=b)),
        ("POST", "/api/v1/fs/restore",
         lambda: c.post("/api/v1/fs/restore", json={"uri": node, **acting}, headers=b)),
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
        ("POST", "/api/v1/dream",
         lambda: c.post("/api/v1/dream", json={"wait": True, **acting}, headers=b)),
        ("GET", "/api/v1/dream/runs",
         lambda: c.get("/api/v1/dream/runs", params=alice, headers=b)),
        ("GET", "/api/v1/dream/runs/{run_id}",
         lambda: c.get("/api/v1/dream/runs/r1", params=alice, headers=b)),
        ("POST", "/api/v1/dream/runs/{run_id}/undo",
         lambda: c.post("/api/v1/dream/runs/r1/undo", json=acting, headers=b)),
        ("GET", "/healthz", lambda: c.get("/healthz", headers=b)),
        ("GET", "/readyz", lambda: c.get("/readyz", headers=b)),
        ("GET", "/metrics", lambda: c.get("/metrics", headers=b)),
        ("GET", "/openapi.json", lambda: c.get("/openapi.json", headers=b)),
        ("GET", "/docs", lambda: c.get("/docs", headers=b)),
        ("GET", "/docs/oauth2-redirect", lambda: c.get("/docs/oauth2-redirect", headers=b)),
        ("GET", "/redoc", lambda: c.get("/redoc", headers=b)),
    ]  # fmt: skip
    # last: it erases the key's own user (B's alice, or the user key's own user and its key)
    erase = ("DELETE", "/api/v1/users/{user_id}",
             lambda: c.delete(f"/api/v1/users/{who.user}", headers=b))  # fmt: skip
    walk = [*calls, *_console_calls(api, who), erase]
    return [(method, path, call()) for method, path, call in walk]


def _console_calls(api: Api, who: Intruder) -> list[tuple[str, str, Any]]:
    """The web console's routes, with the intruder's key in the console's cookie; redirects
    (303) are not followed: they lead to the key's own pages. The search is in lower case:
    the page shows its query back, and keyword search ignores case."""
    key = who.headers["Authorization"].removeprefix("Bearer ")
    ui = TestClient(api.client.app, cookies={login.COOKIE: key}, follow_redirects=False)
    node, user = who.node, who.user
    act = {"uri": node, "dst": node + "-b", "expected_version": "1"}
    query = {"q": SECRET.lower(), "user": user, "agent": who.agent or ""}
    return [
        ("GET", "/ui", lambda: ui.get("/ui")),
        ("GET", "/ui/", lambda: ui.get("/ui/")),
        ("GET", "/ui/login", lambda: ui.get("/ui/login")),
        ("POST", "/ui/login", lambda: ui.post("/ui/login", data={"key": key})),
        ("POST", "/ui/logout", lambda: ui.post("/ui/logout")),
        ("GET", "/ui/tree", lambda: ui.get("/ui/tree", params={"uri": who.directory})),
        ("GET", "/ui/memory", lambda: ui.get("/ui/memory", params={"uri": node})),
        ("GET", "/ui/search", lambda: ui.get("/ui/search", params=query)),
        ("GET", "/ui/sessions", lambda: ui.get("/ui/sessions", params={"user": user})),
        ("GET", "/ui/queue", lambda: ui.get("/ui/queue")),
        ("GET", "/ui/overview", lambda: ui.get("/ui/overview")),
        ("POST", "/ui/memory/{name}", lambda: ui.post("/ui/memory/archive", data=act)),
        ("POST", "/ui/sessions/retry",
         lambda: ui.post("/ui/sessions/retry", data={"session_id": "s1", "user_id": user})),
        ("POST", "/ui/queue/retry", lambda: ui.post("/ui/queue/retry", data={"event_id": "1"})),
    ]  # fmt: skip


def _console_routes(api: Api) -> set[tuple[str, str]]:
    console = Console(api.engine, "/ui")
    routes = [*pages.router(console).routes, *actions.router(console).routes]
    return {
        (method, "/ui" + route.path)
        for route in routes
        if isinstance(route, Route)
        for method in set(route.methods or ()) - {"HEAD"}
    }


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
    app_routes |= _console_routes(api)
    walked = {(method, path) for method, path, _ in _walk(api)}
    assert app_routes == walked


def test_account_b_sees_nothing_of_account_a(seeded: Api) -> None:
    # (A 404 may quote the URI B itself sent; what must never appear is A's content.)
    for method, path, response in _walk(seeded):
        assert SECRET not in response.text, (method, path)
        assert response.status_code in (200, 204, 303, 404), (method, path, response.text)
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
        assert response.status_code in (200, 204, 303, 403, 404), (method, path, response.text)
    node = api.engine.read(agent_node, RequestContext("A", "bob", "agent-bob"))
    assert node.version == 1 and node.status.value == "ACTIVE"  # neither changed nor moved
