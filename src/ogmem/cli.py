"""The ``ogmem`` command: thin commands, each calling one Engine method."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ogmem.core import errors
from ogmem.core.models import RequestContext
from ogmem.engine import Engine
from ogmem.settings import Settings

app = typer.Typer(
    help="ogmem: long-term memory for AI agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()

AccountOpt = Annotated[str, typer.Option("--account", help="Account (tenant) id.")]
UserOpt = Annotated[str, typer.Option("--user", help="User id.")]


def _engine() -> Engine:
    return Engine.open(Settings.from_env().store)


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


def main() -> None:
    try:
        app()
    except errors.OgmemError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise SystemExit(2) from exc
