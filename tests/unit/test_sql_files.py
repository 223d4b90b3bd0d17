"""The named queries and the migrations of each dialect."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from ogmem.store import open_backend, queries

SRC = Path(__file__).parents[2] / "src" / "ogmem" / "store"
DIALECTS = ("sqlite", "postgres")
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
    "schema_version": "the store's own migrations, no account data",
    "configure_connection": "the session settings of a new connection, no data",
    "ensure_vector_index": "DDL: the HNSW index of a vector dimension, no data",
    "tables_with_unique_keys": "the connector reads the catalog, no data",
    "listen_for_events": "the wake-up channel, no data",
    "secure_delete": "a setting of the writing connection (erase), no data",
    "secure_delete_on": "a setting of the writing connection (erase), no data",
    "secure_delete_off": "a setting of the writing connection (erase), no data",
    "merge_full_text": "merges the full-text index's segments (erase); reads out no row",
    "index_size": "the highest record id, for a cost decision inside a search; reads out no row",
    "keyword_scope_reaches": "matches one reader's scope token (its account and owner hashed); "
    "says only whether it reaches a count",
}


_NAMED = re.compile(
    r"(?:\.(?:execute|execute_many|execute_with_triggers|returning|fetch_one|fetch_all|with_dimensions)\(\s*"
    r'|(?:named|_sql|load_queries\(DIALECT\))\[)"([a-z_]+)"'
)


def _named_in(paths: list[Path]) -> set[str]:
    """Every query name these modules run (they name queries only through the connector)."""
    return set(_NAMED.findall("\n".join(path.read_text() for path in paths)))


def _shared() -> set[str]:
    """What the stores written once (sql_*.py) run: every dialect has each of these."""
    return _named_in(sorted(SRC.glob("sql_*.py")))


def _own(dialect: str) -> set[str]:
    """What a dialect's own modules (connector, full-text and vector search) run."""
    return _named_in(sorted(SRC.glob(f"{dialect}*.py")))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_named_query_is_used_and_every_used_one_exists(dialect: str) -> None:
    named = _shared() | _own(dialect)
    assert _shared() and set(queries.load_queries(dialect)) == named


def test_both_dialects_name_every_query_of_the_shared_stores() -> None:
    """Parity: a store written once runs the same names on either dialect; a dialect adds
    only what its own modules run (SQLite: FTS5 and its scope upgrade; PostgreSQL: pgvector,
    the connection's settings)."""
    sqlite, postgres = (set(queries.load_queries(d)) for d in DIALECTS)
    assert sqlite & postgres == _shared() | (_own("sqlite") & _own("postgres"))
    assert sqlite - postgres == _own("sqlite") - _own("postgres")
    assert postgres - sqlite == _own("postgres") - _own("sqlite")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_query_filters_on_account(dialect: str) -> None:
    for name, sql in queries.load_queries(dialect).items():
        if name not in CROSS_ACCOUNT:
            assert "account_id" in sql, f"query {name} does not filter on account_id"


def test_duplicate_query_names_are_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        queries.parse_named_queries("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;")


@pytest.mark.parametrize("dialect", DIALECTS)
def test_migrations_are_numbered_without_gaps(dialect: str) -> None:
    numbers = [number for number, _, _ in queries.migration_scripts(dialect)]
    assert numbers == list(range(1, len(numbers) + 1))


def test_reopening_does_not_reapply_migrations(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    open_backend(str(path)).close()
    open_backend(str(path)).close()
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert rows[0] == len(queries.migration_scripts("sqlite"))


def test_every_table_carries_account_id(tmp_path: Path) -> None:
    open_backend(str(tmp_path / "db.sqlite")).close()
    with closing(sqlite3.connect(tmp_path / "db.sqlite")) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' AND name NOT IN ('schema_migrations', 'store_probe')"
            )
        ]
        for table in tables:
            if table.startswith("index_fts"):
                continue  # FTS5 and its shadow tables: read only through a join on index_records
            columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            assert "account_id" in columns, table
