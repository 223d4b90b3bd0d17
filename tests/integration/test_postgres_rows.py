"""Batches of one INSERT sent as multi-row statements on PostgreSQL: the same rows, the same
errors, all or nothing, as row by row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ogmem.core import errors
from ogmem.core.models import ContextNode
from ogmem.core.storage import Backend
from ogmem.store import queries
from ogmem.store.postgres_db import PostgresDatabase, to_pyformat
from ogmem.store.postgres_rows import MAX_ROWS, MultiRowInsert
from tests.conftest import make_node, nodes_of

NAMED = {name: to_pyformat(sql) for name, sql in queries.load_queries("postgres").items()}


def _node(account: str, path: str) -> ContextNode:
    return make_node(account, path).evolve(version=1)


def _db(backend: Backend) -> PostgresDatabase:
    assert isinstance(backend.uow, PostgresDatabase)
    return backend.uow


def test_plain_inserts_are_rewritten_and_the_rest_run_row_by_row() -> None:
    insert = MultiRowInsert.of(NAMED["insert_node"])
    assert insert is not None and insert.names[:2] == ("account_id", "uri")
    rows = [{name: f"{name}-{n}" for name in insert.names} for n in range(3)]
    [(sql, values)] = list(insert.statements(rows))
    assert sql.count("), (") == 2 and "%(" not in sql and f"${3 * len(insert.names)}" in sql
    assert values[: len(insert.names)] == [f"{name}-0" for name in insert.names]
    assert len(values) == 3 * len(insert.names)
    # an INSERT ... SELECT, an upsert (one statement may not update a row twice), an UPDATE
    for name in ("insert_event_unless_pending", "upsert_record", "update_node"):
        assert MultiRowInsert.of(NAMED[name]) is None, name


def test_a_large_batch_is_cut_into_statements_the_protocol_takes() -> None:
    insert = MultiRowInsert.of(NAMED["insert_node"])
    assert insert is not None
    rows = [{name: n for name in insert.names} for n in range(2 * MAX_ROWS + 1)]
    sent = list(insert.statements(rows))
    assert [len(values) // len(insert.names) for _, values in sent] == [MAX_ROWS, MAX_ROWS, 1]
    assert [values[0] for _, values in sent] == [0, MAX_ROWS, 2 * MAX_ROWS]
    assert all(len(values) <= 65_535 for _, values in sent)


def test_a_batch_of_inserts_writes_every_row_and_counts_them(
    pg: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    rewrite = MultiRowInsert.statements

    def counted(insert: MultiRowInsert, rows: Any) -> Iterator[tuple[str, list[Any]]]:
        for sql, values in rewrite(insert, rows):
            sent.append(len(values) // len(insert.names))
            yield sql, values

    monkeypatch.setattr(MultiRowInsert, "statements", counted)
    nodes = [_node("A", f"users/alice/memories/events/e{n}") for n in range(MAX_ROWS + 7)]
    nodes += [_node("B", "users/bob/memories/events/e0"), _node("B", "users/bob/memories/e1")]
    with pg.uow.transaction():
        pg.nodes.insert(nodes)
    assert sent == [MAX_ROWS, 7, 2]  # each account's rows under its own setting
    store = nodes_of(pg)
    assert all(store.find_node(n.account_id, n.uri) == n for n in (nodes[0], nodes[-2]))
    found = _db(pg).raw_query("SELECT account_id, count(*) AS n FROM context_nodes GROUP BY 1")
    assert {row["account_id"]: row["n"] for row in found} == {"A": MAX_ROWS + 7, "B": 2}


def test_a_batch_with_one_taken_key_writes_nothing_and_says_so(pg: Backend) -> None:
    store = nodes_of(pg)
    taken = _node("A", "users/alice/memories/events/e5")
    pg.nodes.insert([taken])
    batch = [_node("A", f"users/alice/memories/events/e{n}") for n in range(10)]
    with pytest.raises(errors.ConcurrentModificationError, match="one of 10 new nodes"):
        pg.nodes.insert(batch)
    assert [n.uri for n in batch if store.exists("A", n.uri)] == [taken.uri]
    # inside a transaction the failed batch leaves what came before it standing
    with pg.uow.transaction():
        pg.nodes.insert([batch[0]])
        with pytest.raises(errors.ConcurrentModificationError):
            pg.nodes.insert(batch[1:])
    assert [n.uri for n in batch if store.exists("A", n.uri)] == [batch[0].uri, taken.uri]
