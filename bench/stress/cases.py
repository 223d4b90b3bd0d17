"""The building blocks of the bad-input catalogue: where a case goes, what it is, and the
raw requests it is made of."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.stress.rawhttp import json_body, request


@dataclass(frozen=True, slots=True)
class Target:
    """Where the cases go and as whom."""

    port: int
    key: str
    account: str
    user: str = "u"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass(frozen=True, slots=True)
class Case:
    """One connection: ``requests`` are sent one after the other, each must be answered."""

    name: str
    requests: tuple[bytes, ...]
    timeout_s: float = 60.0  # per request: a commit of 200,000 characters embeds a while
    malformed: bool = False  # deliberately odd HTTP framing: the server's parser is the target


def post(t: Target, path: str, value: Any, **headers: str) -> bytes:
    return request("POST", path, host=t.host, body=json_body(value), key=t.key, headers=headers)


def raw_post(t: Target, path: str, body: bytes, **headers: str) -> bytes:
    """A POST whose body is given as bytes: for bodies json.dumps would never write."""
    return request("POST", path, host=t.host, body=body, key=t.key, headers=headers)


def get(t: Target, target: str | bytes, **headers: str) -> bytes:
    return request("GET", target, host=t.host, key=t.key, headers=headers)


def turn(t: Target, session: str, **message: Any) -> dict[str, Any]:
    """An after_turn body of one message; ``message`` overrides its fields."""
    body = {"role": "user", "content": "I moved to Lisbon last spring.", **message}
    return {"session_id": session, "user_id": t.user, "messages": [body]}


def memory(t: Target, **fields: Any) -> dict[str, Any]:
    """A /memories body of one preference; ``fields`` override its fields."""
    one = {"category": "preference", "routing_key": "k", "abstract": "a", "content": "c", **fields}
    return {"user_id": t.user, "memories": [one]}


def commit(t: Target, session: str) -> bytes:
    return post(t, f"/api/v1/sessions/{session}/commit?wait=true", {"user_id": t.user})


def turn_then_commit(t: Target, name: str, session: str, **message: Any) -> Case:
    """The turn must be accepted or refused cleanly, and so must the commit that reads it."""
    return Case(
        name, (post(t, "/api/v1/after_turn", turn(t, session, **message)), commit(t, session))
    )
