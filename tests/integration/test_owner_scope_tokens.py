"""SQLite full text: the owner-prefixed filter tokens (migration 0017) are the ones the store
writes, whether a record was written now, scoped late (no scope yet), or upgraded by 0017."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

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


@contextmanager
def _indexed(path: Path, records: Sequence[IndexRecord]) -> Iterator[Any]:
    """The SQLite index store at ``path`` holding ``records`` (one URI each), open."""
    backend = open_backend(str(path))
    try:
        vector = np.ones(4, dtype=np.float32) / 2
        backend.index.replace_many("acme", [(r.uri, [r], [vector]) for r in records], "m")
        yield backend.index
    finally:
        backend.close()


def _write(path: Path) -> None:
    with _indexed(path, [RECORD]):
        pass


def _scoped_search(
    monkeypatch: pytest.MonkeyPatch, index: Any, words: list[str], only: SearchFilter
) -> list[str]:
    """The same search with the reader's scope tokens in the match, whatever its share."""
    with monkeypatch.context() as scoped_only:
        scoped_only.setattr(index, "_large_reader", lambda *a: False)
        return [h.uri for h in index.keyword_search("acme", words, only, 10)]


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


def _record(user: str, n: int, text: str, status: NodeStatus = NodeStatus.ACTIVE) -> IndexRecord:
    uri = f"ctx://acme/users/{user}/memories/events/e{n}"
    return IndexRecord("acme", uri, 0, text, f"user:{user}", "event", ContextType.MEMORY,
                       status, 1)  # fmt: skip


def test_a_large_reader_is_ranked_by_its_words_with_the_scoped_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader holding most of the index is ranked by its words alone, then filtered; a small
    reader keeps its scope tokens. Either way the same hits come back, in the same order: only
    the reader's own records that pass the filter."""
    records = [_record("big", n, f"volcano hike {'ash ' * (n % 5)}day {n}") for n in range(60)]
    records += [_record("big", 100 + n, f"volcano ash {n}", NodeStatus.ARCHIVED) for n in range(5)]
    records += [_record("small", 200 + n, f"volcano walk {'ash ' * n}{n}") for n in range(4)]
    with _indexed(tmp_path / "s.sqlite", records) as index:
        decided: list[bool] = []
        decide = index._large_reader
        monkeypatch.setattr(
            index, "_large_reader", lambda *a: decided.append(decide(*a)) or decided[-1]
        )
        for user, expected in (("big", 10), ("small", 4)):
            only = SearchFilter(owner_spaces=(f"user:{user}",), statuses=(NodeStatus.ACTIVE,))
            found = [h.uri for h in index.keyword_search("acme", ["volcano", "ash"], only, 10)]
            assert len(found) == expected and all(f"/users/{user}/" in u for u in found)
            assert not any(int(u.rsplit("/e", 1)[1]) in range(100, 105) for u in found)
            assert found == _scoped_search(monkeypatch, index, ["volcano", "ash"], only)
        assert decided == [True, False]  # the big reader took the words-alone path


def test_a_reader_with_a_third_of_the_index_is_looked_at_deeper_when_the_first_look_is_short(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twice the limit of the words' best matches holds too few of a reader with a third of
    the index: the search ranks deeper and returns what the scoped search returns."""
    records = [_record("mid" if n % 3 == 0 else "crowd", n, f"volcano {n}") for n in range(90)]
    with _indexed(tmp_path / "s.sqlite", records) as index:
        depths: list[int] = []
        fetch = index._db.fetch_all
        monkeypatch.setattr(
            index._db, "fetch_all",
            lambda name, **p: (depths.append(p.get("depth", 0)), fetch(name, **p))[1],
        )  # fmt: skip
        only = SearchFilter(owner_spaces=("user:mid",), statuses=(NodeStatus.ACTIVE,))
        found = [h.uri for h in index.keyword_search("acme", ["volcano"], only, 10)]
        assert depths == [20, 80]  # the first look held ~7 of mid's records
        assert len(found) == 10 and found == _scoped_search(monkeypatch, index, ["volcano"], only)
        depths.clear()  # words no record holds: one look says so, nothing deeper or exact
        assert index.keyword_search("acme", ["glacier"], only, 10) == [] and depths == [20]
