"""A directory summary's reads (how many active children, the newest 200) go through SQLite's
index of active memories by parent, in its order, so their cost follows what they return, not
how many memories the directory holds (a URI range read and sorted every child: 105 ms at
20,000 children, on every commit into the directory). Each query must repeat the index's
expression and condition exactly, or the planner cannot use it: this test fails if one drifts
from the other."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from ogmem.store import open_backend
from ogmem.store.queries import load_queries

READS = ("count_active_children", "recent_active_children")


def test_sqlite_reads_children_through_the_parent_index(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite"
    open_backend(str(path)).close()  # migrated
    sql = load_queries("sqlite")
    with closing(sqlite3.connect(path)) as conn:
        for name in READS:
            plan = " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql[name]}", {
                "account_id": "acme", "lower": "ctx://acme/users/u/memories/events/", "limit": 200,
            }))  # fmt: skip
            assert "USING INDEX nodes_active_by_parent" in plan, (name, plan)
            assert "TEMP B-TREE" not in plan, (name, plan)  # the index gives the order
