"""The named queries and the migrations of each dialect."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from ogmem.store import queries
from ogmem.store.sqlite import SqliteStore

SRC = Path(__file__).parents[2] / "src" / "ogmem" / "store"


ADAPTERS = (
    "sqlite_db.py",
    "sqlite.py",
    "sqlite_index.py",
    "sqlite_outbox.py",
    "sqlite_sessions.py",
    "sqlite_keys.py",
)
CROSS_ACCOUNT = {
    "claim_events": "the worker serves every account; what follows filters on the event's",
    "renew_leases": "a worker's heartbeat over its own claims, which span accounts",
    "account_ids": "maintenance walks the accounts, then filters on one",
    "unscoped_owners": "a one-time upgrade step over every account's records",
    "find_api_key_by_hash": "the key is how a request's account is found; it has none yet",
    "purge_done_events": "housekeeping: finished events of every account past the retention",
    "store_probe_read": "readiness probe of the store itself; the table holds no account data",
    "store_probe_write": "readiness probe of the store itself; the table holds no account data",
    "store_probe_clear": "readiness probe of the store itself; the table holds no account data",
}


def _adapter_text() -> str:
    return "\n".join((SRC / name).read_text() for name in ADAPTERS)


def test_every_named_query_is_used_by_the_adapter() -> None:
    adapter = _adapter_text()
    used = set(re.findall(r'"([a-z_]+)"', adapter))
    unused = set(queries.load_queries("sqlite")) - used
    assert unused == set()


def test_every_query_the_adapter_names_exists() -> None:
    adapter = _adapter_text()
    named = set(re.findall(r'\.run(?:_many)?\(\s*(?:self\._conn|conn),\s*"([a-z_]+)"', adapter))
    named |= set(re.findall(r'fetch_(?:one|all)\(\s*"([a-z_]+)"', adapter))
    named |= set(re.findall(r'self\._sql\["([a-z_]+)"\]', adapter))
    assert named and named <= set(queries.load_queries("sqlite"))


def test_every_query_filters_on_account() -> None:
    for name, sql in queries.load_queries("sqlite").items():
        if name not in CROSS_ACCOUNT:
            assert ":account_id" in sql, f"query {name} does not filter on account_id"


def test_duplicate_query_names_are_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        queries.parse_named_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;")


def test_migrations_are_numbered_without_gaps() -> None:
    numbers = [number for number, _, _ in queries.migration_scripts("sqlite")]
    assert numbers == list(range(1, len(numbers) + 1))


def test_reopening_does_not_reapply_migrations(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    SqliteStore(path).close()
    with SqliteStore(path) as reopened:
        assert reopened.schema_version() == len(queries.migration_scripts("sqlite"))
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert rows[0] == len(queries.migration_scripts("sqlite"))


def test_every_table_carries_account_id(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "db.sqlite") as store:
        tables = [
            r["name"]
            for r in store._conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name NOT IN ('schema_migrations', 'store_probe')"
            )
        ]
        for table in tables:
            if table.startswith("index_fts"):
                continue  # FTS5 and its shadow tables: read only through a join on index_records
            columns = {r["name"] for r in store._conn.execute(f"PRAGMA table_info({table})")}
            assert "account_id" in columns, table
