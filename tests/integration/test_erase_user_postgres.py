"""Erasing a user on PostgreSQL: no row of any table of the schema (every one that
information_schema lists, read as text by the owner, past row-level security) has the user's
id or canary afterwards; the other users' rows are all still there."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from tests.erase_fill import Person, fill, open_engine

ERASED = Person("acme", "zulu7canary", "Jabberwockyquux")
NEIGHBOUR = Person("acme", "zulu7", "Marzipanvortex")  # its id is a prefix of ERASED's
ELSEWHERE = Person("other", "zulu7canary", "Quasarnectar")  # same user id, another account
OTHERS = (NEIGHBOUR, ELSEWHERE)


def _tables(conn: psycopg.Connection[Any]) -> list[str]:
    found = conn.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
    ).fetchall()
    return [name for (name,) in found]


def _rows_naming(url: str, person: Person, *, by_id: bool = True) -> dict[str, int]:
    """Per table, the rows that have the person's canary, or (``by_id``) the person's user id
    and account (the same id in another account is someone else)."""
    found: dict[str, int] = {}
    with psycopg.connect(url, autocommit=True) as conn:
        tables = _tables(conn)
        assert {"context_nodes", "session_messages", "outbox_events", "api_keys"} <= set(tables)
        for table in tables:
            query = sql.SQL(
                "SELECT count(*) FROM {t} AS r WHERE strpos(lower(r::text), %(canary)s) > 0 "
                "OR (strpos(r::text, %(account)s) > 0 AND strpos(r::text, %(user)s) > 0)"
            ).format(t=sql.Identifier(table))
            params = {"canary": person.canary.lower(), "account": person.account,
                      "user": person.user if by_id else person.canary.lower()}  # fmt: skip
            row = conn.execute(query, params).fetchone()
            if row and row[0]:
                found[table] = int(row[0])
    return found


def test_erasing_on_postgresql_leaves_no_row_of_the_user(pg_url: str) -> None:
    with open_engine(pg_url) as engine:
        for person in (ERASED, NEIGHBOUR, ELSEWHERE):
            fill(engine, person, NEIGHBOUR if person is ERASED else None)
        engine.search(ERASED.canary, ERASED.ctx)  # recall signals still buffered: erased too
        engine.flush()
        engine.search(ERASED.canary, ERASED.ctx)
        before = {p.user + p.account: _rows_naming(pg_url, p, by_id=False) for p in OTHERS}
        assert set(_rows_naming(pg_url, ERASED)) >= {
            "context_nodes", "context_node_versions", "index_records", "session_messages",
            "sessions", "outbox_events", "api_keys", "applied_ops", "recall_signals",
            "index_tombstones",
        }  # fmt: skip
        report = engine.forget_user(ERASED.ctx)
        assert report.counts["nodes"] > 5 and report.counts["messages"] == 2, report.counts
        assert _rows_naming(pg_url, ERASED) == {}
        after = {p.user + p.account: _rows_naming(pg_url, p, by_id=False) for p in OTHERS}
        assert after == before and all(before.values())
        hits = engine.search(NEIGHBOUR.canary, NEIGHBOUR.ctx).hits
        assert hits and all(h.uri.startswith(NEIGHBOUR.root + "/") for h in hits)
