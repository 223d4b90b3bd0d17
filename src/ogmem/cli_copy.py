"""``ogmem copy SOURCE DEST``: one store into another (``ogmem.copy``), then verified."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ogmem.copy import CopyReport, copy_store
from ogmem.core import errors
from ogmem.index.embedders import make_embedder
from ogmem.settings import Settings
from ogmem.store import open_backend

MEMORY = ":memory:"
SQLITE_SCHEME = "sqlite://"  # as open_backend reads it
SHOWN_CONFLICTS = 20


def _identity(store: str) -> str:
    """What tells two spellings of one store apart: a database URL as given, a file's path."""
    if store.startswith(SQLITE_SCHEME):
        return _identity(store.removeprefix(SQLITE_SCHEME).removeprefix("/") or MEMORY)
    if "://" in store or store == MEMORY:  # a database URL (open_backend knows which)
        return store
    return str(Path(store).expanduser().resolve())


def check_stores(source: str, dest: str) -> None:
    """Refuse what cannot be a copy, before opening anything (opening creates a store)."""
    src, dst = _identity(source), _identity(dest)
    if MEMORY in (src, dst):
        raise errors.ConfigurationError(
            "an in-memory store (:memory:) lives only inside one process; name a file or a URL"
        )
    if src == dst:
        raise errors.ConfigurationError(f"source and destination are the same store: {source}")
    if "://" not in src and not Path(src).is_file():
        raise errors.ConfigurationError(f"the source store {source} does not exist")


def _print(done: CopyReport, checked: CopyReport) -> None:
    for kind, counts in done.counts.items():
        verified = checked.counts[kind].present
        typer.echo(
            f"{kind}: {counts.source} in the source, {counts.written} written, "
            f"{counts.present} already there, {counts.conflicts} conflicts; {verified} verified"
        )
    for conflict in done.conflicts[:SHOWN_CONFLICTS]:
        typer.echo(f"conflict, left as it is: {conflict}")
    if len(done.conflicts) > SHOWN_CONFLICTS:
        typer.echo(f"... and {len(done.conflicts) - SHOWN_CONFLICTS} more conflicts")


def copy(
    source: Annotated[
        str,
        typer.Argument(help="The store to copy: a SQLite file, sqlite:///path or postgresql://..."),
    ],
    dest: Annotated[
        str,
        typer.Argument(
            help="The store to copy into (created and migrated "
            "if needed; it may hold data already)."
        ),
    ],
) -> None:
    """Copy every account's nodes (with their history), idempotency records, index records,
    sessions and messages, unfinished outbox events and API keys into another store, then
    verify it. Re-running is safe: rows already there are skipped, a different row under the
    same key is reported and left as it is (exit status 1)."""  # fmt: skip
    check_stores(source, dest)
    settings = Settings.from_env()
    model_id = make_embedder(settings.embedder, **settings.embedder_options).model_id
    source_backend = open_backend(source)
    try:
        dest_backend = open_backend(dest)
        try:
            typer.echo(f"copying {source_backend.uow.describe()} into "
                       f"{dest_backend.uow.describe()} (vectors of {model_id} travel)")  # fmt: skip
            done, checked = copy_store(source_backend, dest_backend, model_id)
        finally:
            dest_backend.close()
    finally:
        source_backend.close()
    _print(done, checked)
    missing = checked.missing()
    if missing:
        typer.echo(f"verification failed: the destination still lacks {missing}")
    if missing or done.conflicts:
        raise typer.Exit(1)
    typer.echo("verified: every row of the source is in the destination")
