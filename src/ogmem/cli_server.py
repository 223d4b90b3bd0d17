"""CLI commands of the HTTP edge: ``ogmem serve`` and ``ogmem keys create|list|revoke``."""

from __future__ import annotations

import dataclasses
import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ogmem import collector, extras, wiring
from ogmem.core import uri
from ogmem.keys import Keys
from ogmem.net import is_loopback
from ogmem.settings import Settings
from ogmem.store import open_backend

if TYPE_CHECKING:
    from fastapi import FastAPI
    from prometheus_client import CollectorRegistry

    from ogmem.engine import Engine

console = Console()
keys_app = typer.Typer(help="API keys of the HTTP server (stored hashed).", no_args_is_help=True)


@contextmanager
def _keys() -> Iterator[Keys]:
    # keys need only the store: no embedder to load, no worker to start
    backend = open_backend(Settings.from_env().store)
    try:
        yield Keys(backend.keys)
    finally:
        backend.close()


@keys_app.command("create")
def create_key(
    account: Annotated[str, typer.Option("--account", help="The account the key acts for.")],
    user: Annotated[
        str | None, typer.Option("--user", help="Bind the key to this user only.")
    ] = None,
    admin: Annotated[bool, typer.Option("--admin", help="Operator rights on the account.")] = False,
    name: Annotated[str, typer.Option("--name", help="A label for the key.")] = "",
    agent: Annotated[
        list[str] | None,
        typer.Option(
            "--agent", help="With --user: an agent this key may act with (repeat for more)."
        ),
    ] = None,
) -> None:
    """Create a key; it is printed once, alone on stdout (the rest goes to stderr), and never
    shown again."""
    uri.validate_segment(account, "account")
    if user is not None:
        uri.validate_segment(user, "user")
    for agent_id in agent or ():
        uri.validate_segment(agent_id, "agent")
    if agent and user is None:
        typer.echo("error: --agent binds a user key (--user) to agents; an account key "
                   "already acts with every agent", err=True)  # fmt: skip
        raise typer.Exit(2)
    with _keys() as keys:
        info, plaintext = keys.create(account, user, admin=admin, name=name, agents=agent or ())
    scope = f"user {info.user_id}" if info.user_id else "the whole account"
    if info.agents:
        scope += ", agents " + ", ".join(info.agents)
    # the key alone on stdout, so that a shell can capture it: KEY=$(ogmem keys create ...)
    typer.echo(
        f"created {info.key_id} for account {info.account_id} ({scope}); store it now:", err=True
    )
    typer.echo(plaintext)


@keys_app.command("list")
def list_keys(
    account: Annotated[str | None, typer.Option("--account", help="Only this account.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List keys (never their secret)."""
    with _keys() as keys:
        found = keys.list_keys(account)
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(k) for k in found], indent=2, default=str))
        return
    table = Table()
    # the id is what `keys revoke` takes: never cut, however narrow the terminal
    widest = max((len(k.key_id) for k in found), default=6)
    table.add_column("key_id", no_wrap=True, min_width=widest)
    for name in ("account", "user", "agents", "admin", "name", "created", "last used"):
        table.add_column(name, overflow="fold")
    table.add_column("revoked", overflow="fold")
    for k in found:
        agents = ", ".join(k.agents) if k.user_id else "*"
        table.add_row(
            k.key_id, k.account_id, k.user_id or "*", agents, "yes" if k.admin else "", k.name,
            k.created_at.isoformat(timespec="seconds"),
            k.last_used_at.isoformat(timespec="seconds") if k.last_used_at else "",
            k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "",
        )  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
