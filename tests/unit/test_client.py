"""ogmem.client.Client against httpx.MockTransport handlers: request shapes, errors."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ogmem.client import AuthError, Client, ServerError, ServerUnreachable
from ogmem.core import errors
from ogmem.core.models import CandidateMemory, Message

BASE = "http://ogmem.test:8765"
KEY = "ogm_test_key"
WHEN = datetime(2026, 11, 28, 9, 30, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """Answers every request with ``answer`` and keeps the requests."""

    def __init__(self, answer: Handler | None = None) -> None:
        self.answer = answer or (lambda _: httpx.Response(200, json={"ok": True}))
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]

    @property
    def body(self) -> Any:
        return json.loads(self.last.content)

    @property
    def query(self) -> dict[str, str]:
        return dict(self.last.url.params)


def client_for(handler: Handler, api_key: str | None = KEY) -> Client:
    return Client(BASE, api_key, http_client=httpx.Client(transport=httpx.MockTransport(handler)))


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def client(recorder: Recorder) -> Iterator[Client]:
    with client_for(recorder) as opened:
        yield opened


def test_bearer_key_and_json_answer(client: Client, recorder: Recorder) -> None:
    assert client.health() == {"ok": True}
    assert recorder.last.headers["Authorization"] == f"Bearer {KEY}"
    assert recorder.last.method == "GET" and str(recorder.last.url) == f"{BASE}/healthz"


def test_no_key_no_authorization_header(recorder: Recorder) -> None:
    with client_for(recorder, api_key=None) as anonymous:
        anonymous.health()
    assert "Authorization" not in recorder.last.headers


def test_after_turn_accepts_messages_and_dicts(client: Client, recorder: Recorder) -> None:
    client.after_turn(
        "s1",
        "alice",
        [
            Message("user", "I adopted a puppy.", created_at=WHEN, message_id="m1", name="Alice"),
            {"role": "assistant", "content": "Congratulations!", "name": None},
        ],
        agent_id="coder",
    )
    assert recorder.last.method == "POST" and recorder.last.url.path == "/api/v1/after_turn"
    assert recorder.body == {
        "session_id": "s1",
        "user_id": "alice",
        "agent_id": "coder",
        "messages": [
            {"role": "user", "content": "I adopted a puppy.", "name": "Alice",
             "created_at": "2026-11-28T09:30:00+00:00", "message_id": "m1"},
            {"role": "assistant", "content": "Congratulations!"},
        ],
    }  # fmt: skip


def test_ingest_and_ingest_batch(client: Client, recorder: Recorder) -> None:
    client.ingest("s1", "alice", {"role": "user", "content": "hi", "created_at": WHEN})
    assert recorder.last.url.path == "/api/v1/ingest"
    assert recorder.body == {
        "session_id": "s1",
        "user_id": "alice",
        "message": {"role": "user", "content": "hi", "created_at": "2026-11-28T09:30:00+00:00"},
    }
    client.ingest_batch("s1", "alice", [{"role": "user", "content": "a"}], agent_id="bot")
    assert recorder.last.url.path == "/api/v1/ingest_batch"
    assert recorder.body["messages"] == [{"role": "user", "content": "a"}]
    assert recorder.body["agent_id"] == "bot"


def test_sessions(client: Client, recorder: Recorder) -> None:
    client.commit("s/1", "alice", wait=True)
    assert recorder.last.method == "POST"
    assert recorder.last.url.raw_path == b"/api/v1/sessions/s%2F1/commit?wait=true"
    assert recorder.body == {"user_id": "alice"}
    client.commit("s1", "alice")
    assert recorder.query == {"wait": "false"}
    client.session("s1", "alice")
    assert (recorder.last.method, recorder.last.url.path) == ("GET", "/api/v1/sessions/s1")
    assert recorder.query == {"user_id": "alice"}
    client.list_sessions("alice")
    assert recorder.last.url.path == "/api/v1/sessions" and recorder.query == {"user_id": "alice"}


def test_search_and_compose(client: Client, recorder: Recorder) -> None:
    client.search("editor?", "alice", categories=("preference",), limit=3)
    assert recorder.last.url.path == "/api/v1/search"
    assert recorder.body == {
        "query": "editor?", "user_id": "alice", "categories": ["preference"], "limit": 3
    }  # fmt: skip
    client.search("editor?", "alice", as_of=WHEN)
    assert recorder.body["as_of"] == "2026-11-28T09:30:00+00:00"
    client.read("ctx://acme/users/alice/x", "alice", as_of=WHEN)
    assert recorder.query["as_of"] == "2026-11-28T09:30:00+00:00"
    client.compose("editor?", "alice", agent_id="coder", token_budget=500)
    assert recorder.last.url.path == "/api/v1/compose"
    assert recorder.body == {
        "query": "editor?", "user_id": "alice", "agent_id": "coder", "token_budget": 500
    }  # fmt: skip


def test_remember_sends_candidates_without_their_defaults(
    client: Client, recorder: Recorder
) -> None:
    fact = CandidateMemory(
        category="preference", routing_key="editor", abstract="Prefers vim",
        content="Uses vim daily", source_message_ids=("m1",), attributes={"topic": "editor"},
        owner_scope="agent", origin="llm", confidence=0.0,
    )  # fmt: skip
    client.remember([fact, {"category": "event", "abstract": "a", "content": "b"}], "alice",
                    session_id="s1")  # fmt: skip
    assert recorder.last.url.path == "/api/v1/memories"
    assert recorder.body == {
        "user_id": "alice",
        "session_id": "s1",
        "memories": [
            {"category": "preference", "routing_key": "editor", "abstract": "Prefers vim",
             "content": "Uses vim daily", "source_message_ids": ["m1"],
             "attributes": {"topic": "editor"}, "confidence": 0.0},
            {"category": "event", "abstract": "a", "content": "b"},
        ],
    }  # fmt: skip
    timed = CandidateMemory(category="entity", abstract="a", content="b", valid_from=WHEN)
    client.remember([timed], "alice")
    assert recorder.body["memories"][0]["valid_from"] == "2026-11-28T09:30:00+00:00"


@pytest.mark.parametrize("operation", ["read", "ls", "tree", "history"])
def test_fs_reads(client: Client, recorder: Recorder, operation: str) -> None:
    getattr(client, operation)("ctx://acme/users/alice", "alice")
    assert (recorder.last.method, recorder.last.url.path) == ("GET", f"/api/v1/fs/{operation}")
    assert recorder.query == {"uri": "ctx://acme/users/alice", "user_id": "alice"}


def test_ls_without_uri_leaves_it_out(client: Client, recorder: Recorder) -> None:
    client.ls(None, "alice")
    assert recorder.query == {"user_id": "alice"}


def test_fs_writes(client: Client, recorder: Recorder) -> None:
    client.archive("ctx://a/x", "alice", expected_version=2)
    assert recorder.last.url.path == "/api/v1/fs/archive"
    assert recorder.body == {"uri": "ctx://a/x", "user_id": "alice", "expected_version": 2}
    client.move("ctx://a/x", "ctx://a/y", "alice")
    assert recorder.last.url.path == "/api/v1/fs/move"
    assert recorder.body == {"src": "ctx://a/x", "dst": "ctx://a/y", "user_id": "alice"}
    client.delete("ctx://a/y", "alice", expected_version=3)
    assert (recorder.last.method, recorder.last.url.path) == ("DELETE", "/api/v1/fs")
    assert recorder.query == {"uri": "ctx://a/y", "user_id": "alice", "expected_version": "3"}


def test_forget_user_deletes_the_user_by_its_path(client: Client, recorder: Recorder) -> None:
    client.forget_user("al ice")
    assert (recorder.last.method, recorder.last.url.raw_path) == (
        "DELETE", b"/api/v1/users/al%20ice",
    )  # fmt: skip


def test_outbox_stats_and_empty_body(recorder: Recorder) -> None:
    recorder.answer = lambda _: httpx.Response(204)
    with client_for(recorder) as client:
        assert client.outbox_stats() == {}
    assert recorder.last.url.path == "/api/v1/outbox/stats"


def _error(status: int, code: str = "", message: str = "boom", **detail: Any) -> Handler:
    body = {"error": {"code": code, "message": message, "detail": detail or None}}
    return lambda _: httpx.Response(status, json=body)


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (_error(401, "unauthorized"), AuthError),
        (_error(403, "forbidden"), AuthError),
        (_error(404, "not_found"), errors.NotFound),
        (_error(409, "conflict"), errors.Conflict),
        (_error(409, "already_exists"), errors.AlreadyExists),
        (_error(409, "version_conflict"), errors.Conflict),
        (_error(422, "invalid_input"), errors.InvalidInput),
        (_error(422, "invalid_uri"), errors.InvalidURI),
        (_error(422, "invalid_candidate"), errors.InvalidCandidate),
        (_error(422, "validation_error"), errors.InvalidInput),
        (_error(400, "bad_request"), errors.InvalidInput),
        (_error(503, "llm_unavailable"), errors.LLMUnavailable),
        (_error(503, "llm_timeout"), errors.LLMTimeout),
        (_error(503, "llm_bad_response"), errors.LLMResponseError),
        (_error(503, "store_unavailable"), errors.StoreError),
        (_error(503, "extraction_failed"), errors.ExtractionError),
        (_error(500, "internal"), ServerError),
        (_error(502), ServerError),
    ],
)
def test_error_mapping(handler: Handler, expected: type[Exception]) -> None:
    with client_for(handler) as client, pytest.raises(expected) as raised:
        client.read("ctx://acme/x", "alice")
    assert type(raised.value) is expected and "boom" in str(raised.value)


def test_an_error_without_a_json_body_uses_the_status_text() -> None:
    html = lambda _: httpx.Response(500, text="<html>oops</html>")  # noqa: E731
    with client_for(html) as client, pytest.raises(ServerError, match="Internal Server Error"):
        client.health()
    with client_for(lambda _: httpx.Response(404)) as client, pytest.raises(errors.NotFound):
        client.read("ctx://acme/x", "alice")


def test_409_with_versions_is_a_concurrent_modification() -> None:
    handler = _error(409, "version_conflict", uri="ctx://a/x", expected=1, actual=2)
    with client_for(handler) as client, pytest.raises(errors.ConcurrentModificationError) as err:
        client.archive("ctx://a/x", "alice", expected_version=1)
    assert (err.value.uri, err.value.expected_version, err.value.actual_version) == (
        "ctx://a/x", 1, 2,
    )  # fmt: skip
    short = _error(409, "concurrent_modification", expected_version=4, actual_version=5)
    with client_for(short) as client, pytest.raises(errors.ConcurrentModificationError) as err:
        client.delete("ctx://a/x", "alice")
    assert (err.value.expected_version, err.value.actual_version) == (4, 5)


def test_a_code_naming_a_class_without_a_message_constructor_falls_back() -> None:
    # DuplicateOperation takes a fingerprint, not a message: a plain Conflict keeps the text
    client = client_for(_error(409, "duplicate_operation", "already applied"))
    with client, pytest.raises(errors.Conflict) as raised:
        client.archive("ctx://a/x", "alice")
    assert type(raised.value) is errors.Conflict and str(raised.value) == "already applied"


def test_server_error_keeps_status_and_code() -> None:
    with client_for(_error(500, "internal", "kaput")) as client, pytest.raises(ServerError) as err:
        client.health()
    assert (err.value.status, err.value.code) == (500, "internal")
    assert "kaput" in str(err.value)


@pytest.mark.parametrize("answer", [{"text": "hello"}, {"json": [1, 2]}])
def test_a_success_that_is_not_a_json_object_is_a_server_error(answer: dict[str, Any]) -> None:
    client = client_for(lambda _: httpx.Response(200, **answer))
    with client, pytest.raises(ServerError, match="not a JSON object"):
        client.health()


def test_connection_failure_names_the_url() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    with client_for(refuse) as client, pytest.raises(ServerUnreachable) as err:
        client.health()
    assert BASE in str(err.value) and "Connection refused" in str(err.value)
    assert isinstance(err.value, errors.OgmemError)


def test_timeout_names_the_url_and_the_limit() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    http = httpx.Client(transport=httpx.MockTransport(slow), timeout=7)
    client = Client(BASE, KEY, http_client=http)
    with client, pytest.raises(ServerUnreachable, match=f"{BASE} did not answer .* within 7s"):
        client.search("q", "alice")
    http.close()


def test_a_real_refused_connection() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = Client(f"http://127.0.0.1:{port}", timeout=2)
    with client, pytest.raises(ServerUnreachable, match=rf"http://127\.0\.0\.1:{port}"):
        client.health()


def test_close_leaves_a_caller_supplied_http_client_open() -> None:
    http = httpx.Client(transport=httpx.MockTransport(Recorder()))
    Client(BASE, http_client=http).close()
    assert not http.is_closed
    http.close()
    owned = Client(BASE, timeout=3)
    assert owned._http.timeout.read == 3
    owned.close()
    assert owned._http.is_closed
