"""A PostgreSQL server for the tests: one per test session, from the pgserver wheel
(PostgreSQL 16 + pgvector, no system install), in a temporary directory; a migrated template
database, and a fresh copy of it per test (independent tests, no migration per test).

The directory is a plain temporary one, not pytest's: running as root, pgserver runs the
server as its own system user, and every pytest session (another one on the same machine
too) resets pytest's temporary root to mode 0700, which locks the server out of its data.

The tests connect as ``ogmem_owner``, a plain user (not a superuser: a superuser would pass
row-level security and hide a policy mistake) that may create roles, as a real deployment's
user would. The tests run the server without fsync (its data lives as long as the test
session); the benchmarks (bench/pg.py) ask for a durable one, as a user would run it.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

OWNER = "ogmem_owner"
TEMPLATE = "ogmem_template"
# durability is not what the tests measure; each of these costs a disk sync per commit
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


def _runtime_dir() -> None:
    """pgserver asks platformdirs for the runtime directory when it is imported, which warns
    (an error under pytest) when XDG_RUNTIME_DIR is unset: give it a private one."""
    if not os.environ.get("XDG_RUNTIME_DIR"):
        os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="ogmem-run-")


class PgCluster:
    def __init__(self, *, durable: bool = False, shared_buffers_mb: int | None = None) -> None:
        """``durable``: the server's default settings (fsync and synchronous commit on), else
        FAST_SETTINGS. ``shared_buffers_mb``: the server's page cache, if not its default
        (128 MB; set before the first connection, by a restart)."""
        _runtime_dir()
        import pgserver

        self._root = Path(tempfile.mkdtemp(prefix="ogmem-pg-"))
        self._server: Any = pgserver.get_server(  # type: ignore[attr-defined]
            self._root / "pgdata", cleanup_mode="stop"
        )
        self.admin_url: str = self._server.get_uri()
        self._socket_dir = dict(
            part.split("=", 1) for part in urlsplit(self.admin_url).query.split("&")
        )["host"]
        if shared_buffers_mb is not None:  # read only when the server starts
            self._admin(f"ALTER SYSTEM SET shared_buffers = '{int(shared_buffers_mb)}MB'")
            self._restart()
        self._names = itertools.count(1)
        self._spare: list[str] = []
        self._emptying: str | None = None
        # pgvector is not a trusted extension: a superuser installs it where new databases
        # come from, as a DBA would, and the migration's CREATE EXTENSION finds it there
        self._admin("CREATE EXTENSION IF NOT EXISTS vector", database="template1")
        fast = {} if durable else FAST_SETTINGS
        self._admin(
            *(f"ALTER SYSTEM SET {name} = '{value}'" for name, value in fast.items()),
            "SELECT pg_reload_conf()",
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{OWNER}') "
            f"THEN CREATE ROLE {OWNER} LOGIN CREATEROLE; END IF; END $$",
            f"DROP DATABASE IF EXISTS {TEMPLATE}",
            f"CREATE DATABASE {TEMPLATE} OWNER {OWNER}",
        )
        from ogmem.store import postgres

        postgres.migrate(self.url(TEMPLATE))

    def _restart(self) -> None:
        """Restart with the options the server was started with (pg_ctl keeps them; the
        socket stays where it was), logging where it logged."""
        import pgserver

        pgserver.pg_ctl(  # type: ignore[attr-defined]
            ["-w", "-l", str(self._server.log), "restart"],
            pgdata=self._server.pgdata, user=self._server.system_user,
        )  # fmt: skip
        self._server.ensure_postgres_running()  # reads the new server's process

    def url(self, database: str, user: str = OWNER) -> str:
        return f"postgresql://{user}@/{database}?host={self._socket_dir}"

    def _admin(self, *statements: str, database: str = "postgres") -> None:
        with psycopg.connect(self.url(database, "postgres"), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement.encode())

    def empty_database(self) -> str:
        """A new database with nothing in it (not migrated); its URL."""
        name = f"ogmem_test_{os.getpid()}_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name} OWNER {OWNER}")
        return self.url(name)

    def fresh_database(self) -> str:
        """A migrated database with no rows; its URL: one a finished test gave back, emptied
        (``reuse``), or a new copy of the template. FILE_COPY: for a small template, copying
        its files is faster than WAL-logging every page."""
        if self._spare:
            return self._spare.pop()
        name = f"ogmem_test_{os.getpid()}_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} OWNER {OWNER} STRATEGY FILE_COPY")
        return self.url(name)

    def reuse(self, url: str) -> None:
        """Give a test's database back, emptied as the template is: every row deleted (as
        the owner: past the policies), identities restarted, the HNSW indexes that searches
        created dropped, in one round trip. A copy of the template costs ~0.5 s under load,
        this a few milliseconds. A database still in use (a leaked transaction holds a lock)
        is dropped instead."""
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(self._emptying_script(conn).encode())
        except psycopg.Error:
            self.drop(url)
            return
        self._spare.append(url)

    def _emptying_script(self, conn: psycopg.Connection[Any]) -> str:
        if self._emptying is None:
            tables = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'schema_migrations' ORDER BY tablename"
            ).fetchall()
            sequences = conn.execute(
                "SELECT pg_get_serial_sequence(attrelid::regclass::text, attname) FROM "
                "pg_attribute WHERE attidentity <> '' AND attrelid::regclass::text IN "
                "(SELECT tablename FROM pg_tables WHERE schemaname = 'public')"
            ).fetchall()
            self._emptying = "\n".join(
                [
                    "SET lock_timeout = '2s';",
                    "BEGIN;",
                    *(f"DELETE FROM {table};" for (table,) in tables),
                    *(f"SELECT setval('{sequence}', 1, false);" for (sequence,) in sequences),
                    "DO $$ DECLARE name text; BEGIN FOR name IN SELECT indexname FROM pg_indexes"
                    " WHERE indexname LIKE 'index_records_hnsw_%' LOOP"
                    " EXECUTE format('DROP INDEX %I', name); END LOOP; END $$;",
                    "COMMIT;",
                ]
            )
        return self._emptying

    def drop(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        self._server.cleanup()
        shutil.rmtree(self._root, ignore_errors=True)
