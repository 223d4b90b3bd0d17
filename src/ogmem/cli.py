"""The ``ogmem`` command: thin commands, each calling one Engine method."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ogmem import cli_server, cli_sessions, wiring
from ogmem.core import errors
from ogmem.core.models import RequestContext
from ogmem.engine import Engine
from ogmem.index.worker import WorkerStats
from ogmem.settings import Settings
from ogmem.store import open_backend

app = typer.Typer(
    help="ogmem: long-term memory for AI agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()

AccountOpt = Annotated[str, typer.Option("--account", help="Account (tenant) id.")]
UserOpt = Annotated[str, typer.Option("--user", help="User id.")]


def _engine(worker: bool = False) -> Engine:
    return wiring.open_engine(Settings.from_env(), worker=worker)


def _ctx(account: str, user: str, agent: str | None = None) -> RequestContext:
    return RequestContext(account, user, agent_id=agent)


def _catch_up(engine: Engine, ctx: RequestContext) -> None:
    """Embedded use has no separate worker: index what is pending before reading the index."""
    if engine.outbox_stats(ctx).get("PENDING"):
        engine.drain()


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
    account: AccountOpt = "default",
    user: UserOpt = "default",
) -> None:
    """List the children of a directory."""
    with _engine() as engine:
        for entry in engine.ls(uri, RequestContext(account, user)):
            suffix = "/" if entry.is_dir else ""
            version = f"  v{entry.node.version} {entry.node.status.value}" if entry.node else ""
            console.print(f"{entry.uri}{suffix}{version}")


@app.command()
def cat(uri: str, account: AccountOpt = "default", user: UserOpt = "default") -> None:
    """Print a node: its three levels and metadata."""
    with _engine() as engine:
        node = engine.read(uri, RequestContext(account, user))
    console.print(f"[bold]{node.uri}[/] v{node.version} {node.status.value} ({node.category})")
    console.print(f"[bold]abstract[/]  {node.abstract}\n[bold]overview[/]  {node.overview}")
    console.print(f"[bold]content[/]\n{node.content}\n[bold]metadata[/] {dict(node.metadata)}")


@app.command()
def history(uri: str, account: AccountOpt = "default", user: UserOpt = "default") -> None:
    """Print every version of a node."""
    with _engine() as engine:
        versions = engine.history(uri, RequestContext(account, user))
    table = Table("v", "action", "status", "written_at", "abstract")
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


AgentOpt = Annotated[str | None, typer.Option("--agent", help="Agent id (agent memories).")]
SessionsOpt = Annotated[
    bool, typer.Option("--sessions", help="Also session archives (raw transcripts).")
]


@app.command()
def search(
    query: str,
    account: AccountOpt = "default",
    user: UserOpt = "default",
    agent: AgentOpt = None,
    limit: Annotated[int, typer.Option(help="How many results.")] = 10,
    category: Annotated[list[str] | None, typer.Option(help="Only these categories.")] = None,
    sessions: SessionsOpt = False,
) -> None:
    """Hybrid search (vectors + BM25) over the user's and agent's memories."""
    ctx = _ctx(account, user, agent)
    with _engine() as engine:
        _catch_up(engine, ctx)
        result = engine.search(
            query, ctx, categories=category, limit=limit, include_sessions=sessions
        )
    table = Table(
        "score",
        "uri",
        "abstract",
        "why",
        title=f"{len(result.hits)} results in {result.took_ms:.1f} ms",
    )
    for hit in result.hits:
        table.add_row(f"{hit.score:.4f}", hit.uri, hit.abstract, hit.why)
    console.print(table)


@app.command()
def compose(
    query: str,
    account: AccountOpt = "default",
    user: UserOpt = "default",
    agent: AgentOpt = None,
    budget: Annotated[int, typer.Option(help="Token budget of the block.")] = 2000,
    sessions: SessionsOpt = False,
) -> None:
    """Print the context block for a query, within the token budget."""
    ctx = _ctx(account, user, agent)
    with _engine() as engine:
        _catch_up(engine, ctx)
        block = engine.compose(query, ctx, budget, include_sessions=sessions)
    console.print(block.text, markup=False, highlight=False)
    console.print(f"[dim]{block.tokens} of {block.budget} tokens; {len(block.uris)} memories[/]")


@app.command()
def worker(
    poll: Annotated[float, typer.Option(help="Seconds between polls when idle.")] = 1.0,
) -> None:
    """Run the outbox worker in this process until SIGTERM / Ctrl-C."""
    with _engine() as engine:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: engine.stop_worker())
        console.print(f"worker {engine.worker_id} on {engine.describe_store()}")

        def report(stats: WorkerStats) -> None:
            done, retried, dead = stats.done, stats.retried, stats.dead_lettered
            console.print(f"{stats.claimed} events: {done} done, {retried} retried, {dead} DLQ")

        engine.run_worker(report, poll_interval=poll)
    console.print("worker stopped")


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
app.add_typer(cli_server.keys_app, name="keys")


@app.command()
def mcp(
    transport: Annotated[
        str, typer.Option(help="stdio (an agent starts ogmem) or http (streamable HTTP at /mcp).")
    ] = "stdio",
    host: Annotated[str, typer.Option(help="Interface for --transport http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for --transport http.")] = 8766,
) -> None:
    """Serve the memory tools over MCP; OGMEM_MCP_ACCOUNT/_USER/_AGENT choose whose memory."""
    from ogmem import mcp_server

    mcp_server.run(transport, host=host, port=port)


def main() -> None:
    try:
        app()
    except errors.OgmemError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise SystemExit(2) from exc
