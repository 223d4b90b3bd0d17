"""A PostgreSQL server for the tests: one per test session, from the pgserver wheel
(PostgreSQL 16 + pgvector, no system install), in a temporary directory; a migrated template
database, and a fresh copy of it per test (independent tests, no migration per test).

The directory is a plain temporary one, not pytest's: running as root, pgserver runs the
server as its own system user, and every pytest session (another one on the same machine
too) resets pytest's temporary root to mode 0700, which locks the server out of its data.

The tests connect as ``ogmem_owner``, a plain user (not a superuser: a superuser would pass
row-level security and hide a policy mistake) that may create roles, as a real deployment's
user would. The server runs without fsync: its data lives as long as the test session.
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
    def __init__(self) -> None:
        _runtime_dir()
        import pgserver

        self._root = Path(tempfile.mkdtemp(prefix="ogmem-pg-"))
        self._server: Any = pgserver.get_server(self._root / "pgdata", cleanup_mode="stop")
        self.admin_url: str = self._server.get_uri()
        self._socket_dir = dict(
            part.split("=", 1) for part in urlsplit(self.admin_url).query.split("&")
        )["host"]
        self._names = itertools.count(1)
        # pgvector is not a trusted extension: a superuser installs it where new databases
        # come from, as a DBA would, and the migration's CREATE EXTENSION finds it there
        self._admin("CREATE EXTENSION IF NOT EXISTS vector", database="template1")
        self._admin(
            *(f"ALTER SYSTEM SET {name} = '{value}'" for name, value in FAST_SETTINGS.items()),
            "SELECT pg_reload_conf()",
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{OWNER}') "
            f"THEN CREATE ROLE {OWNER} LOGIN CREATEROLE; END IF; END $$",
            f"DROP DATABASE IF EXISTS {TEMPLATE}",
            f"CREATE DATABASE {TEMPLATE} OWNER {OWNER}",
        )
        from ogmem.store import postgres

        postgres.migrate(self.url(TEMPLATE))

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
        """A new migrated database, copied from the template; its URL. FILE_COPY: for a small
        template, copying its files is ~7x faster than WAL-logging every page."""
        name = f"ogmem_test_{os.getpid()}_{next(self._names)}"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE} OWNER {OWNER} STRATEGY FILE_COPY")
        return self.url(name)

    def drop(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        self._server.cleanup()
        shutil.rmtree(self._root, ignore_errors=True)
