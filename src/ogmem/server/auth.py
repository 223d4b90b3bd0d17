"""Bearer API keys -> the caller's account; the account never comes from the request.

A key bound to a user acts only as that user: a request naming another user_id, or a URI in
another user's space, is refused with 403. Without keys (dev mode, loopback only) every
request belongs to the account ``default``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ogmem.core import uri
from ogmem.core.models import RequestContext
from ogmem.server import errors as server_errors
from ogmem.store.sqlite_keys import SqliteKeys

DEV_ACCOUNT = "default"

# auto_error=False: a missing key must give our 401 body, not FastAPI's 403
_bearer = HTTPBearer(auto_error=False, description="An ogmem API key: `ogmem keys create`.")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who holds the key: the account, and the one user it is bound to (if any)."""

    account_id: str
    user_id: str | None = None
    admin: bool = False
    key_id: str | None = None

    def context(
        self, user_id: str, agent_id: str | None = None, session_id: str | None = None
    ) -> RequestContext:
        if self.user_id is not None and user_id != self.user_id:
            raise server_errors.Forbidden(f"this key acts only as user {self.user_id}")
        return RequestContext(self.account_id, user_id, agent_id=agent_id, session_id=session_id)

    def check_uri(self, text: str) -> None:
        """A user-bound key reaches its user's space and the agents' spaces, nothing else."""
        if self.user_id is None:
            return
        segments = uri.parse(text).segments
        if segments[:2] == ("users", self.user_id) or segments[:1] == ("agents",):
            return
        raise server_errors.Forbidden(f"this key acts only as user {self.user_id}")

    def require_account_key(self) -> None:
        if self.user_id is not None and not self.admin:
            raise server_errors.Forbidden("this needs a key of the whole account")


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if not request.app.state.require_keys:
        return Principal(DEV_ACCOUNT)
    if credentials is None:
        raise server_errors.Unauthorized()
    keys: SqliteKeys = request.app.state.keys
    info = keys.verify(credentials.credentials)
    if info is None:
        raise server_errors.Unauthorized("invalid or revoked API key")
    return Principal(info.account_id, info.user_id, info.admin, info.key_id)


Caller = Annotated[Principal, Depends(principal)]
