"""SQLite full text: the owner-prefixed filter tokens (migration 0017) are the ones the store
writes, whether a record was written now, scoped late (no scope yet), or upgraded by 0017."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from ogmem.core.models import ContextType, IndexRecord, NodeStatus, SearchFilter
from ogmem.store import open_backend, queries
from ogmem.store.sql_index import scope_text

URI = "ctx://acme/users/alice/memories/events/e1"
RECORD = IndexRecord("acme", URI, 0, "we hiked the volcano", "user:alice", "event",
                     ContextType.MEMORY, NodeStatus.ACTIVE, 1)  # fmt: skip
ALICE = SearchFilter(owner_spaces=("user:alice",), context_types=(ContextType.MEMORY,))


def _stored_scope(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        (scope,) = conn.execute("SELECT scope FROM index_records").fetchone()
    return str(scope)


def _found(path: Path) -> list[str]:
    backend = open_backend(str(path))
    try:
        return [hit.uri for hit in backend.index.keyword_search("acme", ["volcano"], ALICE, 5)]
    finally:
        backend.close()


def _write(path: Path) -> None:
    backend = open_backend(str(path))
    try:
        vector = np.ones(4, dtype=np.float32) / 2
        backend.index.replace_many("acme", [(URI, [RECORD], [vector])], "m")
    finally:
        backend.close()


def test_records_scoped_late_or_upgraded_carry_the_owner_tokens(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    _write(path)
    assert _stored_scope(path) == scope_text(RECORD) and _found(path) == [URI]
    # a record written before scopes existed is scoped when the store opens
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE index_records SET scope = ''")
    assert _found(path) == [URI] and _stored_scope(path) == scope_text(RECORD)
    # a record scoped before 0017 (owner token and plain filter tokens) is upgraded by it
    upgrade = next(sql for number, _, sql in queries.migration_scripts("sqlite") if number == 17)
    with sqlite3.connect(path) as conn:
        old = " ".join(scope_text(RECORD).split()[:4])
        conn.execute("UPDATE index_records SET scope = ?", (old,))
        conn.execute(upgrade[upgrade.index("UPDATE index_records") :].split(";")[0])
    assert _stored_scope(path) == scope_text(RECORD) and _found(path) == [URI]
