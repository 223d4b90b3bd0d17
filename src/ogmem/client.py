"""A Python client for the ogmem HTTP API, with the Engine's method names.

Example::

    from ogmem.client import Client

    with Client("http://127.0.0.1:8765", api_key="ogm_...") as memory:
        memory.after_turn("s1", "alice", [{"role": "user", "content": "I moved to Lyon."}])
        memory.commit("s1", "alice", wait=True)
        for hit in memory.search("where does alice live?", "alice")["hits"]:
            print(hit["score"], hit["uri"], hit["abstract"])

Every method returns the server's decoded JSON answer as plain dicts and lists (``Json``);
the account is the one the API key belongs to, so no method takes an ``account_id``.
Failures raise the same classes as the embedded Engine (``ogmem.core.errors``), so code
written against one runs against the other; plus ``AuthError`` (401/403), ``ServerError``
(other 5xx, unexpected answers) and ``ServerUnreachable`` (no connection, timeout).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from ogmem.core import errors
from ogmem.core.models import CandidateMemory, Message
from ogmem.plain import when_text

API = "/api/v1"

# The decoded JSON object of an answer (every route answers an object, e.g. {"node": {...}}).
Json = dict[str, Any]

# What POST /memories takes of a CandidateMemory; the rest (owner scope, origin, provenance)
# the server decides itself.
MEMORY_FIELDS = (
    "category", "routing_key", "abstract", "overview", "content", "confidence", "when", "who",
    "where", "evidence_quote", "source_message_ids", "attributes", "operation", "metadata",
)  # fmt: skip

# Codes whose class name differs from the code itself.
_CODE_ALIASES: dict[str, type[errors.OgmemError]] = {
    "version_conflict": errors.Conflict,  # without both versions in its detail
    "validation_error": errors.InvalidInput,
    "llm_bad_response": errors.LLMResponseError,
    "extraction_failed": errors.ExtractionError,
}

MessageLike = Message | Mapping[str, Any]
MemoryLike = CandidateMemory | Mapping[str, Any]


class AuthError(errors.OgmemError):
    """The API key is missing, invalid, or not allowed to do this."""


class ServerError(errors.OgmemError):
    """The server failed, or answered something this client does not understand."""

    def __init__(
        self, message: str | None = None, *, status: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class ServerUnreachable(errors.OgmemError):
    """The ogmem server could not be reached."""


def _without_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """Optional fields are left out rather than sent as null, so server defaults apply."""
    return {key: value for key, value in values.items() if value is not None}


def message_json(message: MessageLike) -> dict[str, Any]:
    """A message as the API takes it: {role, content, name?, created_at?, message_id?}."""
    if isinstance(message, Message):
        message = dataclasses.asdict(message)
    body = _without_none(message)
    if isinstance(body.get("created_at"), datetime):
        body["created_at"] = body["created_at"].isoformat()
    return body


def memory_json(memory: MemoryLike) -> dict[str, Any]:
    """A candidate memory as the API takes it; fields left at their default are omitted."""
    if not isinstance(memory, CandidateMemory):
        return _without_none(memory)
    body: dict[str, Any] = {}
    defaults = {f.name: f.default for f in dataclasses.fields(memory)}
    for name in MEMORY_FIELDS:
        value = getattr(memory, name)
        if isinstance(value, tuple | Mapping):  # JSON has lists and objects, not these
            value = list(value) if isinstance(value, tuple) else dict(value)
        if value != defaults[name] and value not in ([], {}):
            body[name] = value
    return body


def _build(
    family: type[errors.OgmemError],
    code: str,
    message: str,
    default: type[errors.OgmemError] | None = None,
) -> errors.OgmemError:
    """The class of ``family`` the error code names (``invalid_uri`` -> InvalidURI), so that
    callers catching the precise embedded class still catch it over HTTP; ``default`` when
    the code names none, or a class that cannot be built from a message alone."""
    if code in _CODE_ALIASES:
        return _CODE_ALIASES[code](message)
    wanted = code.replace("_", "").replace("-", "").lower()
    pending = [family]
    while wanted and pending:
        cls = pending.pop()
        if cls.__name__.lower() in (wanted, wanted + "error") and _takes_message(cls):
            return cls(message)
        pending.extend(cls.__subclasses__())
    return (default or family)(message)


def _takes_message(cls: type[errors.OgmemError]) -> bool:
    parameters = list(inspect.signature(cls).parameters)
    return bool(parameters) and parameters[0] == "message"


def error_from_response(response: httpx.Response) -> errors.OgmemError:
    """The exception an error answer stands for: ``{"error": {code, message, detail}}``."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    code = str(error.get("code") or "")
    message = str(error.get("message") or response.reason_phrase or f"HTTP {status}")
    raw_detail = error.get("detail")
    detail: dict[str, Any] = raw_detail if isinstance(raw_detail, dict) else {}
    if status in (401, 403):
        return AuthError(message)
    if status == 404:
        return _build(errors.NotFound, code, message)
    if status == 409:
        # both versions named: an optimistic-concurrency failure (either key spelling)
        expected = next((k for k in ("expected_version", "expected") if k in detail), None)
        actual = next((k for k in ("actual_version", "actual") if k in detail), None)
        if expected and actual:
            return errors.ConcurrentModificationError(
                str(detail.get("uri", "")), detail[expected], detail[actual]
            )
        return _build(errors.Conflict, code, message)
    if status in (400, 413, 422):
        return _build(errors.InvalidInput, code, message)
    if status == 503:
        if "llm" in code.lower():
            return _build(errors.LLMError, code, message, errors.LLMUnavailable)
        return _build(errors.StoreError, code, message)
    return ServerError(f"HTTP {status}: {message}", status=status, code=code or None)


