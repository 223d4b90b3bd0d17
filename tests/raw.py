"""Raw SQL on a backend, for tests that must look past the ports (what is really stored)."""

from __future__ import annotations

from typing import Any

from ogmem.core.storage import Backend


def raw_rows(backend: Backend, sql: str) -> list[dict[str, Any]]:
    """Rows of ``sql`` run as it is on the backend's own connection (no account setting:
    on PostgreSQL that means as the owner, past row-level security)."""
    run = getattr(backend.uow, "raw_query", None)
    if run is not None:
        rows: list[dict[str, Any]] = run(sql)
        return rows
    conn = backend.uow._conn  # type: ignore[attr-defined]
    return [dict(row) for row in conn.execute(sql).fetchall()]