def revoke_key(key_id: str) -> None:
    """Revoke a key; requests with it are refused (401) from now on."""
    with _keys() as keys:
        revoked = keys.revoke(key_id)
    if not revoked:
        typer.echo(f"no active key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Do not index here (run `ogmem worker`).")
    ] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option(help="Serve Prometheus /metrics on this port (the operator's address)."),
    ] = None,
    metrics_host: Annotated[
        str | None, typer.Option(help="Interface of the metrics port (default 127.0.0.1).")
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Server processes sharing the port (default OGMEM_SERVE_PROCESSES, or 1); "
            "one per core serves more requests at once, each with its own embedder.",
        ),
    ] = None,
) -> None:
    """Run the HTTP API (OpenAPI at /docs) until SIGTERM / Ctrl-C."""
    extras.require("server", "ogmem serve")
    settings = Settings.from_env()
    engine = wiring.open_engine(settings, worker=False)  # migrates once, before any child
    try:
        require_keys = engine.keys.has_active()
        if not require_keys:
            _refuse_public_dev_mode(host)
        options = _uvicorn_options(settings, host, port)
        metrics_at = (metrics_port or settings.metrics_port, metrics_host or settings.metrics_host)
        count = processes or settings.serve_processes
        if count > 1:
            _serve_processes(engine, options, count, worker=not no_worker, metrics_at=metrics_at)
        else:
            app = _app(engine, settings, require_keys=require_keys, worker=not no_worker)
            _serve_metrics(app.state.metrics.registry, *metrics_at)
            _serve_one(app, options)
    finally:
        # The worker stops after its current batch. A batch it had claimed but not finished
        # stays PROCESSING until its lease (locked_until) expires; then any worker takes it.
        engine.close()
    typer.echo("server stopped")


def _uvicorn_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    return {
        "host": host, "port": port, "log_level": "info",
        "timeout_keep_alive": settings.limits.keep_alive_s,
        "limit_concurrency": settings.limits.max_connections,
    }  # fmt: skip


def _serve_processes(
    engine: Engine,
    options: dict[str, Any],
    count: int,
    *,
    worker: bool,
    metrics_at: tuple[int | None, str],
) -> None:
    """``count`` children (ogmem.server.processes); this process only supervises them and
    serves the metrics port, where every child's request figures are summed."""
    from ogmem.server import metrics, processes

    with processes.shared_metrics():
        registry = metrics.scrape_registry(engine, None, worker_expected=False)
        _serve_metrics(registry, *metrics_at)
        typer.echo(f"{count} server processes", err=True)
        processes.run(options, count, worker=worker)


def _app(engine: Engine, settings: Settings, *, require_keys: bool, worker: bool) -> FastAPI:
    from ogmem.server.app import create_app

    if worker:
        engine.start_worker()
    return create_app(
        engine, require_keys=require_keys, worker_expected=worker, limits=settings.limits
    )


def _serve_one(app: FastAPI, options: dict[str, Any]) -> None:
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, **options))
    collector.settle_for_serving()
    with _signals_swallowed(server):
        # uvicorn handles SIGTERM/SIGINT itself: it stops accepting, finishes the requests
        # in flight, then re-raises the signal, which we absorb so that the engine closes.
        server.run()


def _refuse_public_dev_mode(host: str) -> None:
    if not is_loopback(host):
        typer.echo(
            f"error: refusing to listen on {host} without API keys: anyone who can "
            "reach it could read every memory. Create one with `ogmem keys create "
            "--account ACCOUNT`, or listen on 127.0.0.1.",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(
        "warning: no API key in the store: dev mode, every request acts for account "
        "'default' without authentication (loopback only).",
        err=True,
    )


def _serve_metrics(registry: CollectorRegistry, port: int | None, host: str) -> None:
    """Prometheus metrics on an address of their own: their figures span every account, so
    they are for the operator's network, not the tenants' API port."""
    if port is None:
        return
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=registry)
    typer.echo(f"metrics on http://{host}:{port}/metrics", err=True)


@contextmanager
def _signals_swallowed(server: Any) -> Iterator[None]:
    """Until uvicorn installs its own handlers (and after it re-raises a signal it caught),
    SIGTERM/SIGINT ask the server to stop: a signal in that window was once lost, leaving a
    server that had been told to stop running on."""

    def stop(*_: object) -> None:
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def mcp(
    transport: Annotated[
        str, typer.Option(help="stdio (an agent starts ogmem) or http (streamable HTTP at /mcp).")
    ] = "stdio",
    host: Annotated[str, typer.Option(help="Interface for --transport http.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for --transport http.")] = 8766,
) -> None:
    """Serve the memory tools over MCP; OGMEM_MCP_ACCOUNT/_USER/_AGENT choose whose memory."""
    extras.require("mcp", "ogmem mcp")
    from ogmem import mcp_server

    mcp_server.run(transport, host=host, port=port)
