"""``ogmem add TEXT``: the plain form of a memory from the command line."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Annotated

import typer

from ogmem import plain, wiring
from ogmem.core.models import WriteStatus
from ogmem.settings import Settings


def _metadata(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--meta")
        found[key.strip()] = value
    return found


def add(
    text: Annotated[str, typer.Argument(help="What to remember, in plain words.")],
    account: Annotated[str, typer.Option("--account", help="Account (tenant) id.")] = "default",
    user: Annotated[str, typer.Option("--user", help="User id.")] = "default",
    agent: Annotated[str | None, typer.Option("--agent", help="Agent id (agent memories).")] = None,
    category: Annotated[
        str | None,
        typer.Option("--category", help="Memory type (default: event, dated today)."),
    ] = None,
    when: Annotated[
        str | None, typer.Option("--when", help="When it happened, YYYY-MM-DD (default: today).")
    ] = None,
    meta: Annotated[
        list[str] | None,
        typer.Option("--meta", help="KEY=VALUE: a field of the type, or your own (repeat)."),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option("--key", help="Routing key: the same key merges or replaces (upsert types)."),
    ] = None,
    valid_from: Annotated[
        datetime | None,
        typer.Option("--valid-from", help="Since when it holds; replaces an earlier fact."),
    ] = None,
    expires_at: Annotated[
        datetime | None, typer.Option("--expires-at", help="When to forget it (UTC).")
    ] = None,
) -> None:
    """Remember TEXT as one memory: abstract and routing key derived, no extraction."""
    ctx = plain.request_context(None, user, account, agent)
    with wiring.open_engine(Settings.from_env()) as engine:
        memory = plain.candidate(engine.registry, text, category, when, _metadata(meta or []))
        memory = dataclasses.replace(
            memory, routing_key=key or memory.routing_key, valid_from=valid_from,
            expires_at=expires_at,
        )  # fmt: skip
        result = engine.remember([memory], ctx)[0]
    why = result.error or result.reason
    typer.echo(f"{result.status.value} {result.uri or memory.category}: {why}")
    if result.status is WriteStatus.FAILED:
        raise typer.Exit(1)
