"""API routes for the Engine calls the web console added (restore, dead-letter retry): the
console and the API reach them through the same Engine methods. Kept apart from ``app.py``
so the two grow without stepping on each other."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from ogmem.core.models import EventStatus, OutboxEvent, RequestContext
from ogmem.engine import Engine
from ogmem.server import auth
from ogmem.server import models as m
from ogmem.server import models_out as out

Caller = auth.Caller
EventP = Annotated[int, Path(ge=1, le=2**63 - 1)]  # a SQL BIGINT
UserP = Annotated[str, Path(min_length=1, max_length=128)]
StatusQ = Annotated[EventStatus | None, Query()]
LimitQ = Annotated[int, Query(ge=1, le=1000)]


class EventOut(BaseModel):
    id: int
    type: str
    uri: str
    status: str
    attempts: int
    last_error: str | None


class EventsOut(BaseModel):
    events: list[EventOut]


class ErasedOut(BaseModel):
    user_id: str
    counts: dict[str, int]
    """How many rows of each kind went (0 everywhere: there was nothing of this user)."""


def event_out(event: OutboxEvent) -> EventOut:
    return EventOut(
        id=event.id or 0, type=event.type.value, uri=event.uri, status=event.status.value,
        attempts=event.attempts, last_error=event.last_error,
    )  # fmt: skip


def account_context(caller: auth.Principal) -> RequestContext:
    """The outbox is the account's, not a user's: any user id serves the context."""
    caller.require_account_key()
    return RequestContext(caller.account_id, caller.user_id or "-")


def router(engine: Engine, body_responses: dict[int | str, dict[str, Any]]) -> APIRouter:
    """``body_responses``: the statuses a route with a request body may answer besides its
    own (the API's table, ``app.BODY``)."""
    api = APIRouter(prefix="/api/v1")

    @api.post("/fs/restore", tags=["fs"], responses=body_responses)
    def restore(body: m.ArchiveIn, caller: Caller) -> out.NodeEnvelope:
        caller.check_uri(body.uri, change=True)
        ctx = caller.context(body.user_id, body.agent_id)
        node = engine.restore(body.uri, ctx, body.expected_version)
        return out.NodeEnvelope(node=out.NodeOut.model_validate(node))

    @api.get("/outbox/events", tags=["operations"])
    def events(caller: Caller, status: StatusQ = None, limit: LimitQ = 100) -> EventsOut:
        listed = engine.outbox_events(account_context(caller), status, limit)
        return EventsOut(events=[event_out(e) for e in listed])

    @api.post("/outbox/events/{event_id}/retry", tags=["operations"], status_code=204)
    def retry(event_id: EventP, caller: Caller) -> None:
        engine.retry_event(event_id, account_context(caller))

    @api.delete("/users/{user_id}", tags=["users"])
    def forget_user(user_id: UserP, caller: Caller) -> ErasedOut:
        """Erase everything about the user (memories and their history, sessions, messages,
        index rows, the user's API keys, the outbox events naming them), in one transaction.
        An account key erases any user of its account; a user-bound key only its own user."""
        report = engine.forget_user(caller.context(user_id))
        return ErasedOut(user_id=user_id, counts=report.counts)

    return api
