"""The ``ogmem`` command: thin commands, each calling one Engine method."""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from ogmem import (
    cli_add,
    cli_common,
    cli_copy,
    cli_data,
    cli_root,
    cli_server,
    cli_sessions,
    threads,
    wiring,
)
from ogmem.cli_common import AccountOpt, AgentOpt, JsonOpt, UserOpt
from ogmem.core import errors
from ogmem.core.models import ContextNode, RequestContext
from ogmem.dream import cli as dream_cli
from ogmem.engine import Engine
from ogmem.index.worker import WorkerStats
from ogmem.retrieval.relevance import COMPOSE_MIN_SCORE
from ogmem.settings import Settings
from ogmem.store import open_backend

app = typer.Typer(
    help="ogmem: long-term memory for AI agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)  # long lines (URIs, errors) stay whole, never cut or wrapped


@app.callback()
def _before_command(
    account: AccountOpt = None,
    user: UserOpt = None,
    agent: AgentOpt = None,
    version: cli_root.VersionOpt = False,
) -> None:
    """ogmem: long-term memory for AI agents. --account/--user/--agent may come before the
    command too (ogmem --user bob ls)."""
    cli_common.before_command.update(account=account, user=user, agent=agent)
    threads.limit_blas_threads()


def _engine(worker: bool = False) -> Engine:
    return wiring.open_engine(Settings.from_env(), worker=worker)


def _catch_up(engine: Engine, ctx: RequestContext) -> None:
    """Embedded use has no separate worker: index what is pending before reading the index."""
    if engine.outbox_stats(ctx).get("PENDING"):
        engine.drain()


def _node_json(node: ContextNode) -> dict[str, Any]:
    return {
        "uri": node.uri, "category": node.category, "context_type": node.context_type.value,
        "status": node.status.value, "version": node.version, "abstract": node.abstract,
        "overview": node.overview, "content": node.content, "metadata": dict(node.metadata),
        "created_at": node.created_at.isoformat(), "updated_at": node.updated_at.isoformat(),
        **_times(node),
    }  # fmt: skip


def _times(node: ContextNode) -> dict[str, str]:
    """The node's validity and expiry, those it has."""
    named = {"valid_from": node.valid_from, "valid_to": node.valid_to,
             "expires_at": node.expires_at}  # fmt: skip
    return {name: moment.isoformat() for name, moment in named.items() if moment is not None}


@app.command()
def demo(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where to create demo.sqlite.")
    ] = None,
) -> None:
    """Write, merge and archive a scripted user's memories; print the tree and the outbox."""
    from ogmem import demo as demo_module

    demo_module.run_demo(data_dir or Settings.from_env().data_dir, console)