class Client:
    """The ogmem HTTP API as method calls; one ``httpx.Client`` (keep-alive) per instance.

    ``timeout`` (seconds) bounds every request; ``commit(wait=True)`` with an LLM may need
    more. ``http_client`` lets tests pass a client with an ``httpx.MockTransport`` (or callers
    their own pool, proxies, TLS, timeouts: ``timeout`` is then unused); ``close()`` leaves
    it open.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 30.0,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout)
        self._headers = {"Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transport ----------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Json:
        url = self.base_url + path
        query = {k: _param(v) for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(
                method, url, params=query, json=body, headers=self._headers
            )
        except httpx.TimeoutException as exc:
            limit = self._http.timeout.read
            raise ServerUnreachable(
                f"the ogmem server at {self.base_url} did not answer {method} {path} "
                + (f"within {limit:g}s" if limit else "in time")
            ) from exc
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            raise ServerUnreachable(
                f"cannot reach the ogmem server at {self.base_url}: {reason}"
            ) from exc
        if response.status_code >= 400:
            raise error_from_response(response)
        if not response.content:
            return {}
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise ServerError(
                f"{method} {path} answered HTTP {response.status_code} with a body that is "
                "not a JSON object",
                status=response.status_code,
            )
        return answer

    # -- sessions -----------------------------------------------------------------------------

    def after_turn(
        self,
        session_id: str,
        user_id: str,
        messages: Sequence[MessageLike],
        agent_id: str | None = None,
    ) -> Json:
        """Buffer a turn; past the server's token threshold a commit is scheduled."""
        return self._post_messages("after_turn", session_id, user_id, messages, agent_id)

    def ingest(
        self, session_id: str, user_id: str, message: MessageLike, agent_id: str | None = None
    ) -> Json:
        """Buffer one message (no extraction until a commit)."""
        return self._request("POST", f"{API}/ingest", body=_without_none({
            "session_id": session_id, "user_id": user_id, "agent_id": agent_id,
            "message": message_json(message),
        }))  # fmt: skip

    def ingest_batch(
        self,
        session_id: str,
        user_id: str,
        messages: Sequence[MessageLike],
        agent_id: str | None = None,
    ) -> Json:
        """Buffer several messages in one call (no extraction until a commit)."""
        return self._post_messages("ingest_batch", session_id, user_id, messages, agent_id)

    def _post_messages(
        self,
        route: str,
        session_id: str,
        user_id: str,
        messages: Sequence[MessageLike],
        agent_id: str | None,
    ) -> Json:
        return self._request("POST", f"{API}/{route}", body=_without_none({
            "session_id": session_id, "user_id": user_id, "agent_id": agent_id,
            "messages": [message_json(m) for m in messages],
        }))  # fmt: skip

    def commit(self, session_id: str, user_id: str, wait: bool = False) -> Json:
        """Commit the session: a background job, or now with ``wait=True``."""
        return self._request(
            "POST", f"{API}/sessions/{_segment(session_id)}/commit",
            params={"wait": wait}, body={"user_id": user_id},
        )  # fmt: skip

    def session(self, session_id: str, user_id: str) -> Json:
        return self._request(
            "GET", f"{API}/sessions/{_segment(session_id)}", params={"user_id": user_id}
        )

    def list_sessions(self, user_id: str) -> Json:
        return self._request("GET", f"{API}/sessions", params={"user_id": user_id})

    # -- retrieval ----------------------------------------------------------------------------

    def search(
        self,
        query: str,
        user_id: str,
        agent_id: str | None = None,
        categories: Sequence[str] | None = None,
        limit: int = 10,
        include_sessions: bool = False,
    ) -> Json:
        return self._request("POST", f"{API}/search", body=_without_none({
            "query": query, "user_id": user_id, "agent_id": agent_id,
            "categories": list(categories) if categories is not None else None, "limit": limit,
            "include_sessions": include_sessions or None,  # sent only when asked
        }))  # fmt: skip

    def compose(
        self,
        query: str,
        user_id: str,
        agent_id: str | None = None,
        token_budget: int = 2000,
        include_sessions: bool = False,
    ) -> Json:
        return self._request("POST", f"{API}/compose", body=_without_none({
            "query": query, "user_id": user_id, "agent_id": agent_id,
            "token_budget": token_budget, "include_sessions": include_sessions or None,
        }))  # fmt: skip

    # -- writes -------------------------------------------------------------------------------

    def add(
        self,
        text: str,
        user_id: str,
        *,
        category: str | None = None,
        when: str | date | None = None,
        metadata: Mapping[str, Any] | None = None,
        agent_id: str | None = None,
    ) -> Json:
        """Remember ``text`` as one memory (the plain form; rules in ``ogmem.plain``).

        The answer is ``remember``'s: ``results[0]`` says written, skipped (with the reason)
        or failed (with the error), and ``complete`` is false when it was not written."""
        return self._request("POST", f"{API}/memories", body=_without_none({
            "text": text, "user_id": user_id, "agent_id": agent_id, "category": category,
            "when": when_text(when), "metadata": dict(metadata) if metadata else None,
        }))  # fmt: skip

    def remember(
        self,
        memories: Sequence[MemoryLike],
        user_id: str,
        agent_id: str | None = None,
        session_id: str | None = None,
    ) -> Json:
        """Write memories directly (no extraction), typed (``CandidateMemory`` or its fields)
        or plain (``{"text": ...}``); one result per memory, in order.

        A skipped or failed memory is never hidden: the server answers 207 instead of 200,
        and the answer counts ``written``, ``skipped`` and ``failed``, with ``complete``
        false. Check ``complete`` (or each result's ``status``)."""
        return self._request("POST", f"{API}/memories", body=_without_none({
            "user_id": user_id, "agent_id": agent_id, "session_id": session_id,
            "memories": [memory_json(m) for m in memories],
        }))  # fmt: skip

    def archive(self, uri: str, user_id: str, expected_version: int | None = None) -> Json:
        return self._request("POST", f"{API}/fs/archive", body=_without_none({
            "uri": uri, "user_id": user_id, "expected_version": expected_version,
        }))  # fmt: skip

    def move(self, src: str, dst: str, user_id: str, expected_version: int | None = None) -> Json:
        return self._request("POST", f"{API}/fs/move", body=_without_none({
            "src": src, "dst": dst, "user_id": user_id, "expected_version": expected_version,
        }))  # fmt: skip

    def delete(self, uri: str, user_id: str, expected_version: int | None = None) -> Json:
        return self._request("DELETE", f"{API}/fs", params={
            "uri": uri, "user_id": user_id, "expected_version": expected_version,
        })  # fmt: skip

    # -- the tree -----------------------------------------------------------------------------

    def read(self, uri: str, user_id: str) -> Json:
        return self._fs("read", uri, user_id)

    def ls(self, uri: str | None, user_id: str) -> Json:
        """The children of ``uri`` (``None``: the account root)."""
        return self._fs("ls", uri, user_id)

    def tree(self, uri: str | None, user_id: str) -> Json:
        """Every node below ``uri`` (``None``: the account root)."""
        return self._fs("tree", uri, user_id)

    def history(self, uri: str, user_id: str) -> Json:
        return self._fs("history", uri, user_id)

    def _fs(self, operation: str, uri: str | None, user_id: str) -> Json:
        return self._request(
            "GET", f"{API}/fs/{operation}", params={"uri": uri, "user_id": user_id}
        )

    # -- operations ---------------------------------------------------------------------------

    def outbox_stats(self) -> Json:
        return self._request("GET", f"{API}/outbox/stats")

    def health(self) -> Json:
        return self._request("GET", "/healthz")


def _param(value: Any) -> str:
    # httpx would send True as "True"; the API expects JSON-style booleans
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _segment(value: str) -> str:
    """A session id as one path segment: '/' and friends percent-encoded."""
    return quote(value, safe="")
