"""The backends of the store. ``open_backend(url)`` picks one from the URL:

- a path, ``:memory:`` or ``sqlite:///path``: SQLite (the embedded default);
- ``postgresql://...`` (or ``postgres://``): PostgreSQL (extra ``postgres``).

Nothing above this package names an adapter or a driver; it gets a ``Backend``.
"""

from __future__ import annotations

from pathlib import Path

from ogmem import extras
from ogmem.core import errors
from ogmem.core.storage import Backend

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite://"


def open_backend(url: str | Path) -> Backend:
    """The backend at ``url`` (created and migrated if needed)."""
    text = str(url)
    if text.startswith(POSTGRES_SCHEMES):
        extras.require("postgres", "a postgresql:// store")  # the driver is an extra
        from ogmem.store import postgres

        return postgres.open_postgres(text)
    if text.startswith(SQLITE_SCHEME):
        # sqlite:///relative.db, sqlite:////absolute.db, sqlite:///:memory: (as SQLAlchemy)
        rest = text.removeprefix(SQLITE_SCHEME)
        text = rest.removeprefix("/") or ":memory:"
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        raise errors.ConfigurationError(
            f"unknown store {scheme}://: use a file path, sqlite:///path or postgresql://..."
        )
    from ogmem.store import sqlite

    return sqlite.open_sqlite(text)
