"""JsonBodies: every request body of the API is JSON, whatever its Content-Type says.

``curl -d '{...}'`` sends ``Content-Type: application/x-www-form-urlencoded``, and a body
sent with no header at all is common too; both are read as JSON here instead of failing
with "Input should be a valid dictionary".

Except in dev mode (no API key in the store). There, a request needs no credential, and the
header is the one thing that keeps a web page the developer visits from posting to the
loopback server: a browser sends a cross-site POST without asking first only when its
Content-Type is form data, text/plain or absent. So without keys a body must be declared
``application/json`` (the browser then asks first, and the server does not allow it); any
other body is refused with 415, naming the header. With keys, the Authorization header
plays that part: a page cannot send it cross-site without asking either.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from ogmem.server.errors import error_response

JSON = b"application/json"


def _is_json(content_type: bytes) -> bool:
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == JSON or (media.startswith(b"application/") and media.endswith(b"+json"))


def _has_body(headers: dict[bytes, bytes]) -> bool:
    length = headers.get(b"content-length", b"").strip()
    return b"transfer-encoding" in headers or (length not in (b"", b"0"))


class JsonBodies:
    """Pure ASGI: rewrites the Content-Type of a body to JSON (keys required), or answers
    415 for a body not declared JSON (dev mode)."""

    def __init__(self, app: ASGIApp, *, require_keys: bool) -> None:
        self.app = app
        self.require_keys = require_keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-type", b"")
        if _is_json(declared) or not _has_body(headers):
            await self.app(scope, receive, send)
            return
        if not self.require_keys:
            said = declared.decode("latin-1") or "none"
            message = (
                f"send the body with the header Content-Type: application/json (this one: "
                f"{said}); without API keys the server requires it, so that no web page can "
                "post to it (curl: -H 'Content-Type: application/json')"
            )
            await error_response(415, "unsupported_media_type", message)(scope, receive, send)
            return
        rewritten = [(k, v) for k, v in scope["headers"] if k != b"content-type"]
        rewritten.append((b"content-type", JSON))
        await self.app({**scope, "headers": rewritten}, receive, send)
