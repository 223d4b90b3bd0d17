"""CLI commands for conversations: ingest, sessions, commit, eval."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ogmem import wiring
from ogmem.core import errors
from ogmem.core.models import Message, RequestContext, SessionState
from ogmem.engine import Engine
from ogmem.eval import locomo, locomo_data
from ogmem.settings import Settings

console = Console()
AccountOpt = Annotated[str, typer.Option("--account", help="Account (tenant) id.")]
UserOpt = Annotated[str, typer.Option("--user", help="User id.")]


def _engine() -> Engine:
    return wiring.open_engine(Settings.from_env())


def _message(raw: dict[str, Any], index: int) -> Message:
    try:
        created = raw.get("created_at")
        return Message(
            role=str(raw.get("role", "user")),
            content=str(raw["content"]),
            created_at=datetime.fromisoformat(created) if created else datetime.now().astimezone(),
            message_id=str(raw["message_id"]) if raw.get("message_id") else None,
            name=raw.get("name"),
        )
    except (KeyError, ValueError) as exc:
        raise errors.InvalidInput(f"messages[{index}]: {exc}") from exc


def _conversations(data: Any, user: str) -> list[tuple[RequestContext, list[Message]]]:
    items = data if isinstance(data, list) else [data]
    out = []
    for number, item in enumerate(items):
        if not isinstance(item, dict) or "messages" not in item:
            raise errors.InvalidInput(f"conversation {number}: expected an object with 'messages'")
        session_id = str(item.get("session_id") or f"import-{number}")
        ctx = RequestContext(str(item.get("account_id", "default")), str(item.get("user_id", user)),
                             item.get("agent_id"), session_id)  # fmt: skip
        out.append((ctx, [_message(m, i) for i, m in enumerate(item["messages"])]))
    return out


def ingest(
    file: Path,
    account: AccountOpt = "default",
    user: UserOpt = "default",
    commit: Annotated[bool, typer.Option(help="Commit each session after ingesting it.")] = True,
) -> None:
    """Ingest a JSON conversation ({session_id, user_id, messages: [...]}, or a list of them)
    or a LoCoMo file (one user per conversation)."""
    data = json.loads(file.read_text())
    is_locomo = isinstance(data, list) and data and isinstance(data[0], dict) and "qa" in data[0]
    with _engine() as engine, Progress(console=console) as progress:
        if is_locomo:
            conversations = locomo_data.load(file)
            task = progress.add_task("ingesting LoCoMo", total=len(conversations))
            for conversation in conversations:
                locomo.ingest_conversation(engine, conversation)
                progress.advance(task)
            return
        items = _conversations(data, user)
        task = progress.add_task("ingesting", total=len(items))
        for ctx, messages in items:
            ctx = RequestContext(account if ctx.account_id == "default" else ctx.account_id,
                                 ctx.user_id, ctx.agent_id, ctx.session_id)  # fmt: skip
            engine.ingest(messages, ctx)
            if commit:
                engine.commit(ctx.session_id or "", ctx, wait=True)
            progress.advance(task)
        engine.drain()


def _session_table(states: list[SessionState]) -> Table:
    columns = ("session", "user", "status", "msgs", "proposed", "written", "skipped", "failed")
    table = Table(*columns, "tokens", "attempts", "reason / error", title=f"{len(states)} sessions")
    for s in states:
        counts = (s.messages, s.proposed, s.written, s.skipped, s.failed, s.llm_tokens, s.attempts)
        detail = s.last_error or s.last_reason or ""
        table.add_row(s.session_id, s.user_id, s.status.value, *map(str, counts), detail)
    return table


def sessions(
    account: AccountOpt = "default", user: UserOpt = "default", all_users: bool = False
) -> None:
    """Status of the sessions: buffered messages, commits, what was written or why not."""
    with _engine() as engine:
        console.print(
            _session_table(engine.list_sessions(RequestContext(account, user), all_users=all_users))
        )


def commit(
    session_id: str,
    account: AccountOpt = "default",
    user: UserOpt = "default",
    wait: Annotated[bool, typer.Option(help="Commit now instead of queueing a job.")] = True,
) -> None:
    """Commit (or retry) a session: extract and write its memories."""
    with _engine() as engine:
        ctx = RequestContext(account, user, session_id=session_id)
        try:
            state = engine.commit(session_id, ctx, wait=wait)
        except errors.CommitFailed as exc:
            console.print(_session_table([engine.session(session_id, ctx)]))
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(1) from exc
        if wait:
            engine.drain()
        console.print(_session_table([state]))
        if state.status.value == "failed":
            raise typer.Exit(1)


eval_app = typer.Typer(help="Evaluations.", no_args_is_help=True)


@eval_app.command("locomo")
def eval_locomo(
    data: Annotated[Path, typer.Option("--data", help="A LoCoMo JSON file.")],
    k: Annotated[list[int] | None, typer.Option("--k", help="Cut-offs (repeat).")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the report here.")] = None,
    store: Annotated[
        Path | None, typer.Option(help="Store file (default: a fresh temp file).")
    ] = None,
) -> None:
    """Retrieval recall@k / hit@k per category on LoCoMo; J score when an LLM is configured."""
    import tempfile

    settings = Settings.from_env()
    conversations = locomo_data.load(data)
    with tempfile.TemporaryDirectory(prefix="ogmem-eval-") as tmp:
        path = str(store or Path(tmp) / "locomo.sqlite")
        settings = dataclasses.replace(settings, store=path)
        with wiring.open_engine(settings) as engine, Progress(console=console) as progress:
            task = progress.add_task("LoCoMo", total=len(conversations) * 2)
            report = locomo.evaluate(
                engine, conversations, k or locomo.DEFAULT_KS, judge=engine.llm,
                progress=lambda *_: progress.advance(task),
            )  # fmt: skip
    console.print(report_table(report))
    console.print(
        f"search p50 {report.search_p50_ms:.1f} ms, p95 {report.search_p95_ms:.1f} ms; "
        f"ingest {report.ingest_s:.1f} s for {report.messages} messages ({report.mode} mode); "
        f"{report.unresolvable_evidence} unresolvable evidence ids; {report.qa}"
    )
    if json_out:
        json_out.write_text(json.dumps(report.as_dict(), indent=2))


def report_table(report: locomo.EvalReport) -> Table:
    columns = [f"R@{k}" for k in report.ks] + [f"H@{k}" for k in report.ks]
    if "J" in report.overall:
        columns.append("J")
    table = Table("category", "questions", *columns, title="LoCoMo evidence recall")
    for name, figures in [*report.by_category.items(), ("overall", report.overall)]:
        table.add_row(name, str(int(figures["questions"])), *(f"{figures[c]:.3f}" for c in columns))
    return table
