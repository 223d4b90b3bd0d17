"""Who is looking at the console: the API key pasted on the login page, kept in a cookie for
the browser session (HttpOnly: no script reads it; SameSite=Strict: no other site's form or
link carries it, which is also what guards the console's forms). Dev mode (no keys, loopback
only) needs none, as for the API."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import Request

from ogmem.keys import Keys
from ogmem.limits import AuthFailureLimiter
from ogmem.server import auth
from ogmem.server import errors as server_errors

COOKIE = "ogmem_console_key"
MAX_FORM_BYTES = 64 * 1024


async def form_fields(request: Request) -> dict[str, str]:
    """The urlencoded form of a POST, first value of each field (no multipart: the console's
    forms are small, and this spares a parser dependency)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0] for name, values in parsed.items()}


def principal(request: Request) -> auth.Principal | None:
    """The caller, or None when the console must show its login page."""
    if not request.app.state.require_keys:
        return auth.Principal(auth.DEV_ACCOUNT)
    key = request.cookies.get(COOKIE)
    if not key:
        return None
    keys: Keys = request.app.state.keys
    info = keys.verify(key)
    if info is None:
        return None
    return auth.Principal(info.account_id, info.user_id, info.admin, info.key_id, info.agents)


def check_key(request: Request, key: str) -> auth.Principal:
    """Verify a pasted key, counting failures per address as the API does."""
    limiter: AuthFailureLimiter = request.app.state.auth_limiter
    client = request.client.host if request.client else "unknown"
    wait = limiter.retry_after(client)
    if wait is not None:
        raise server_errors.TooManyRequests(
            f"too many failed attempts from {client}; retry in {wait:.0f} s", wait
        )
    keys: Keys = request.app.state.keys
    info = keys.verify(key.strip())
    if info is None:
        limiter.failed(client)
        raise server_errors.Unauthorized("that key is not valid (unknown or revoked)")
    return auth.Principal(info.account_id, info.user_id, info.admin, info.key_id, info.agents)
