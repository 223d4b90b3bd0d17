"""What every CLI command shares: who it acts for (``--account/--user/--agent``, given before
or after the command), the engine it opens, ``--json`` output, and saying where it looked
when it found nothing."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console

from ogmem import wiring
from ogmem.core.models import RequestContext
from ogmem.engine import Engine
from ogmem.settings import Settings

console = Console(soft_wrap=True)  # long lines (URIs, errors) stay whole, never cut or wrapped
DEFAULT = "default"

AccountOpt = Annotated[
    str | None, typer.Option("--account", help="Account (tenant) id [default: default].")
]
UserOpt = Annotated[str | None, typer.Option("--user", help="User id [default: default].")]
AgentOpt = Annotated[str | None, typer.Option("--agent", help="Agent id (agent memories).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]

# --account/--user/--agent given before the command (`ogmem --user bob ls`)
before_command: dict[str, str | None] = {}


def who(
    account: str | None, user: str | None, agent: str | None = None, session_id: str | None = None
) -> RequestContext:
    """The request context: an option after the command wins, then one before it."""
    return RequestContext(
        account or before_command.get("account") or DEFAULT,
        user or before_command.get("user") or DEFAULT,
        agent or before_command.get("agent"),
        session_id,
    )


def user_given(user: str | None) -> bool:
    return bool(user or before_command.get("user"))


@contextmanager
def engine(*, embedder: bool = True, worker: bool = False) -> Iterator[Engine]:
    """The engine of the environment's settings. ``embedder=False``: commands that read only
    nodes and sessions (ls, cat, history, sessions) use a stand-in, so a wrong embedder
    setting (or a slow model load) does not stop them."""
    settings = Settings.from_env()
    if not embedder:
        settings = dataclasses.replace(settings, embedder="hash", embedder_options={})
    with wiring.open_engine(settings, worker=worker) as opened:
        yield opened


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def nothing_found(engine: Engine, ctx: RequestContext, what: str) -> None:
    """An empty answer says where it looked and how to look elsewhere."""
    console.print(
        f"no {what} in {engine.describe_store()} for account {ctx.account_id!r}, user "
        f"{ctx.user_id!r}" + (f", agent {ctx.agent_id!r}" if ctx.agent_id else ""),
        markup=False,
        highlight=False,
    )
    console.print(
        "other users: --user USER (before or after the command); every user's sessions: "
        "ogmem sessions --all-users; another store: OGMEM_STORE or OGMEM_DATA_DIR",
        markup=False,
        highlight=False,
    )
