"""The dream routes of the HTTP API: start (or plan) a dream, list runs, show one, undo."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from ogmem.core import uri
from ogmem.core.models import RequestContext
from ogmem.dream.models import DreamRun
from ogmem.engine import Engine
from ogmem.server import auth
from ogmem.server import models as m

Caller = auth.Caller
UserQ = Annotated[str, Query(min_length=1, max_length=128, pattern=m.IDENT)]
RunP = Annotated[str, Path(min_length=1, max_length=128, pattern=m.IDENT)]
LimitQ = Annotated[int, Query(ge=1, le=1000)]
StepNumber = Annotated[int, Field(ge=0, le=100_000)]


class DreamIn(m._Who):
    dry_run: bool = Field(False, description="Return the plan; write nothing.")
    wait: bool = Field(False, description="Run now and answer with the run (else: queued).")


class UndoIn(m._Who):
    steps: Annotated[list[StepNumber], Field(max_length=10_000)] | None = Field(
        None, description="The steps to undo (numbers from 0); none: every applied step."
    )


class ChangeOut(BaseModel):
    uri: str
    before: int
    after: int


class StepOut(BaseModel):
    kind: str
    status: str
    survivor: str
    absorbed: list[str]
    reason: str
    error: str | None
    changes: list[ChangeOut]


class RunOut(BaseModel):
    run_id: str
    user_id: str
    trigger: str
    status: str
    dry_run: bool
    started_at: datetime
    finished_at: datetime | None
    notes: str | None
    counts: dict[str, int]
    steps: list[StepOut]


class DreamOut(BaseModel):
    queued: bool
    run: RunOut | None = None


class RunsOut(BaseModel):
    runs: list[RunOut]


def run_out(run: DreamRun) -> RunOut:
    steps: list[dict[str, Any]] = [step.as_dict() for step in run.steps]
    return RunOut(
        run_id=run.run_id, user_id=run.user_id, trigger=run.trigger, status=run.status.value,
        dry_run=run.dry_run, started_at=run.started_at, finished_at=run.finished_at,
        notes=run.error, counts=run.counts(),
        steps=[StepOut.model_validate(step) for step in steps],
    )  # fmt: skip


def _touched(run: DreamRun, steps: list[int] | None) -> set[str]:
    """The URIs the chosen steps wrote (numbers the run lacks are the undo's to refuse)."""
    chosen = range(len(run.steps)) if steps is None else [n for n in steps if n < len(run.steps)]
    return {change.uri for n in chosen for change in run.steps[n].changes}


def router(engine: Engine, body_responses: dict[int | str, dict[str, Any]]) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["dream"])
    dreamer = engine.dreaming.dreamer

    @api.post(
        "/dream", responses={**body_responses, 202: {"model": DreamOut, "description": "Queued"}}
    )
    def dream(body: DreamIn, caller: Caller, response: Response) -> DreamOut:
        """Dream for a user: merge near-duplicates, and with an LLM supersede contradictions
        and learn patterns (with ``agent_id``). Queued as a job unless ``wait`` or
        ``dry_run``."""
        ctx = caller.context(body.user_id, body.agent_id)
        if body.agent_id and not body.dry_run:  # merges may archive the agent's memories
            caller.check_uri(str(uri.agent_root(ctx.account_id, body.agent_id)), change=True)
        if not (body.wait or body.dry_run):
            engine.dreaming.trigger.request(ctx, "api")
            response.status_code = 202
            return DreamOut(queued=True)
        return DreamOut(queued=False, run=run_out(dreamer.run(ctx, dry_run=body.dry_run)))

    @api.get("/dream/runs")
    def runs(user_id: UserQ, caller: Caller, limit: LimitQ = 20) -> RunsOut:
        listed = dreamer.history(caller.context(user_id), limit)
        return RunsOut(runs=[run_out(run) for run in listed])

    @api.get("/dream/runs/{run_id}")
    def run(run_id: RunP, user_id: UserQ, caller: Caller) -> RunOut:
        return run_out(dreamer.get(caller.context(user_id), run_id))

    @api.post("/dream/runs/{run_id}/undo", responses=body_responses)
    def undo(run_id: RunP, body: UndoIn, caller: Caller) -> RunOut:
        """Undo a run's applied steps (or those named): every node put back as it was."""
        ctx: RequestContext = caller.context(body.user_id, body.agent_id)
        for touched in _touched(dreamer.get(ctx, run_id), body.steps):
            caller.check_uri(touched, change=True)  # undo writes them: the key must reach them
        return run_out(dreamer.undo(ctx, run_id, body.steps))

    return api
