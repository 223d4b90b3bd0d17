"""The console over HTTP (no browser): login, isolation between accounts and users, every
page, the actions with their version check, and bad input shown as a page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ogmem.core.models import EventStatus, RequestContext, SessionStatus
from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.server.app import create_app
from tests.conftest import store_url
from tests.console.seed import seed

PAGES = ("tree", "search?q=vim&user=alice", "sessions", "queue", "overview")


class Setup:
    def __init__(self, engine: Engine, client: TestClient) -> None:
        self.engine, self.client = engine, client
        self.key_a = engine.keys.create("A", name="a")[1]
        self.key_b = engine.keys.create("B", name="b")[1]
        self.key_alice = engine.keys.create("A", "alice", name="alice")[1]
        self.a = seed(engine, "A", "ALPHA ")
        self.b = seed(engine, "B", "BRAVO ")

    def browser(self, key: str | None) -> TestClient:
        """A client logged in with ``key`` (a fresh cookie jar)."""
        client = TestClient(self.client.app, follow_redirects=False)
        if key is not None:
            response = client.post("/ui/login", data={"key": key})
            assert response.status_code == 303, response.text
        return client


@pytest.fixture(params=["sqlite-memory", "postgres"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    url = store_url(request, request.param, tmp_path)
    with (
        Engine.open(url, embedder=HashEmbedder(), worker=False) as engine,
        TestClient(create_app(engine)) as client,
    ):
        yield Setup(engine, client)


def test_without_a_key_every_page_is_the_login_page(setup: Setup) -> None:
    anonymous = setup.browser(None)
    for page in (*PAGES, f"memory?uri={setup.a.editor_uri}"):
        response = anonymous.get(f"/ui/{page}")
        assert response.status_code == 401, page
        assert 'name="key"' in response.text and "ALPHA" not in response.text
    posted = anonymous.post("/ui/memory/archive", data={"uri": setup.a.editor_uri})
    assert posted.status_code == 401
    assert setup.engine.read(setup.a.editor_uri, RequestContext("A", "alice")).version == 2


def test_a_bad_key_is_refused_and_a_good_one_kept_in_a_strict_http_only_cookie(
    setup: Setup,
) -> None:
    client = setup.browser(None)
    refused = client.post("/ui/login", data={"key": "ogm_nope"})
    assert refused.status_code == 401 and "not valid" in refused.text
    accepted = client.post("/ui/login", data={"key": setup.key_a})
    cookie = accepted.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/ui" in cookie
    assert "ALPHA Prefers vim" in client.get("/ui/tree?user=alice").text
    client.post("/ui/logout")
    assert client.get("/ui/tree").status_code == 401


def test_one_account_never_sees_another(setup: Setup) -> None:
    b = setup.browser(setup.key_b)
    for page in PAGES:
        response = b.get(f"/ui/{page}")
        assert response.status_code == 200, (page, response.text[:300])
        assert "ALPHA" not in response.text, page
    assert "BRAVO" in b.get("/ui/queue").text
    stolen = b.get(f"/ui/memory?uri={setup.a.editor_uri}")
    assert stolen.status_code == 404 and "ALPHA" not in stolen.text
    tree = b.get("/ui/tree?uri=ctx://A/users/alice")
    assert tree.status_code == 404 and "ALPHA" not in tree.text
    archived = b.post("/ui/memory/archive", data={"uri": setup.a.editor_uri})
    assert archived.status_code == 404
    retried = b.post("/ui/queue/retry", data={"event_id": str(setup.a.dead_event_id)})
    assert retried.status_code == 404
    assert setup.engine.outbox_events(RequestContext("A", "-"), EventStatus.DLQ)


def test_a_user_bound_key_sees_only_its_user(setup: Setup) -> None:
    alice = setup.browser(setup.key_alice)
    tree = alice.get("/ui/tree")
    assert "ALPHA Prefers vim" in tree.text and "Has a dog" not in tree.text
    assert alice.get(f"/ui/memory?uri={setup.a.pet_uri}").status_code == 403
    assert alice.get("/ui/search?q=dog&user=bob").status_code == 403
    assert alice.get("/ui/queue").status_code == 403  # the queue is the account's


def test_memory_page_shows_levels_history_and_a_diff(setup: Setup) -> None:
    a = setup.browser(setup.key_a)
    page = a.get(f"/ui/memory?uri={setup.a.editor_uri}&a=1&b=2")
    assert page.status_code == 200
    assert "Uses vim daily, neovim at home" in page.text
    assert 'id="diff"' in page.text and "version 1" in page.text and "version 2" in page.text
    assert "session s-alice" in page.text  # provenance links to the session
    missing = a.get(f"/ui/memory?uri={setup.a.editor_uri}&a=1&b=9")
    assert missing.status_code == 422 and "no version 9" in missing.text
    bad = a.get(f"/ui/memory?uri={setup.a.editor_uri}&a=x")
    assert bad.status_code == 422 and "whole number" in bad.text


def test_archive_with_a_stale_version_shows_the_conflict_then_restore_works(
    setup: Setup,
) -> None:
    a, node_uri = setup.browser(setup.key_a), setup.a.editor_uri
    form = {"uri": node_uri, "expected_version": "2"}
    assert a.post("/ui/memory/archive", data=form).status_code == 303
    stale = a.post("/ui/memory/archive", data=form)  # the other tab still shows version 2
    assert stale.status_code == 409 and 'id="conflict"' in stale.text
    assert "version 3" in stale.text
    restored = a.post("/ui/memory/restore", data={"uri": node_uri, "expected_version": "3"})
    assert restored.status_code == 303
    node = setup.engine.read(node_uri, RequestContext("A", "alice"))
    assert (node.status.value, node.version) == ("ACTIVE", 4)
    assert "archived_at" not in node.metadata


def test_move_and_delete_go_through_the_version_check(setup: Setup) -> None:
    a, node_uri = setup.browser(setup.key_a), setup.a.pet_uri
    target = node_uri.rsplit("/", 1)[0] + "/rex"
    moved = a.post("/ui/memory/move", data={"uri": node_uri, "dst": target,
                                            "expected_version": "1"})  # fmt: skip
    assert moved.status_code == 303 and "rex" in moved.headers["location"]
    stale = a.post("/ui/memory/delete", data={"uri": target, "expected_version": "1"})
    assert stale.status_code == 409
    gone = a.post("/ui/memory/delete", data={"uri": target, "expected_version": "2"})
    assert gone.status_code == 303
    assert a.get(f"/ui/memory?uri={target}").status_code == 404


def test_search_shows_hits_with_why_and_the_compose_block(setup: Setup) -> None:
    page = setup.browser(setup.key_a).get("/ui/search?q=vim+editor&user=alice&budget=500")
    assert page.status_code == 200 and "ALPHA Prefers vim" in page.text
    assert 'id="tokens"' in page.text and "/ 500 tokens" in page.text
    assert "BRAVO" not in page.text


def test_retry_a_failed_session_and_a_dead_letter(setup: Setup) -> None:
    a, engine, ids = setup.browser(setup.key_a), setup.engine, setup.a
    sessions = a.get("/ui/sessions")
    assert "LLM timed out" in sessions.text and "retry-session" in sessions.text
    retried = a.post("/ui/sessions/retry", data={"session_id": ids.failed_session,
                                                 "user_id": "alice"})  # fmt: skip
    assert retried.status_code == 303
    engine.drain()
    state = engine.session(ids.failed_session, RequestContext("A", "alice"))
    assert state.status is SessionStatus.COMMITTED
    queue = a.get("/ui/queue")
    assert "ALPHA summary model unreachable" in queue.text
    assert a.post("/ui/queue/retry", data={"event_id": str(ids.dead_event_id)}).status_code == 303
    assert not engine.outbox_events(RequestContext("A", "-"), EventStatus.DLQ)
    again = a.post("/ui/queue/retry", data={"event_id": str(ids.dead_event_id)})
    assert again.status_code == 404 and "no dead-lettered event" in again.text


def test_the_api_offers_restore_and_dead_letter_retry_too(setup: Setup) -> None:
    headers = {"Authorization": f"Bearer {setup.key_b}"}
    client, b = setup.client, setup.b
    listed = client.get("/api/v1/outbox/events?status=DLQ", headers=headers).json()
    assert [e["id"] for e in listed["events"]] == [b.dead_event_id]
    retried = client.post(f"/api/v1/outbox/events/{b.dead_event_id}/retry", headers=headers)
    assert retried.status_code == 204
    other = client.post(f"/api/v1/outbox/events/{setup.a.dead_event_id}/retry", headers=headers)
    assert other.status_code == 404
    body = {"uri": b.pet_uri, "user_id": "bob"}
    client.post("/api/v1/fs/archive", json=body, headers=headers)
    restored = client.post("/api/v1/fs/restore", json=body, headers=headers).json()
    assert restored["node"]["status"] == "ACTIVE"


def test_overview_draws_its_charts(setup: Setup) -> None:
    a = setup.browser(setup.key_a)
    a.get("/ui/search?q=vim&user=alice")
    a.get("/ui/search?q=dog&user=bob")
    page = a.get("/ui/overview")
    assert page.status_code == 200 and page.text.count("<svg") == 3
    assert "preference: 2" in page.text
    assert "(2 in 30 days)" in page.text
    alice = setup.browser(setup.key_alice).get("/ui/overview")
    assert "preference: 1" in alice.text and "Searches per day" not in alice.text


def test_dev_mode_needs_no_login(tmp_path: Path) -> None:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        seed(engine, "default", "DEV ")
        with TestClient(create_app(engine, require_keys=False)) as client:
            assert "DEV Prefers vim" in client.get("/ui/tree?user=alice").text
            assert client.get("/ui/static/console.css").status_code == 200


def test_tree_counts_and_filters_by_category_and_status(setup: Setup) -> None:
    a = setup.browser(setup.key_a)
    setup.engine.archive(setup.a.hike_uri, RequestContext("A", "alice"))
    events = a.get("/ui/tree?user=alice&category=event").text
    assert "ALPHA Hiked Mount Tam" in events and "ALPHA Prefers vim" not in events
    archived = a.get("/ui/tree?user=alice&status=archived").text
    assert "ALPHA Hiked Mount Tam" in archived and "ALPHA Prefers vim" not in archived
    counts = a.get("/ui/tree").text  # the account root: both users' memories counted
    assert "<td>preference</td><td>2</td><td>0</td>" in counts
    assert "<td>event</td><td>0</td><td>1</td>" in counts
    bad = a.get("/ui/tree?status=gone")
    assert bad.status_code == 422 and "status must be active or archived" in bad.text