@app.command()
def ls(
    uri: Annotated[
        str | None, typer.Argument(help="Directory URI (default: the account root).")
    ] = None,
    account: AccountOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the children of a directory: full URIs (paste them into `ogmem cat`), abstracts."""
    ctx = cli_common.who(account, user)
    with cli_common.engine(embedder=False) as engine:
        entries = engine.ls(uri, ctx)
        if as_json:
            cli_common.print_json(
                [{"uri": e.uri, "is_dir": e.is_dir,
                  "node": _node_json(e.node) if e.node else None} for e in entries]
            )  # fmt: skip
            return
        if not entries:
            cli_common.nothing_found(engine, ctx, f"entries under {uri or 'the account root'}")
        for entry in entries:
            suffix = "/" if entry.is_dir else ""
            node = entry.node
            detail = f"  v{node.version} {node.status.value}  {node.abstract}" if node else ""
            console.print(f"{entry.uri}{suffix}{detail}", markup=False, highlight=False)


AsOfOpt = Annotated[
    datetime | None,
    typer.Option("--as-of", help="What held then: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC)."),
]


@app.command()
def cat(
    uri: str,
    account: AccountOpt = None,
    user: UserOpt = None,
    as_json: JsonOpt = False,
    as_of: AsOfOpt = None,
) -> None:
    """Print a node: its three levels and metadata (with --as-of, the fact it held then)."""
    with cli_common.engine(embedder=False) as engine:
        node = engine.read(uri, cli_common.who(account, user), as_of=as_of)
    if as_json:
        cli_common.print_json(_node_json(node))
        return
    console.print(f"[bold]{node.uri}[/] v{node.version} {node.status.value} ({node.category})")
    for name, moment in _times(node).items():
        console.print(f"[bold]{name}[/]  {moment}")
    console.print(f"[bold]abstract[/]  {node.abstract}\n[bold]overview[/]  {node.overview}")
    console.print(f"[bold]content[/]\n{node.content}\n[bold]metadata[/] {dict(node.metadata)}")


@app.command()
def history(
    uri: str, account: AccountOpt = None, user: UserOpt = None, as_json: JsonOpt = False
) -> None:
    """Print every version of a node."""
    with cli_common.engine(embedder=False) as engine:
        versions = engine.history(uri, cli_common.who(account, user))
    if as_json:
        cli_common.print_json(
            [{"action": v.action, "written_at": v.written_at.isoformat(), **_node_json(v.node)}
             for v in versions]
        )  # fmt: skip
        return
    table = Table("v", "action", "status", "written_at", "abstract", title=uri)
    for entry in versions:
        node = entry.node
        table.add_row(
            str(node.version),
            entry.action,
            node.status.value,
            entry.written_at.isoformat(),
            node.abstract,
        )
    console.print(table)


SessionsOpt = Annotated[
    bool, typer.Option("--sessions", help="Also session archives (raw transcripts).")
]


@app.command()
def search(
    query: str,
    account: AccountOpt = None,
    user: UserOpt = None,
    agent: AgentOpt = None,
    limit: Annotated[int, typer.Option(help="How many results.")] = 10,
    category: Annotated[list[str] | None, typer.Option(help="Only these categories.")] = None,
    sessions: SessionsOpt = False,
    min_score: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Leave out results less relevant than this.")
    ] = 0.0,
    as_json: JsonOpt = False,
    as_of: AsOfOpt = None,
) -> None:
    """Hybrid search (vectors + BM25) over the user's and agent's memories; each result's
    score is its relevance, from 0 to 1; facts valid now (or --as-of) first, superseded ones
    marked."""
    ctx = cli_common.who(account, user, agent)
    with _engine() as engine:
        _catch_up(engine, ctx)
        result = engine.search(
            query, ctx, categories=category, limit=limit, include_sessions=sessions,
            min_score=min_score, as_of=as_of,
        )  # fmt: skip
        if as_json:
            cli_common.print_json(
                {"query": query, "took_ms": result.took_ms,
                 "hits": [{"uri": h.uri, "score": h.score, "category": h.category,
                           "abstract": h.abstract, "why": h.why, "superseded": h.superseded}
                          for h in result.hits]}
            )  # fmt: skip
            return
        if not result.hits:
            cli_common.nothing_found(engine, ctx, "results")
            return
    # whole URIs on their own lines: a table would cut them, and they are made to be pasted
    console.print(f"{len(result.hits)} results in {result.took_ms:.1f} ms", highlight=False)
    for hit in result.hits:
        mark = f"  (superseded {hit.valid_to:%Y-%m-%d})" if hit.superseded and hit.valid_to else ""
        console.print(f"{hit.score:.4f}  {hit.uri}{mark}", markup=False, highlight=False)
        console.print(f"        {hit.abstract}", markup=False, highlight=False)
        console.print(f"        [dim]{escape(hit.why)}[/]", highlight=False)


@app.command()
def compose(
    query: str,
    account: AccountOpt = None,
    user: UserOpt = None,
    agent: AgentOpt = None,
    budget: Annotated[int, typer.Option(help="Token budget of the block.")] = 2000,
    sessions: SessionsOpt = False,
    min_score: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Draw only on memories this relevant.")
    ] = COMPOSE_MIN_SCORE,
    as_json: JsonOpt = False,
) -> None:
    """Print the context block for a query, within the token budget."""
    ctx = cli_common.who(account, user, agent)
    with _engine() as engine:
        _catch_up(engine, ctx)
        block = engine.compose(query, ctx, budget, include_sessions=sessions, min_score=min_score)
        if as_json:
            cli_common.print_json(dataclasses.asdict(block))
            return
        if not block.uris:
            cli_common.nothing_found(engine, ctx, "memories")
            return
    console.print(block.text, markup=False, highlight=False)
    console.print(f"[dim]{block.tokens} of {block.budget} tokens; {len(block.uris)} memories[/]")


@app.command()
def worker(
    poll: Annotated[float, typer.Option(help="Seconds between polls when idle.")] = 1.0,
) -> None:
    """Run the outbox worker in this process until SIGTERM / Ctrl-C."""
    with _engine() as engine:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop_soon(engine))
        console.print(f"worker {engine.worker_id} on {engine.describe_store()}")

        def report(stats: WorkerStats) -> None:
            done, retried, dead = stats.done, stats.retried, stats.dead_lettered
            console.print(f"{stats.claimed} events: {done} done, {retried} retried, {dead} DLQ")

        engine.run_worker(report, poll_interval=poll)
    console.print("worker stopped")


def stop_soon(engine: Engine) -> Callable[..., None]:
    """A signal handler that asks the worker to stop from a thread of its own. Python runs a
    handler in the main thread between two bytecodes, and ``ogmem worker`` runs the worker in
    the main thread: a signal that lands while it holds one of the worker's locks (inside an
    Event's clear or wait) would have the handler wait for that lock forever, and the worker
    never stopped (seen once in a loaded CI run)."""

    def handler(*_: object) -> None:
        threading.Thread(target=engine.stop_worker, name="ogmem-stop", daemon=True).start()

    return handler


@app.command()
def migrate() -> None:
    """Create or upgrade the store of OGMEM_STORE (every open does it too; run this first to
    upgrade a shared PostgreSQL before starting new servers)."""
    backend = open_backend(Settings.from_env().store)
    try:
        console.print(f"{backend.uow.describe()}: schema version {backend.uow.schema_version()}")
    finally:
        backend.close()


@app.command()
def reindex(account: Annotated[str | None, typer.Option(help="Only this account.")] = None) -> None:
    """Re-embed every node (after a change of embedder), with a progress bar."""
    with _engine() as engine, Progress() as progress:
        task = progress.add_task("reindexing", total=None)
        count = engine.reindex(
            account, lambda done, total: progress.update(task, completed=done, total=total)
        )
    console.print(f"reindexed {count} nodes")


@app.command()
def repair(account: Annotated[str | None, typer.Option(help="Only this account.")] = None) -> None:
    """Re-enqueue nodes whose index lags; drop index records of vanished nodes."""
    with _engine() as engine:
        report = engine.repair(account)
    console.print(f"re-enqueued {report.requeued} nodes, removed records of {report.removed}")


app.command()(cli_sessions.ingest)
app.command()(cli_sessions.sessions)
app.command()(cli_sessions.commit)
app.add_typer(cli_sessions.eval_app, name="eval")
app.command()(cli_server.serve)
app.command()(cli_copy.copy)
app.command()(cli_server.mcp)
app.add_typer(cli_server.keys_app, name="keys")
app.command()(cli_add.add)
app.command("forget-user")(cli_data.forget_user)
app.command()(cli_data.export)
app.command("import")(cli_data.import_)
app.command()(dream_cli.dream)


def main() -> None:
    try:
        app()
    except errors.OgmemError as exc:
        # escaped: a message may hold brackets ("pip install 'ogmem[server]'"); one line
        console.print(f"[red]error:[/] {escape(str(exc))}")
        raise SystemExit(2) from exc
    except OSError as exc:  # a file the user named: one line naming it, not a traceback
        where = f": {exc.filename}" if exc.filename else ""
        console.print(f"[red]error:[/] {escape((exc.strerror or str(exc)) + where)}")
        raise SystemExit(2) from exc
