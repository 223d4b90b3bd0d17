"""The CLI commands over a user's or an account's data as a whole: ``ogmem forget-user``
(erase), ``ogmem export`` and ``ogmem import`` (``ogmem.export``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ogmem import cli_common
from ogmem.cli_common import AccountOpt, UserOpt
from ogmem.copy import CopyReport
from ogmem.core import errors
from ogmem.export import export_file, import_file

SHOWN_CONFLICTS = 20


def forget_user(
    account: AccountOpt = None,
    user: UserOpt = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase one user: memories and their history, sessions, messages, session archives,
    index and full-text rows, recall signals, idempotency records, the user's API keys and
    the outbox events naming the user, in one transaction. It cannot be undone (export the
    user first to keep a copy)."""
    if not cli_common.user_given(user):
        raise errors.InvalidInput("name the user to erase: ogmem forget-user --user USER")
    ctx = cli_common.who(account, user)
    if not yes:
        typer.confirm(f"erase user {ctx.user_id!r} of account {ctx.account_id!r}?", abort=True)
    with cli_common.engine(embedder=False) as engine:
        report = engine.forget_user(ctx)
    counts = ", ".join(f"{n} {kind}" for kind, n in report.counts.items() if n)
    typer.echo(f"erased user {ctx.user_id!r} of account {ctx.account_id!r}: {counts or 'nothing'}")


def export(
    path: Annotated[Path, typer.Argument(help="The JSON Lines file to write (replaced).")],
    account: AccountOpt = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Only this user (default: the whole account).")
    ] = None,
    sessions: Annotated[
        bool, typer.Option("--sessions", help="Also the sessions and their messages.")
    ] = False,
) -> None:
    """Write an account, or one user of it, as JSON Lines (docs/export-format.md): nodes with
    their history and idempotency records; sessions and messages with --sessions."""
    ctx = cli_common.who(account, user)
    user_id = ctx.user_id if cli_common.user_given(user) else None
    with cli_common.engine(embedder=False) as engine:
        report = export_file(engine.backend, path, ctx.account_id, user_id, sessions=sessions)
    written = ", ".join(f"{c.written} {kind}" for kind, c in report.counts.items() if c.written)
    who = f"user {user_id!r} of account" if user_id else "account"
    typer.echo(f"exported {who} {ctx.account_id!r} into {path}: {written or 'nothing'}")


def import_(
    path: Annotated[Path, typer.Argument(help="A file written by ogmem export.")],
) -> None:
    """Read an export file into the store, into the account it was exported from. Rows
    already there are skipped, so importing twice changes nothing; a different row under the
    same key is reported and left as it is (exit status 1). Imported nodes are then indexed
    by the worker."""
    with path.open(encoding="utf-8") as text, cli_common.engine() as engine:
        header, done, checked = import_file(engine.backend, text, engine.embedder.model_id)
        engine.repair(header.account_id)  # the file has no index records: index the nodes
    _print(done)
    missing = checked.missing()
    if missing:
        typer.echo(f"verification failed: the store still lacks {missing}")
    if missing or done.conflicts:
        raise typer.Exit(1)


def _print(done: CopyReport) -> None:
    for kind, counts in done.counts.items():
        if counts.source:
            typer.echo(f"{kind}: {counts.source} in the file, {counts.written} written, "
                       f"{counts.present} already there, {counts.conflicts} conflicts")  # fmt: skip
    for conflict in done.conflicts[:SHOWN_CONFLICTS]:
        typer.echo(f"conflict, left as it is: {conflict}")
    if len(done.conflicts) > SHOWN_CONFLICTS:
        typer.echo(f"... and {len(done.conflicts) - SHOWN_CONFLICTS} more conflicts")
