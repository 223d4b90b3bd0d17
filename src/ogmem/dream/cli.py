"""``ogmem dream``: run, plan (--dry-run), queue, list (--history), show and undo dreams."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from ogmem import cli_common
from ogmem.cli_common import AccountOpt, AgentOpt, JsonOpt, UserOpt, console
from ogmem.dream.models import DreamRun

DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Print the plan; write nothing.")]
HistoryOpt = Annotated[bool, typer.Option("--history", help="List the user's past runs.")]
ShowOpt = Annotated[str | None, typer.Option("--show", help="Print one run with its steps.")]
UndoOpt = Annotated[str | None, typer.Option("--undo", help="Undo a run (every step, or --step).")]
StepOpt = Annotated[
    list[int] | None, typer.Option("--step", help="With --undo: only this step (repeat).")
]
QueueOpt = Annotated[
    bool, typer.Option("--queue", help="Queue the job for a worker instead of running it now.")
]


def run_json(run: DreamRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id, "user_id": run.user_id, "trigger": run.trigger,
        "status": run.status.value, "dry_run": run.dry_run,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "counts": run.counts(), "notes": run.error, "steps": [s.as_dict() for s in run.steps],
    }  # fmt: skip


def _say(text: str) -> None:
    console.print(text, markup=False, highlight=False)


def _counts(run: DreamRun) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in sorted(run.counts().items())) or "no step"


def _print_run(run: DreamRun) -> None:
    """One block per step; URIs whole on their own lines (a table would cut them)."""
    what = "plan (dry run: nothing written)" if run.dry_run else f"run {run.run_id}"
    done = f"{len(run.steps)} steps planned" if run.dry_run else f"{_counts(run)} applied"
    _say(f"dream {what} for {run.user_id}: {run.status.value}, {done}")
    if run.error:
        _say(f"note: {run.error}")
    if not run.steps:
        _say("nothing to do: no duplicates, contradictions or patterns found")
    keep = {"merge": "keep", "supersede": "newer", "pattern": "create"}
    gone = {"merge": "absorb", "supersede": "older", "pattern": "cites"}
    for number, step in enumerate(run.steps):
        _say(f"#{number} {step.kind.value} ({step.status})")
        _say(f"   {keep[step.kind.value]:<7} {step.survivor}")
        for absorbed in step.absorbed:
            _say(f"   {gone[step.kind.value]:<7} {absorbed}")
        _say(f"   why     {step.reason}" + (f" [{step.error}]" if step.error else ""))


def _print_history(runs: list[DreamRun]) -> None:
    for run in runs:
        started = run.started_at.isoformat(timespec="seconds")
        _say(f"{run.run_id}  {started}  {run.status.value:<7} {_counts(run)}  ({run.trigger})")


def dream(
    account: AccountOpt = None,
    user: UserOpt = None,
    agent: AgentOpt = None,
    dry_run: DryRunOpt = False,
    history: HistoryOpt = False,
    show: ShowOpt = None,
    undo: UndoOpt = None,
    step: StepOpt = None,
    queue: QueueOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Consolidate a user's memories: merge near-duplicates, and with an LLM supersede
    contradictions and learn patterns (with --agent). Every run is recorded and undoable."""
    ctx = cli_common.who(account, user, agent)
    with cli_common.engine() as engine:
        dreamer = engine.dreaming.dreamer
        if history:
            runs = dreamer.history(ctx)
            if as_json:
                cli_common.print_json([run_json(r) for r in runs])
            elif not runs:
                cli_common.nothing_found(engine, ctx, "dream runs")
            else:
                _print_history(runs)
            return
        if queue:
            engine.dreaming.trigger.request(ctx, "cli")
            console.print(f"dream of {ctx.user_id} queued: a worker runs it", highlight=False)
            return
        if show or dry_run:  # reads only (a memory not indexed yet is embedded for the plan)
            run = dreamer.get(ctx, show) if show else dreamer.run(ctx, dry_run=True)
        else:
            engine.drain()  # embedded: index what is pending, so the plan sees current vectors
            run = dreamer.undo(ctx, undo, step) if undo else dreamer.run(ctx, trigger="cli")
            engine.drain()  # and what the run wrote, so search sees it at once
    if as_json:
        cli_common.print_json(run_json(run))
    else:
        _print_run(run)
