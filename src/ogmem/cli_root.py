"""Options of ``ogmem`` itself, before any command: ``ogmem --version``."""

from __future__ import annotations

from importlib import metadata
from typing import Annotated

import typer


def _print_version(wanted: bool) -> None:
    if wanted:
        typer.echo(f"ogmem {metadata.version('ogmem')}")
        raise typer.Exit()


VersionOpt = Annotated[
    bool,
    typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
]
