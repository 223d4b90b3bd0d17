"""A keyword search with a filter ranks only the records the filter allows: on SQLite the
filter columns are tokens of the full-text scope column, so one FTS5 query answers even when
most matches are of another type (session archives, directory summaries)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from ogmem.core.models import ContextType, IndexRecord, NodeStatus, SearchFilter
from ogmem.core.storage import Backend
from ogmem.store import open_backend

ACCOUNT = "acme"
OWNER = "user:alice"


def _record(uri: str, kind: ContextType, status: NodeStatus, category: str) -> IndexRecord:
    return IndexRecord(ACCOUNT, uri, 2, f"the garden at {uri}", OWNER, category, kind, status, 1)


@pytest.fixture
def backend() -> Iterator[Backend]:
    opened = open_backend(":memory:")
    records = [
        _record(f"ctx://acme/s/{i}", ContextType.SESSION, NodeStatus.ACTIVE, "") for i in range(300)
    ]
    records += [
        _record("ctx://acme/m/tea", ContextType.MEMORY, NodeStatus.ACTIVE, "preference"),
        _record("ctx://acme/m/move", ContextType.MEMORY, NodeStatus.ACTIVE, "event"),
        _record("ctx://acme/m/old", ContextType.MEMORY, NodeStatus.ARCHIVED, "event"),
    ]
    vector = np.ones(4, dtype=np.float32) / 2
    opened.index.replace_many(ACCOUNT, [(r.uri, [r], [vector]) for r in records], "test")
    try:
        yield opened
    finally:
        opened.close()


def _search(backend: Backend, search_filter: SearchFilter, asked: list[str]) -> set[str]:
    db: Any = backend.index._db  # type: ignore[attr-defined]
    fetch_all = db.fetch_all

    def counted(query: str, /, **params: Any) -> Any:
        asked.append(query)
        return fetch_all(query, **params)

    db.fetch_all = counted
    try:
        hits = backend.index.keyword_search(ACCOUNT, ["garden"], search_filter, limit=5)
    finally:
        db.fetch_all = fetch_all
    return {hit.uri for hit in hits}


def test_memories_among_many_session_matches_take_one_query(backend: Backend) -> None:
    asked: list[str] = []
    memories = SearchFilter(owner_spaces=(OWNER,), context_types=(ContextType.MEMORY,))
    found = _search(backend, memories, asked)
    assert found == {"ctx://acme/m/tea", "ctx://acme/m/move"}  # active ones, by default
    assert asked == ["keyword_search"]  # no second pass over every match


def test_status_and_category_filters_apply_in_the_match(backend: Backend) -> None:
    asked: list[str] = []
    active_events = SearchFilter(
        context_types=(ContextType.MEMORY,), statuses=(NodeStatus.ACTIVE,), categories=("event",)
    )
    assert _search(backend, active_events, asked) == {"ctx://acme/m/move"}
    assert asked == ["keyword_search"]
    nothing = SearchFilter(categories=())
    assert _search(backend, nothing, asked) == set()


def test_a_match_whose_columns_fail_the_filter_is_left_out(backend: Backend) -> None:
    # a session record whose scope tokens claim to be the tea memory's (as those of a record
    # scoped before its filter tokens existed may disagree with its columns): the match finds
    # it, and its own columns leave it out
    db: Any = backend.index._db  # type: ignore[attr-defined]
    db._conn.execute(
        "UPDATE index_records SET scope = (SELECT scope FROM index_records WHERE uri = ?)"
        " WHERE uri = ?",
        ("ctx://acme/m/tea", "ctx://acme/s/0"),
    )
    asked: list[str] = []
    memories = SearchFilter(owner_spaces=(OWNER,), context_types=(ContextType.MEMORY,))
    assert _search(backend, memories, asked) == {"ctx://acme/m/tea", "ctx://acme/m/move"}
    assert asked == ["keyword_search"]
