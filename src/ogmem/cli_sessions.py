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

from ogmem import cli_common, wiring
from ogmem.cli_common import AccountOpt, UserOpt
from ogmem.core import errors
from ogmem.core.models import Message, RequestContext, SessionState, SessionStatus
from ogmem.engine import Engine
from ogmem.eval import locomo, locomo_data
from ogmem.settings import Settings

console = Console(soft_wrap=True)  # long lines (URIs, errors) stay whole, never cut or wrapped


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


def _read_json(file: Path) -> Any:
    """The file's JSON; a missing file or bad JSON is one line naming the file."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise errors.InvalidInput(f"cannot read {file}: {reason or exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise errors.InvalidInput(
            f"{file} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from exc


def ingest(
    file: Path,
    account: AccountOpt = None,
    user: UserOpt = None,
    commit: Annotated[bool, typer.Option(help="Commit each session after ingesting it.")] = True,
) -> None:
    """Ingest a JSON conversation ({session_id, user_id, messages: [...]}, or a list of them)
    or a LoCoMo file (one user per conversation)."""
    data = _read_json(file)
    who = cli_common.who(account, user)
    is_locomo = isinstance(data, list) and data and isinstance(data[0], dict) and "qa" in data[0]
    failed: list[str] = []
    with cli_common.engine() as engine:
        written_before = engine.stats().outcomes["written"]
        with Progress(console=console) as progress:
            if is_locomo:
                conversations = locomo_data.load(file)
                task = progress.add_task("ingesting LoCoMo", total=len(conversations))
                sessions = sum(len(c.sessions) for c in conversations)
                messages = 0
                for conversation in conversations:
                    messages += locomo.ingest_conversation(engine, conversation)
                    progress.advance(task)
            else:
                items = _conversations(data, who.user_id)
                sessions, messages = len(items), sum(len(m) for _, m in items)
                task = progress.add_task("ingesting", total=len(items))
                for ctx, said in items:
                    ctx = dataclasses.replace(
                        ctx, account_id=who.account_id if ctx.account_id == "default"
                        else ctx.account_id,
                    )  # fmt: skip
                    engine.ingest(said, ctx)
                    if commit and not _committed(engine, ctx):
                        failed.append(ctx.session_id or "")
                    progress.advance(task)
            engine.drain()
        written = engine.stats().outcomes["written"] - written_before
    console.print(
        f"ingested {sessions} sessions, {messages} messages; {written} memories written"
        + ("" if commit else " (not committed: ogmem commit SESSION)")
        + (
            f"; {len(failed)} commits failed, retries scheduled: {', '.join(failed)}"
            if failed
            else ""
        ),
        highlight=False,
    )
    if failed:
        raise typer.Exit(1)


def _committed(engine: Engine, ctx: RequestContext) -> bool:
    try:
        engine.commit(ctx.session_id or "", ctx, wait=True)
    except errors.CommitFailed as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        return False
    return True


def _session_table(states: list[SessionState]) -> Table:
    table = Table(title=f"{len(states)} sessions", title_justify="left")
    table.add_column("session", no_wrap=True)  # an id to paste into `ogmem commit`: whole
    table.add_column("user", no_wrap=True)
    table.add_column("status")
    table.add_column("msgs", justify="right")
    table.add_column("prop/writ/skip/fail", no_wrap=True)
    table.add_column("reason / error", overflow="fold", ratio=1)
    for s in states:
        counts = f"{s.proposed}/{s.written}/{s.skipped}/{s.failed}"
        detail = s.last_error or s.last_reason or ""
        extra = [f"{s.attempts} attempts"] if s.attempts else []
        extra += [f"{s.llm_tokens} LLM tokens"] if s.llm_tokens else []
        if extra:
            detail = f"{detail} ({', '.join(extra)})"
        table.add_row(s.session_id, s.user_id, s.status.value, str(s.messages), counts, detail)
    return table


def _session_json(state: SessionState) -> dict[str, Any]:
    return {
        key: value.value if isinstance(value, SessionStatus) else value
        for key, value in dataclasses.asdict(state).items()
    }


def sessions(
    account: AccountOpt = None,
    user: UserOpt = None,
    all_users: bool = False,
    as_json: cli_common.JsonOpt = False,
) -> None:
    """Status of the sessions: buffered messages, commits, what was written or why not."""
    ctx = cli_common.who(account, user)
    with cli_common.engine(embedder=False) as engine:
        states = engine.list_sessions(ctx, all_users=all_users)
        if as_json:
            cli_common.print_json([_session_json(s) for s in states])
            return
        if not states:
            cli_common.nothing_found(engine, ctx, "sessions")
            return
    console.print(_session_table(states))


def commit(
    session_id: str,
    account: AccountOpt = None,
    user: UserOpt = None,
    wait: Annotated[bool, typer.Option(help="Commit now instead of queueing a job.")] = True,
) -> None:
    """Commit (or retry) a session: extract and write its memories. Without --user, the
    session's own user."""
    ctx = cli_common.who(account, user, session_id=session_id)
    with cli_common.engine() as engine:
        if not cli_common.user_given(user):
            owner = engine.session_owner(session_id, ctx)
            if owner is None:
                cli_common.nothing_found(engine, ctx, f"session {session_id!r} (any user)")
                raise typer.Exit(1)
            ctx = dataclasses.replace(ctx, user_id=owner)
        try:
            state = engine.commit(session_id, ctx, wait=wait)
        except errors.CommitFailed as exc:
            console.print(_session_table([engine.session(session_id, ctx)]))
            console.print(f"[red]error:[/] {exc}", highlight=False)
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
    extractor: Annotated[
        str,
        typer.Option(
            help="configured: the configured LLM, else raw mode; replay: LLM extraction with "
            "the file's annotations replayed as the model's answers (turns by after_turn)."
        ),
    ] = "configured",
) -> None:
    """Retrieval recall@k / hit@k per category on LoCoMo; J score when an LLM is configured."""
    import tempfile

    from ogmem.eval import locomo_replay

    if extractor not in ("configured", "replay"):
        raise typer.BadParameter("must be configured or replay", param_hint="--extractor")
    settings = Settings.from_env()
    conversations = locomo_data.load(data)
    replay = locomo_replay.replay_llm(data) if extractor == "replay" else None
    with tempfile.TemporaryDirectory(prefix="ogmem-eval-") as tmp:
        path = str(store or Path(tmp) / "locomo.sqlite")
        settings = dataclasses.replace(settings, store=path)
        with (
            wiring.open_engine(settings, llm=replay) as engine,
            Progress(console=console) as progress,
        ):
            task = progress.add_task("LoCoMo", total=len(conversations) * 2)
            report = locomo.evaluate(
                engine, conversations, k or locomo.DEFAULT_KS,
                judge=None if replay else engine.llm, turn_by_turn=replay is not None,
                progress=lambda *_: progress.advance(task),
            )  # fmt: skip
    console.print(report_table(report))
    console.print(
        f"search p50 {report.search_p50_ms:.1f} ms, p95 {report.search_p95_ms:.1f} ms; "
        f"ingest {report.ingest_s:.1f} s for {report.messages} messages ({report.mode} mode); "
        f"{report.unresolvable_evidence} unresolvable evidence ids; {report.qa}"
    )
    if report.memories:
        counts = ", ".join(f"{n} {name}" for name, n in sorted(report.memories.items()))
        console.print(f"memories: {counts}")
    if json_out:
        json_out.write_text(json.dumps(report.as_dict(), indent=2))


def report_table(report: locomo.EvalReport) -> Table:
    columns = [f"R@{k}" for k in report.ks] + [f"H@{k}" for k in report.ks]
    columns += [f"session_R@{k}" for k in locomo.SESSION_KS]
    if "J" in report.overall:
        columns.append("J")
    table = Table("category", "questions", *columns, title="LoCoMo evidence recall")
    for name, figures in [*report.by_category.items(), ("overall", report.overall)]:
        table.add_row(name, str(int(figures["questions"])), *(f"{figures[c]:.3f}" for c in columns))
    return table
