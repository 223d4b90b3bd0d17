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

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import httpx

from ogmem.client_wire import (
    AuthError,
    MemoryLike,
    MessageLike,
    ServerError,
    ServerUnreachable,
    error_from_response,
    memory_json,
    message_json,
    param,
    segment,
    without_none,
)
from ogmem.plain import when_text

__all__ = ["AuthError", "Client", "ServerError", "ServerUnreachable"]

API = "/api/v1"

# The decoded JSON object of an answer (every route answers an object, e.g. {"node": {...}}).
Json = dict[str, Any]


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
        query = {k: param(v) for k, v in (params or {}).items() if v is not None}
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
        return self._request("POST", f"{API}/ingest", body=without_none({
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
        return self._request("POST", f"{API}/{route}", body=without_none({
            "session_id": session_id, "user_id": user_id, "agent_id": agent_id,
            "messages": [message_json(m) for m in messages],
        }))  # fmt: skip

    def commit(self, session_id: str, user_id: str, wait: bool = False) -> Json:
        """Commit the session: a background job, or now with ``wait=True``."""
        return self._request(
            "POST", f"{API}/sessions/{segment(session_id)}/commit",
            params={"wait": wait}, body={"user_id": user_id},
        )  # fmt: skip

    def session(self, session_id: str, user_id: str) -> Json:
        return self._request(
            "GET", f"{API}/sessions/{segment(session_id)}", params={"user_id": user_id}
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
        min_score: float | None = None,
        as_of: datetime | None = None,
    ) -> Json:
        """``min_score``: leave out hits less relevant than this (0 to 1; the server's default
        keeps every hit)."""
        return self._request("POST", f"{API}/search", body=without_none({
            "query": query, "user_id": user_id, "agent_id": agent_id,
            "categories": list(categories) if categories is not None else None, "limit": limit,
            "include_sessions": include_sessions or None,  # sent only when asked
            "min_score": min_score,
            "as_of": as_of.isoformat() if as_of is not None else None,
        }))  # fmt: skip

    def compose(
        self,
        query: str,
        user_id: str,
        agent_id: str | None = None,
        token_budget: int = 2000,
        include_sessions: bool = False,
        min_score: float | None = None,
    ) -> Json:
        """``min_score``: draw only on memories at least this relevant (0 to 1; None: the
        server's default, which leaves unrelated memories out)."""
        return self._request("POST", f"{API}/compose", body=without_none({
            "query": query, "user_id": user_id, "agent_id": agent_id,
            "token_budget": token_budget, "include_sessions": include_sessions or None,
            "min_score": min_score,
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
        return self._request("POST", f"{API}/memories", body=without_none({
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
        return self._request("POST", f"{API}/memories", body=without_none({
            "user_id": user_id, "agent_id": agent_id, "session_id": session_id,
            "memories": [memory_json(m) for m in memories],
        }))  # fmt: skip

    def archive(self, uri: str, user_id: str, expected_version: int | None = None) -> Json:
        return self._request("POST", f"{API}/fs/archive", body=without_none({
            "uri": uri, "user_id": user_id, "expected_version": expected_version,
        }))  # fmt: skip

    def move(self, src: str, dst: str, user_id: str, expected_version: int | None = None) -> Json:
        return self._request("POST", f"{API}/fs/move", body=without_none({
            "src": src, "dst": dst, "user_id": user_id, "expected_version": expected_version,
        }))  # fmt: skip

    def delete(self, uri: str, user_id: str, expected_version: int | None = None) -> Json:
        return self._request("DELETE", f"{API}/fs", params={
            "uri": uri, "user_id": user_id, "expected_version": expected_version,
        })  # fmt: skip

    def forget_user(self, user_id: str) -> Json:
        """Erase the user (``Engine.forget_user``); ``counts``: rows gone per kind."""
        return self._request("DELETE", f"{API}/users/{segment(user_id)}")

    # -- the tree -----------------------------------------------------------------------------

    def read(self, uri: str, user_id: str, as_of: datetime | None = None) -> Json:
        """The node; with ``as_of``, the fact it held then."""
        when = {"as_of": as_of.isoformat()} if as_of is not None else {}
        return self._fs("read", uri, user_id, **when)

    def ls(self, uri: str | None, user_id: str) -> Json:
        """The children of ``uri`` (``None``: the account root)."""
        return self._fs("ls", uri, user_id)

    def tree(self, uri: str | None, user_id: str) -> Json:
        """Every node below ``uri`` (``None``: the account root)."""
        return self._fs("tree", uri, user_id)

    def history(self, uri: str, user_id: str) -> Json:
        return self._fs("history", uri, user_id)

    def _fs(self, operation: str, uri: str | None, user_id: str, **extra: str) -> Json:
        return self._request(
            "GET", f"{API}/fs/{operation}", params={"uri": uri, "user_id": user_id, **extra}
        )

    # -- operations ---------------------------------------------------------------------------

    def outbox_stats(self) -> Json:
        return self._request("GET", f"{API}/outbox/stats")

    def health(self) -> Json:
        return self._request("GET", "/healthz")
