"""Bearer API keys -> the caller's account; the account never comes from the request.

The access model:
- An account key (no user) acts for every user and agent of its account.
- A user-bound key (``--user alice``) acts only as that user: a request naming another
  user_id, or a URI outside ``users/alice``, is refused with 403.
- Agent memories (``agents/<agent>/...``: cases, patterns, skills, tools) are shared by the
  agent's users. A user-bound key reaches them only for the agents it is bound to
  (``--agent coder``): it may name them as ``agent_id`` (so its sessions teach that agent and
  its searches include the agent's memories) and read them (read, ls, tree, history). Archive,
  move and delete of an agent's memories need an account key: one user must not curate what
  every user of the agent relies on.
Without keys (dev mode, loopback only) every request belongs to the account ``default``.
Failed authentications are limited per client address (see limits.AuthFailureLimiter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import State

from ogmem.core import uri
from ogmem.core.models import RequestContext
from ogmem.keys import Keys
from ogmem.limits import AuthFailureLimiter
from ogmem.server import errors as server_errors

DEV_ACCOUNT = "default"

# auto_error=False: a missing key must give our 401 body, not FastAPI's 403
_bearer = HTTPBearer(auto_error=False, description="An ogmem API key: `ogmem keys create`.")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who holds the key: the account, the one user it is bound to (if any), and the agents
    that user-bound key may act with."""

    account_id: str
    user_id: str | None = None
    admin: bool = False
    key_id: str | None = None
    agents: tuple[str, ...] = ()

    def context(
        self, user_id: str, agent_id: str | None = None, session_id: str | None = None
    ) -> RequestContext:
        if self.user_id is not None and user_id != self.user_id:
            raise server_errors.Forbidden(f"this key acts only as user {self.user_id}")
        if agent_id is not None:
            self._check_agent(agent_id)
        return RequestContext(self.account_id, user_id, agent_id=agent_id, session_id=session_id)

    def check_uri(self, text: str, *, change: bool = False) -> None:
        """A user-bound key reaches its user's space, and reads the spaces of its agents;
        ``change`` (archive, move, delete) of an agent's memories needs an account key."""
        if self.user_id is None:
            return
        segments = uri.parse(text).segments
        if segments[:2] == ("users", self.user_id):
            return
        if segments[:1] == ("agents",) and len(segments) >= 2:
            self._check_agent(segments[1])
            if change:
                raise server_errors.Forbidden(
                    "an agent's memories are shared by its users: archive, move and delete "
                    "them with a key of the whole account"
                )
            return
        raise server_errors.Forbidden(f"this key acts only as user {self.user_id}")

    def _check_agent(self, agent_id: str) -> None:
        if self.user_id is not None and agent_id not in self.agents:
            allowed = ", ".join(self.agents) or "none"
            raise server_errors.Forbidden(
                f"this key may act only with the agents it is bound to ({allowed}), "
                f"not {agent_id}; create one with `ogmem keys create --user {self.user_id} "
                f"--agent {agent_id}`"
            )

    def require_account_key(self) -> None:
        if self.user_id is not None and not self.admin:
            raise server_errors.Forbidden("this needs a key of the whole account")


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticate(
    state: State, credentials: HTTPAuthorizationCredentials | None, client: str
) -> Principal:
    """The key's principal, or 401/429. A store read: callers run it on a worker thread."""
    if not state.require_keys:
        return Principal(DEV_ACCOUNT)
    limiter: AuthFailureLimiter = state.auth_limiter
    wait = limiter.retry_after(client)
    if wait is not None:
        raise server_errors.TooManyRequests(
            f"too many failed authentications from {client}; retry in {wait:.0f} s", wait
        )
    keys: Keys = state.keys
    info = None if credentials is None else keys.verify(credentials.credentials)
    if info is None:
        limiter.failed(client)
        if credentials is None:
            raise server_errors.Unauthorized()
        raise server_errors.Unauthorized("invalid or revoked API key")
    return Principal(info.account_id, info.user_id, info.admin, info.key_id, info.agents)


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return authenticate(request.app.state, credentials, _client(request))


@dataclass(frozen=True, slots=True)
class Presented:
    """A request's key, not yet looked up: the turn's routes (server/turns.py) look it up on
    the thread that then serves the request, one hop instead of two."""

    state: State
    credentials: HTTPAuthorizationCredentials | None
    client: str

    def verify(self) -> Principal:
        return authenticate(self.state, self.credentials, self.client)


async def presented(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Presented:
    return Presented(request.app.state, credentials, _client(request))


Caller = Annotated[Principal, Depends(principal)]
Key = Annotated[Presented, Depends(presented)]
