"""The HTTP API: one route per Engine operation, the account always taken from the key.

Handlers are plain ``def``: FastAPI runs them in its thread pool, and the Engine is
synchronous and thread-safe; those of every turn (after_turn, ingest, search, compose) run in
a pool of their own instead (server/turns.py). No handler catches errors; ``server.errors``
maps them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Query, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.types import Lifespan

from ogmem import console
from ogmem.core import errors
from ogmem.core.models import RequestContext, WriteResult
from ogmem.dream import routes as dream_routes
from ogmem.engine import Engine
from ogmem.limits import AuthFailureLimiter, ServerLimits
from ogmem.server import auth, extra_routes, metrics
from ogmem.server import errors as server_errors
from ogmem.server import models as m
from ogmem.server import models_out as out
from ogmem.server.content_type import JsonBodies
from ogmem.server.guard import RequestGuard
from ogmem.server.turns import TurnPool

# FastAPI reads these at run time; with postponed annotations they must be module globals
Caller = auth.Caller
Key = auth.Key
IDENT = m.IDENT
UserQ = Annotated[str, Query(min_length=1, max_length=128, pattern=IDENT)]
SessionP = Annotated[str, Path(min_length=1, max_length=128, pattern=IDENT)]
UriQ = Annotated[str, Query(min_length=1, max_length=m.MAX_URI_CHARS)]
OptUriQ = Annotated[str | None, Query(min_length=1, max_length=m.MAX_URI_CHARS)]
VersionQ = Annotated[int | None, Query(ge=0)]
AsOfQ = Annotated[
    datetime | None, Query(description="The fact the node held then (ISO time); default now.")
]
Responses = dict[int | str, dict[str, Any]]  # FastAPI's type of a route's extra responses
ERRORS: Responses = {
    s: {"model": out.ErrorOut, "description": d}
    for s, d in ((401, "No valid key"), (403, "Not this key's user"), (404, "Not found"),
                 (409, "Version conflict"), (422, "Invalid input"),
                 (429, "Too many failed authentications from this address"),
                 (503, "Store/LLM down"), (504, "Longer than the request timeout"))
}  # fmt: skip
# a body that is not even text (bad UTF-8): FastAPI refuses it with 400 before validation
BODY: Responses = {
    s: {"model": out.ErrorOut, "description": d}
    for s, d in ((400, "Unreadable request body"), (408, "The body stalled"),
                 (413, "The body is over the size limit"),
                 (415, "Dev mode (no API key): a body must be sent as application/json"))
}  # fmt: skip


def _result(r: WriteResult) -> out.WriteResultOut:
    return out.WriteResultOut(
        status=r.status.value,
        uri=r.uri,
        action=r.plan.action.value if r.plan else None,
        version=r.node.version if r.node else None,
        reason=r.reason,
        error=r.error,
    )


PARTIAL: Responses = {
    207: {"model": out.MemoriesOut, "description": "Not every memory was written: see each result"}
}


def _results(results: list[WriteResult]) -> out.MemoriesOut:
    each = [_result(r) for r in results]
    counts = {s: sum(1 for r in each if r.status == s) for s in ("written", "skipped", "failed")}
    return out.MemoriesOut(results=each, complete=counts["written"] == len(each), **counts)


def _api(engine: Engine, turns: TurnPool) -> APIRouter:
    api = APIRouter(prefix="/api/v1", responses=ERRORS)

    @api.post("/after_turn", tags=["sessions"], responses=BODY, response_model=out.AfterTurnOut)
    async def after_turn(body: m.TurnIn, key: Key) -> Response:
        def work(caller: auth.Principal) -> out.AfterTurnOut:
            ctx = caller.context(body.user_id, body.agent_id, body.session_id)
            done = engine.after_turn([x.to_message() for x in body.messages], ctx)
            return out.AfterTurnOut.model_validate(done)

        return await turns.answer(key, work, append=True)

    @api.post("/ingest", tags=["sessions"], responses=BODY, response_model=out.SessionEnvelope)
    async def ingest(body: m.IngestIn, key: Key) -> Response:
        def work(caller: auth.Principal) -> out.SessionEnvelope:
            ctx = caller.context(body.user_id, body.agent_id, body.session_id)
            state = engine.ingest([body.message.to_message()], ctx)
            return out.SessionEnvelope(session=out.SessionOut.model_validate(state))

        return await turns.answer(key, work, append=True)

    @api.post(
        "/ingest_batch", tags=["sessions"], responses=BODY, response_model=out.SessionEnvelope
    )
    async def ingest_batch(body: m.TurnIn, key: Key) -> Response:
        def work(caller: auth.Principal) -> out.SessionEnvelope:
            ctx = caller.context(body.user_id, body.agent_id, body.session_id)
            state = engine.ingest([x.to_message() for x in body.messages], ctx)
            return out.SessionEnvelope(session=out.SessionOut.model_validate(state))

        return await turns.answer(key, work, append=True)

    @api.post("/sessions/{session_id}/commit", tags=["sessions"], responses=BODY)
    def commit(
        session_id: SessionP, body: m.CommitIn, caller: Caller, wait: bool = False
    ) -> out.SessionEnvelope:
        ctx = caller.context(body.user_id, session_id=session_id)
        state = engine.commit(session_id, ctx, wait=wait)
        return out.SessionEnvelope(session=out.SessionOut.model_validate(state))

    @api.get("/sessions", tags=["sessions"])
    def list_sessions(user_id: UserQ, caller: Caller) -> out.SessionsOut:
        states = engine.list_sessions(caller.context(user_id))
        return out.SessionsOut(sessions=[out.SessionOut.model_validate(s) for s in states])

    @api.get("/sessions/{session_id}", tags=["sessions"])
    def get_session(session_id: SessionP, user_id: UserQ, caller: Caller) -> out.SessionEnvelope:
        state = engine.session(session_id, caller.context(user_id, session_id=session_id))
        return out.SessionEnvelope(session=out.SessionOut.model_validate(state))

    @api.post("/search", tags=["retrieval"], responses=BODY, response_model=out.SearchOut)
    async def search(body: m.SearchIn, key: Key) -> Response:
        def work(caller: auth.Principal) -> out.SearchOut:
            found = engine.search(
                body.query, caller.context(body.user_id, body.agent_id),
                categories=body.categories, limit=body.limit,
                include_sessions=body.include_sessions, min_score=body.min_score,
                as_of=body.as_of,
            )  # fmt: skip
            return out.SearchOut.model_validate(found)

        return await turns.answer(key, work)

    @api.post("/compose", tags=["retrieval"], responses=BODY, response_model=out.ComposeOut)
    async def compose(body: m.ComposeIn, key: Key) -> Response:
        def work(caller: auth.Principal) -> out.ComposeOut:
            block = engine.compose(
                body.query, caller.context(body.user_id, body.agent_id), body.token_budget,
                include_sessions=body.include_sessions, min_score=body.min_score,
            )  # fmt: skip
            return out.ComposeOut.model_validate(block)

        return await turns.answer(key, work)

    @api.post("/memories", tags=["memories"], responses={**BODY, **PARTIAL})
    def memories(body: m.AddIn, caller: Caller, response: Response) -> out.MemoriesOut:
        """Remember memories directly (no extraction): one plain text `{"text", "user_id"}`,
        or a batch `{"user_id", "memories": [...]}` whose items are plain `{"text"}` or typed
        (category, abstract, content and the type's fields; see the examples)."""
        ctx = caller.context(body.user_id, body.agent_id, body.session_id)
        results = engine.remember(body.candidates(engine.registry), ctx)
        answer = _results(results)
        if not answer.complete:  # never a bare 200 over a skipped or failed memory
            response.status_code = 207
        return answer

    @api.get("/fs/read", tags=["fs"])
    def read(uri: UriQ, user_id: UserQ, caller: Caller, as_of: AsOfQ = None) -> out.NodeEnvelope:
        caller.check_uri(uri)
        node = engine.read(uri, caller.context(user_id), as_of=as_of)
        return out.NodeEnvelope(node=out.NodeOut.model_validate(node))

    @api.get("/fs/ls", tags=["fs"])
    def ls(user_id: UserQ, caller: Caller, uri: OptUriQ = None) -> out.LsOut:
        target = _scoped_root(caller, uri)
        entries = engine.ls(target, caller.context(user_id))
        return out.LsOut(entries=[out.EntryOut.model_validate(e) for e in entries])

    @api.get("/fs/tree", tags=["fs"])
    def tree(user_id: UserQ, caller: Caller, uri: OptUriQ = None) -> out.TreeOut:
        nodes = engine.tree(_scoped_root(caller, uri), caller.context(user_id))
        return out.TreeOut(nodes=[out.NodeOut.model_validate(n) for n in nodes])

    @api.get("/fs/history", tags=["fs"])
    def history(uri: UriQ, user_id: UserQ, caller: Caller) -> out.HistoryOut:
        caller.check_uri(uri)
        versions = engine.history(uri, caller.context(user_id))
        return out.HistoryOut(versions=[out.VersionOut.model_validate(v) for v in versions])

    @api.post("/fs/archive", tags=["fs"], responses=BODY)
    def archive(body: m.ArchiveIn, caller: Caller) -> out.NodeEnvelope:
        caller.check_uri(body.uri, change=True)
        ctx = caller.context(body.user_id, body.agent_id)
        node = engine.archive(body.uri, ctx, body.expected_version)
        return out.NodeEnvelope(node=out.NodeOut.model_validate(node))

    @api.post("/fs/move", tags=["fs"], responses=BODY)
    def move(body: m.MoveIn, caller: Caller) -> out.NodeEnvelope:
        caller.check_uri(body.src, change=True)
        caller.check_uri(body.dst, change=True)
        ctx = caller.context(body.user_id, body.agent_id)
        node = engine.move(body.src, body.dst, ctx, body.expected_version)
        return out.NodeEnvelope(node=out.NodeOut.model_validate(node))

    @api.delete("/fs", tags=["fs"], status_code=204)
    def delete(
        uri: UriQ, user_id: UserQ, caller: Caller, expected_version: VersionQ = None
    ) -> Response:
        caller.check_uri(uri, change=True)
        engine.delete(uri, caller.context(user_id), expected_version)
        return Response(status_code=204)

    @api.get("/outbox/stats", tags=["operations"])
    def outbox_stats(caller: Caller) -> out.OutboxStatsOut:
        caller.require_account_key()
        # the outbox is the account's, not a user's: any user id serves the context
        ctx = RequestContext(caller.account_id, caller.user_id or "-")
        stats = dict(engine.outbox_stats(ctx))
        age = stats.pop("oldest_pending_age_s", None)
        return out.OutboxStatsOut(
            counts={k: int(v or 0) for k, v in stats.items()}, oldest_pending_age_s=age
        )

    return api


def _scoped_root(caller: auth.Principal, node_uri: str | None) -> str | None:
    """A user-bound key lists from its user's root; it never sees the account's other users."""
    if node_uri is None:
        if caller.user_id is None:
            return None
        return f"ctx://{caller.account_id}/users/{caller.user_id}"
    caller.check_uri(node_uri)
    return node_uri


def create_app(
    engine: Engine,
    *,
    require_keys: bool = True,
    worker_expected: bool = False,
    limits: ServerLimits | None = None,
    lifespan: Lifespan[FastAPI] | None = None,
) -> FastAPI:
    """The API over ``engine``; ``require_keys=False`` is dev mode (account ``default``);
    ``lifespan`` runs around the server's life (a child of ``serve --processes`` closes its
    engine there).

    With keys, ``/metrics`` is not served here: its figures span every account, so it goes
    on an address of its own (``ogmem serve --metrics-port``), for the operator only.
    """
    limits = limits or ServerLimits()
    app = FastAPI(
        title="ogmem", version="1", summary="Long-term memory for AI agents", lifespan=lifespan
    )
    app.state.keys = engine.keys
    app.state.require_keys = require_keys
    app.state.auth_limiter = AuthFailureLimiter(limits.auth_failures_per_minute)
    collected = metrics.Metrics(engine, worker_expected=worker_expected)
    app.state.metrics = collected
    app.add_middleware(JsonBodies, require_keys=require_keys)  # innermost: headers only
    app.add_middleware(RequestGuard, limits=limits)
    app.add_middleware(metrics.MetricsMiddleware, metrics=collected)  # outermost: sees all
    server_errors.install(app)
    app.include_router(
        _api(engine, TurnPool(limits.turn_threads, limits.append_head_start_ms / 1000))
    )
    app.include_router(extra_routes.router(engine, BODY), responses=ERRORS)
    app.include_router(dream_routes.router(engine, BODY), responses=ERRORS)
    console.mount(app, engine)  # the web console at /ui: same Engine, same keys

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    not_ready: Responses = {503: {"model": out.ReadyOut, "description": "Store or worker down"}}

    @app.get("/readyz", tags=["operations"], response_model=out.ReadyOut, responses=not_ready)
    def readyz() -> JSONResponse:
        checks = engine.ready()
        if not worker_expected:
            checks["worker"] = "not expected"
        ready = checks["store"] == "ok" and checks["worker"] != "stopped"
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    exposition: Responses = {
        200: {"description": "Prometheus text format", "content": {"text/plain": {}}},
        404: {"description": "Served on --metrics-port", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ErrorOut"}}}},
    }  # fmt: skip

    @app.get("/metrics", tags=["operations"], response_class=Response, responses=exposition)
    def metrics_endpoint() -> Response:
        if require_keys:
            raise errors.NotFound(
                "metrics span every account: they are served on their own address "
                "(ogmem serve --metrics-port PORT, or OGMEM_METRICS_PORT)"
            )
        return Response(collected.exposition(), media_type=CONTENT_TYPE_LATEST)

    return app
