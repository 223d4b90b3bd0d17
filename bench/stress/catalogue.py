"""The hostile requests of the bad-input check, as raw HTTP bytes.

Every request must be answered with something other than a 5xx: a 4xx is the right answer to
nonsense; a reset, a silence or a 5xx means the server did not handle it. Cases that need a
clock (a half-sent body) or a loop (1,000 wrong keys) live in bad_inputs.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from bench.stress.cases import (
    Case,
    Target,
    commit,
    get,
    memory,
    post,
    raw_post,
    turn,
    turn_then_commit,
)
from bench.stress.rawhttp import json_body, request

BIG_BODY_BYTES = 50 * 1024 * 1024
DEEP_NESTING = 100_000
HUGE_HEADER_BYTES = 100 * 1024
SEARCH, TURN, MEMORIES = "/api/v1/search", "/api/v1/after_turn", "/api/v1/memories"


def dates(t: Target) -> list[Case]:
    values = {
        "0001-01-01T00:00:00+14:00": "d-min",  # UTC would be year 0
        "9999-12-31T23:59:59-10:00": "d-max",  # UTC would be year 10000
        "2023-05-08T10:00:00": "d-naive",
        "0000-00-00T00:00:00Z": "d-zero",
    }
    cases = [turn_then_commit(t, f"created_at {v}", s, created_at=v) for v, s in values.items()]
    return [*cases, turn_then_commit(t, "created_at as a number", "d-num", created_at=1e300)]


def keep_alive(t: Target) -> list[Case]:
    search = post(t, SEARCH, {"query": "where does she live?", "user_id": t.user})
    after_turn = post(t, TURN, turn(t, "ka", message_id="ka-1"))
    return [
        Case("the same search twice on one keep-alive connection", (search, search)),
        Case("the same after_turn twice on one keep-alive connection", (after_turn, after_turn)),
    ]


def bodies(t: Target, big_body_bytes: int = BIG_BODY_BYTES) -> list[Case]:
    # one message whose content is the whole body: refused by a body limit (413) or by the
    # content limit (422), but today only after the whole body was read
    big = post(t, TURN, turn(t, "big", content="x" * (big_body_bytes - 200)))
    deep = b"[" * DEEP_NESTING
    raw: list[tuple[str, str, bytes]] = [
        (f"JSON nested {DEEP_NESTING:,} deep", SEARCH, deep),
        ("JSON nested deep inside a field", SEARCH, b'{"query": ' + deep + b', "user_id": "u"}'),
        ("invalid UTF-8 in the body", SEARCH, b'{"query": "caf\xc3\x28 \xff\xfe", "user_id": "u"}'),
        ("a lone surrogate escaped in JSON", SEARCH, b'{"query": "\\ud800 lone", "user_id": "u"}'),
        ("an empty body", SEARCH, b""),
        ("a JSON array instead of an object", SEARCH, b"[]"),
        ("JSON null", SEARCH, b"null"),
        ("duplicate keys", SEARCH, b'{"query": "a", "query": "b", "user_id": "u"}'),
        ("NaN confidence", MEMORIES, json_body(memory(t, confidence=0.5)).replace(b"0.5", b"NaN")),
        (
            "Infinity token_budget",
            "/api/v1/compose",
            b'{"query": "q", "user_id": "u", "token_budget": Infinity}',
        ),
    ]
    # json.dumps escapes the lone surrogate as \\udc00: valid JSON, not valid Unicode
    surrogate = json_body(turn(t, "sur", content="I like \udc00 tea"))
    return [
        Case(f"a {big_body_bytes // 2**20} MB body", (big,)),
        *(Case(name, (raw_post(t, path, body),)) for name, path, body in raw),
        Case(
            "a lone surrogate in a message, then commit",
            (raw_post(t, TURN, surrogate), commit(t, "sur")),
        ),
        Case(
            "a text/plain body",
            (post(t, SEARCH, {"query": "q", "user_id": "u"}, **{"Content-Type": "text/plain"}),),
        ),
    ]


def strings(t: Target) -> list[Case]:
    messages = [
        ("NUL bytes in a message", "nul", {"content": "a\x00b\x00"}),
        ("an unknown role", "role", {"role": "wizard"}),
        ("a role of 32 spaces", "role-sp", {"role": " " * 32}),
        ("an assistant-only session", "asst", {"role": "assistant"}),
        ("a message of 200,000 characters", "long", {"content": "word " * 40_000}),
        ("a message id of 256 emoji", "emoji", {"message_id": "😀" * 256}),
    ]
    cases = [turn_then_commit(t, f"{n}, then commit", s, **m) for n, s, m in messages]
    return [
        *cases,
        Case("a NUL byte in a query", (post(t, SEARCH, {"query": "\x00", "user_id": t.user}),)),
        Case("a NUL byte in a session id", (post(t, TURN, turn(t, "s\x00x")),)),
        Case(
            "NUL bytes in a memory",
            (post(t, MEMORIES, memory(t, routing_key="n\x00l", abstract="\x00")),),
        ),
    ]


def uris(t: Target) -> list[Case]:
    base = f"ctx://{t.account}/users/{t.user}/memories"
    read = f"/api/v1/fs/read?user_id={t.user}&uri="
    hostile = [
        f"{base}/../../../etc/passwd",
        f"{base}/%2e%2e/%2e%2e/x",
        f"{base}/preferences/..",
        f"ctx://{t.account}/users/..",
        f"ctx://../users/{t.user}",
        f"{base}/pre\x00ferences/x",
        f"{base}/" + "a" * 1024,
        f"{base}/" + "/".join(["x"] * 300),
        "file:///etc/passwd",
        "ctx://",
        "ctx:///",
    ]
    targets: list[tuple[str, str | bytes]] = [
        ("fs/read with a double-encoded ..", read + quote(f"{base}/%2e%2e/x", safe="")),
        ("fs/read with %2e%2e left raw", read + f"{base}/%2e%2e/%2e%2e/x"),
        ("an encoded NUL in the path", "/api/v1/sessions/s%00x?user_id=u"),
        ("/api/v1/fs/%2e%2e/read", "/api/v1/fs/%2e%2e/read?uri=x&user_id=u"),
        ("/api/v1/../healthz", "/api/v1/../healthz"),
        ("invalid percent-encoding", "/api/v1/fs/read?uri=%zz%&user_id=u"),
        ("percent-encoded invalid UTF-8", "/api/v1/fs/read?uri=%ff%fe&user_id=%c3%28"),
        ("a session id of .. in the path", "/api/v1/sessions/..?user_id=u"),
        ("a target of 100 KB", "/api/v1/fs/ls?user_id=u&uri=" + "a" * HUGE_HEADER_BYTES),
    ]
    node = quote(f"{base}/preferences/x", safe="")
    delete = request(
        "DELETE",
        f"/api/v1/fs?user_id=u&expected_version={10**20}&uri={node}",
        host=t.host,
        key=t.key,
    )
    return [
        *(Case(f"fs/read uri={u[:60]!r}", (get(t, read + quote(u, safe="")),)) for u in hostile),
        *(Case(name, (get(t, target),)) for name, target in targets),
        Case("DELETE with expected_version 10^20", (delete,)),
        Case(
            "a raw NUL byte in the request target",
            (get(t, b"/api/v1/fs/read?uri=a\x00b&user_id=u"),),
            malformed=True,
        ),
    ]


def ids(t: Target) -> list[Case]:
    """Ids pass the URI alphabet [A-Za-z0-9._-], which admits the segments . and .."""
    move = {
        "src": f"ctx://{t.account}/users/{t.user}/memories/preferences/x",
        "dst": f"ctx://{t.account}/users/{t.user}/memories/..",
        "user_id": t.user,
    }
    bodies: list[tuple[str, str, Any]] = [
        ("session id ..", TURN, turn(t, "..")),
        ("session id .", TURN, turn(t, ".")),
        ("user id ..", TURN, {**turn(t, "dots"), "user_id": ".."}),
        ("agent id ..", TURN, {**turn(t, "dots2"), "agent_id": ".."}),
        ("memory routing key ..", MEMORIES, memory(t, routing_key="..")),
        ("memory category ..", MEMORIES, memory(t, category="..")),
        (
            "search in categories ..",
            SEARCH,
            {"query": "q", "user_id": t.user, "categories": [".."]},
        ),
        ("fs/move to ..", "/api/v1/fs/move", move),
    ]
    return [
        *(Case(n, (post(t, p, b),)) for n, p, b in bodies),
        Case("commit of session ..", (commit(t, ".."),)),
    ]


def wrong_types(t: Target) -> list[Case]:
    q = {"query": "q", "user_id": t.user}
    x = f"ctx://{t.account}/users/{t.user}/memories/preferences/x"
    bodies: list[tuple[str, str, Any]] = [
        ("user_id as a number", SEARCH, {"query": "q", "user_id": 5}),
        ("limit as text", SEARCH, {**q, "limit": "ten"}),
        ("limit 10^30", SEARCH, {**q, "limit": 10**30}),
        ("categories as text", SEARCH, {**q, "categories": "event"}),
        ("query as an object", SEARCH, {**q, "query": {"$ne": 1}}),
        ("messages as text", TURN, {**turn(t, "wt"), "messages": "hi"}),
        ("a message as a list", TURN, {**turn(t, "wt"), "messages": [[1]]}),
        ("content as a number", TURN, turn(t, "wt", content=7)),
        ("an unknown field", TURN, {**turn(t, "wt"), "user_Id": "v"}),
        ("token_budget negative", "/api/v1/compose", {**q, "token_budget": -1}),
        ("token_budget 10^30", "/api/v1/compose", {**q, "token_budget": 10**30}),
        ("memories empty", MEMORIES, {"user_id": t.user, "memories": []}),
        ("an unknown memory category", MEMORIES, memory(t, category="wizardry")),
        ("attributes 900 deep", MEMORIES, memory(t, routing_key="deep", attributes=_nested(900))),
        (
            "archive with expected_version 10^20",
            "/api/v1/fs/archive",
            {"uri": x, "user_id": t.user, "expected_version": 10**20},
        ),
    ]
    return [Case(name, (post(t, path, body),)) for name, path, body in bodies]


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def protocol(t: Target) -> list[Case]:
    body = json_body({"query": "q", "user_id": t.user})
    sessions = "/api/v1/sessions?user_id=u"

    def search(data: bytes = body, /, **headers: str) -> bytes:
        return request("POST", SEARCH, host=t.host, key=t.key, body=data, headers=headers)

    def anonymous(target: str, **headers: str) -> bytes:
        return request("GET", target, host=t.host, headers=headers)

    many = {f"X-H{i}": "v" * 90 for i in range(1000)}
    never_sent = {"Content-Type": "application/json", "Content-Length": str(2**30)}
    bad_key = b"Authorization: Bearer ogm_\xff"
    # a complete chunked body whose Content-Length says otherwise (request smuggling)
    chunked, smuggled = (
        b"5\r\nhello\r\n0\r\n\r\n",
        {"Transfer-Encoding": "chunked", "Content-Length": "3"},
    )
    raw: list[tuple[str, bytes]] = [
        ("a header of 100 KB", anonymous("/healthz", **{"X-Big": "a" * HUGE_HEADER_BYTES})),
        ("1,000 headers", anonymous("/healthz", **many)),
        ("a key of 100 KB", anonymous(sessions, Authorization="Bearer " + "a" * HUGE_HEADER_BYTES)),
        ("Content-Length and Transfer-Encoding both", search(chunked, **smuggled)),
        ("a broken chunked body", search(b"zz\r\n{}\r\n", **{"Transfer-Encoding": "chunked"})),
        ("a negative Content-Length", search(**{"Content-Length": "-5"})),
        ("a Content-Length of 2^64", search(**{"Content-Length": str(2**64)})),
        ("a Content-Length of 1 GB, body never sent", search(b"", **never_sent)),
        ("an unknown method", request("BREW", SEARCH, host=t.host, key=t.key, body=body)),
        ("no Host header", b"GET /healthz HTTP/1.1\r\n\r\n"),
        ("HTTP/1.0", b"GET /healthz HTTP/1.0\r\n\r\n"),
        ("HTTP/9.9", b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n"),
        ("a bare LF request", b"GET /healthz HTTP/1.1\nHost: x\n\n"),
        ("a Bearer without a key", anonymous(sessions, Authorization="Bearer ")),
        ("a Basic Authorization", anonymous(sessions, Authorization="Basic Zm9vOmJhcg==")),
        (
            "a key with non-ASCII bytes",
            anonymous(sessions).replace(b"\r\n\r\n", b"\r\n" + bad_key + b"\r\n\r\n"),
        ),
    ]
    # a server waiting for a body it will never get answers nothing: 15 s tell as much as 60
    return [Case(name, (data,), timeout_s=15.0, malformed=True) for name, data in raw]


Builder = Callable[[Target], list[Case]]
BUILDERS: tuple[Builder, ...] = (dates, keep_alive, strings, uris, ids, wrong_types, protocol)


def catalogue(t: Target, big_body_bytes: int = BIG_BODY_BYTES) -> list[Case]:
    """Every case; the big body last (it takes the longest to send)."""
    return [*(case for build in BUILDERS for case in build(t)), *bodies(t, big_body_bytes)]
