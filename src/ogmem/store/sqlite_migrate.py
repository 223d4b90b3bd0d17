"""Setting up a SQLite file: WAL mode and the pending migrations, safe when several processes
open one new file at once (issue: `table context_nodes already exists` in 17 of 20 rounds)."""

from __future__ import annotations

import logging
import sqlite3
import time

from ogmem.core import errors
from ogmem.core.models import utcnow
from ogmem.store import queries, rows

DIALECT = "sqlite"
WAL_RETRY_S = 0.01

logger = logging.getLogger(__name__)


def enter_wal_mode(conn: sqlite3.Connection, timeout_s: float) -> None:
    """Switch the file to WAL, waiting while another process does: SQLite answers this pragma
    "database is locked" at once, without its busy handler, while another connection holds
    the lock it needs (measured: several processes opening one new file under load)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_BUSY
            if not busy or time.monotonic() >= deadline:
                raise
            time.sleep(WAL_RETRY_S)


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the pending migrations under the write lock (BEGIN IMMEDIATE), reading what is
    applied inside it: several processes opening one new file at once then apply each
    migration exactly once (the others wait on the lock and find nothing left to do).
    ``conn`` gives rows as dicts."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        applied = {r["version"] for r in conn.execute("SELECT version FROM schema_migrations")}
        for number, name, script in queries.migration_scripts(DIALECT):
            if number not in applied:
                _apply(conn, number, name, script)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                logger.exception("rollback of a migration failed")
        raise


def _apply(conn: sqlite3.Connection, number: int, name: str, script: str) -> None:
    # executescript() would COMMIT first and release the lock: run statement by statement
    for statement in split_statements(script):
        conn.execute(statement)
    conn.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
        (number, name, rows.dump_time(utcnow())),
    )


def split_statements(script: str) -> list[str]:
    """The complete SQL statements of a script, in order (trigger bodies kept whole)."""
    statements: list[str] = []
    current = ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in current.splitlines()
    ):
        raise errors.StoreError(f"incomplete SQL statement in a migration: {current[:200]!r}")
    return statements
