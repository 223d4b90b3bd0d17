"""Migrations of the PostgreSQL store: the numbered scripts of ``sql/postgres/migrations``,
applied in order, each once, under a transaction-scoped advisory lock. Processes that open a
new database at once queue on the lock; each reads what is applied only once it holds it, so
every migration runs exactly once, and a failed one leaves nothing behind.

The few statements here are the bootstrapping that cannot be a named query: the lock, the
migrations table, reading and recording what is applied. They run as the URL's user, who
owns what the migrations create.
"""

from __future__ import annotations

from typing import Any

import psycopg

from ogmem.store import queries

DIALECT = "postgres"
LOCK_KEY = 0x6F676D656D  # "ogmem": one lock per database (advisory locks are per database)


def migrate(conn: psycopg.Connection[Any]) -> int:
    """Apply the pending migrations on ``conn`` (autocommit, the owner); the schema version."""
    scripts = queries.migration_scripts(DIALECT)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        # looked up before it is created: a read-only server (a standby) with every migration
        # applied opens without writing anything
        if conn.execute("SELECT to_regclass('schema_migrations')").fetchone() == (None,):
            conn.execute(
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, "
                "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        found = conn.execute("SELECT version FROM schema_migrations").fetchall()
        applied = {int(row[0]) for row in found}
        for number, name, script in scripts:
            if number not in applied:
                conn.execute(script.encode())  # no parameters: the whole script at once
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (number, name),
                )
        applied |= {number for number, _, _ in scripts}
    return max(applied, default=0)
