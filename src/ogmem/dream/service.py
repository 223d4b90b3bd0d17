"""Dreamer: runs (or only plans) a dream for one user, records it, lists and undoes runs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence

from ogmem.commit.writer import ContextWriter
from ogmem.core import errors
from ogmem.core.models import OutboxEvent, RequestContext, utcnow
from ogmem.core.ports import Store
from ogmem.core.storage import UnitOfWork
from ogmem.core.storage_dreams import DreamStore
from ogmem.dream.apply import Applier, Pipeline, undo
from ogmem.dream.models import DreamRun, RunStatus, Step
from ogmem.dream.planner import Plan, Planner
from ogmem.dream.trigger import context_of

logger = logging.getLogger(__name__)


def new_run_id() -> str:
    return f"dream-{utcnow():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"


class Dreamer:
    def __init__(
        self,
        planner: Planner,
        applier: Applier,
        writer: ContextWriter,
        store: Store,
        uow: UnitOfWork,
        dreams: DreamStore,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.planner = planner
        self._applier, self._writer, self._store = applier, writer, store
        self._uow, self._dreams, self._wake = uow, dreams, wake

    def plan(self, ctx: RequestContext) -> Plan:
        """What a run would do now; reads only (the LLM is asked when one is configured)."""
        return self.planner.plan(ctx)

    def run(
        self, ctx: RequestContext, *, trigger: str = "api", dry_run: bool = False,
        run_id: str | None = None,
    ) -> DreamRun:  # fmt: skip
        """Plan, then apply each step (one transaction per step, its record included). A
        ``dry_run`` returns the plan as a run and writes nothing. Runs again under the same
        ``run_id`` (a retried job) keep the steps applied before."""
        started = utcnow()
        run = DreamRun(
            ctx.account_id, run_id or new_run_id(), ctx.user_id, trigger, RunStatus.RUNNING,
            started, dry_run=dry_run,
        )  # fmt: skip
        plan = self.planner.plan(ctx)
        if dry_run:
            return run.evolve(steps=tuple(plan.steps), status=RunStatus.DONE, finished_at=utcnow())
        earlier = self._dreams.find_run(ctx.account_id, run.run_id)
        if earlier is not None:
            kept = DreamRun.from_record(earlier).steps
            run = run.evolve(started_at=earlier.started_at, steps=kept)
        self._dreams.save_run(run.record())
        try:
            for step in plan.steps:
                run = self._apply(ctx, run, step)
        except Exception as exc:
            failed = run.evolve(status=RunStatus.FAILED, finished_at=utcnow(), error=str(exc))
            self._dreams.save_run(failed.record())
            raise
        run = run.evolve(status=RunStatus.DONE, finished_at=utcnow(), error="; ".join(plan.notes))
        self._dreams.save_run(run.record())
        self._wake()
        logger.info("dream %s for %s: %s", run.run_id, ctx.user_id, run.counts())
        return run

    def _apply(self, ctx: RequestContext, run: DreamRun, step: Step) -> DreamRun:
        """Apply one step, recorded in its transaction; a step that cannot apply (its
        memories changed since the plan, the writer refused) is recorded as failed."""
        pipeline = Pipeline(self._writer, self._store, self._uow, ctx, run.run_id)

        def record(done: Step) -> None:
            self._dreams.save_run(run.evolve(steps=(*run.steps, done)).record())

        try:
            done = self._applier.apply(pipeline, step, record)
        except (errors.Conflict, errors.NotFound, errors.InvalidInput) as exc:
            logger.info("dream %s: step on %s failed: %s", run.run_id, step.survivor, exc)
            done = step.evolve(status="failed", error=f"{type(exc).__name__}: {exc}")
            record(done)
        return run.evolve(steps=(*run.steps, done))

    # -- history ------------------------------------------------------------------------------

    def history(self, ctx: RequestContext, limit: int = 20) -> list[DreamRun]:
        found = self._dreams.list_runs(ctx.account_id, ctx.user_id, limit)
        return [DreamRun.from_record(record) for record in found]

    def get(self, ctx: RequestContext, run_id: str) -> DreamRun:
        record = self._dreams.find_run(ctx.account_id, run_id)
        if record is None or record.user_id != ctx.user_id:
            raise errors.NotFound(f"no dream run {run_id} of user {ctx.user_id}")
        return DreamRun.from_record(record)

    def undo(
        self, ctx: RequestContext, run_id: str, steps: Sequence[int] | None = None
    ) -> DreamRun:
        """Undo applied steps of a run (all of them, or those numbered, from 0), newest first:
        each node put back as it was, through the writer, and the step marked undone.

        Raises:
            errors.NotFound: no such run of the user.
            errors.InvalidInput: a step number the run does not have, or one not applied.
            errors.ConcurrentModificationError: a node was written since the step.
        """
        run = self.get(ctx, run_id)
        chosen = self._undoable(run, steps)
        pipeline = Pipeline(self._writer, self._store, self._uow, ctx, run.run_id)
        for number in sorted(chosen, reverse=True):
            with self._uow.transaction():
                undo(pipeline, run.steps[number])
                listed = list(run.steps)
                listed[number] = listed[number].evolve(status="undone")
                run = run.evolve(steps=tuple(listed))
                self._dreams.save_run(run.record())
        self._wake()
        return run

    @staticmethod
    def _undoable(run: DreamRun, steps: Sequence[int] | None) -> list[int]:
        if steps is None:
            return [i for i, s in enumerate(run.steps) if s.status == "applied"]
        for number in steps:
            if not 0 <= number < len(run.steps):
                raise errors.InvalidInput(
                    f"run {run.run_id} has steps 0 to {len(run.steps) - 1}, not {number}"
                )
            if run.steps[number].status != "applied":
                raise errors.InvalidInput(
                    f"step {number} of run {run.run_id} is {run.steps[number].status}, "
                    "not applied: nothing to undo"
                )
        return list(dict.fromkeys(steps))

    def run_event(self, event: OutboxEvent) -> DreamRun:
        """The worker's job for a DREAM event; its run id follows the event, so a retried
        job continues the record of the attempt that failed."""
        trigger = str(event.payload.get("trigger") or "job")
        return self.run(context_of(event), trigger=trigger, run_id=f"job-{event.id}")
