"""Erasing a user (``Engine.forget_user``) on SQLite: a canary written in every kind of row is
nowhere in the database file's bytes afterwards (after VACUUM, and already before it), the
user's rows are gone from every table, and the other users (one whose id is a prefix of the
erased one's, the same id in another account) are untouched."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from ogmem.core import errors
from ogmem.engine import Engine
from tests.erase_fill import CJK, Person, fill, open_engine

# no other term of the index starts with "j": FTS5 stores it whole, not after a shared prefix
ERASED = Person("acme", "zulu7canary", "Jabberwockyquux")
NEIGHBOUR = Person("acme", "zulu7", "Marzipanvortex")  # its id is a prefix of ERASED's
ELSEWHERE = Person("other", "zulu7canary", "Quasarnectar")  # same user id, another account


def _file_bytes(path: Path) -> bytes:
    """The database file and whatever write-ahead log it has, lower-cased (FTS5 keeps terms
    lower-cased)."""
    files = [path, path.with_name(path.name + "-wal")]
    return b"".join(f.read_bytes() for f in files if f.exists()).lower()


def _marks(person: Person) -> list[bytes]:
    return [person.canary.lower().encode(), person.root.lower().encode()]


def _in_full_text(path: Path, word: str) -> bool:
    with closing(sqlite3.connect(path)) as conn:
        (count,) = conn.execute(
            "SELECT count(*) FROM index_fts_data WHERE instr(lower(block), ?) > 0",
            (word.lower().encode(),),
        ).fetchone()
    return bool(count)


def _vacuum(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("VACUUM")


def _rows_naming(path: Path, person: Person) -> dict[str, int]:
    """Per table, the rows of the person's account whose text has their user id or canary."""
    found: dict[str, int] = {}
    with closing(sqlite3.connect(path)) as conn:
        tables = [name for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'index_fts%'"
        )]  # fmt: skip
        for table in tables:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            if "account_id" not in columns:
                continue
            text = " || ' ' || ".join(f"coalesce(CAST({c} AS TEXT), '')" for c in columns)
            (count,) = conn.execute(
                f"SELECT count(*) FROM {table} WHERE account_id = ? AND "
                f"(instr({text}, ?) > 0 OR instr(lower({text}), ?) > 0)",
                (person.account, person.user, person.canary.lower()),
            ).fetchone()
            if count:
                found[table] = count
    return found


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "store.sqlite"
    with open_engine(str(path)) as engine:
        for person in (ERASED, NEIGHBOUR, ELSEWHERE):
            fill(engine, person, NEIGHBOUR if person is ERASED else None)
    return path


def _snapshot(engine: Engine, person: Person) -> tuple[object, ...]:
    tree = [(n.uri, n.version, n.content) for n in engine.tree(person.root, person.ctx)]
    sessions = engine.list_sessions(person.ctx)
    found = [hit.uri for hit in engine.search(person.canary, person.ctx).hits]
    return tree, [(s.session_id, s.messages) for s in sessions], found


def test_erasing_leaves_no_byte_of_the_user_and_touches_no_one_else(store: Path) -> None:
    before = _file_bytes(store)
    assert all(mark in before for p in (ERASED, NEIGHBOUR) for mark in _marks(p))
    assert CJK.encode() in before and _in_full_text(store, ERASED.canary)
    with open_engine(str(store)) as engine:
        others = {p: _snapshot(engine, p) for p in (NEIGHBOUR, ELSEWHERE)}
        report = engine.forget_user(ERASED.ctx)
        assert report.counts["nodes"] > 5 and report.counts["messages"] == 2, report.counts
        assert report.counts["api keys"] == 1 and report.counts["outbox events"] > 3
        assert {p: _snapshot(engine, p) for p in (NEIGHBOUR, ELSEWHERE)} == others
        assert engine.tree(ERASED.root, ERASED.ctx) == [] and not engine.list_sessions(ERASED.ctx)
    assert _rows_naming(store, ERASED) == {}
    assert set(_rows_naming(store, NEIGHBOUR)) >= {"context_nodes", "session_messages"}
    after = _file_bytes(store)  # secure_delete, merged full text, emptied log: even unvacuumed
    assert not [mark for mark in _marks(ERASED) if mark in after]
    _vacuum(store)
    vacuumed = _file_bytes(store)
    assert not [mark for mark in _marks(ERASED) if mark in vacuumed]
    assert all(mark in vacuumed for p in (NEIGHBOUR, ELSEWHERE) for mark in _marks(p))
    assert CJK.encode() in vacuumed  # the others' CJK terms are still there


def test_erasing_again_or_an_unknown_user_changes_nothing(store: Path) -> None:
    with open_engine(str(store)) as engine:
        engine.forget_user(ERASED.ctx)
        again = engine.forget_user(ERASED.ctx)
        assert again.total == 0 and engine.forget_user(Person("acme", "nobody", "x").ctx).total == 0
        assert engine.tree(NEIGHBOUR.root, NEIGHBOUR.ctx)


def test_a_user_id_that_cannot_exist_is_refused(store: Path) -> None:
    with open_engine(str(store)) as engine, pytest.raises(errors.InvalidURI):
        engine.forget_user(Person("acme", "../zulu7", "x").ctx)


def test_a_loaded_vector_cache_forgets_the_user(store: Path) -> None:
    with open_engine(str(store)) as engine:
        engine.search(ERASED.canary, ERASED.ctx)  # loads the user's matrix
        cache = engine.vectors.cache  # type: ignore[attr-defined]
        owner = f"user:{ERASED.user}"
        matrix = cache.peek("acme", owner)
        assert any(key[0].startswith(ERASED.root + "/") for key in matrix.slot_of)
        engine.forget_user(ERASED.ctx)
        hits = engine.search(NEIGHBOUR.canary, NEIGHBOUR.ctx).hits
        assert hits and all(h.uri.startswith(NEIGHBOUR.root + "/") for h in hits)
        assert cache.peek("acme", owner) is None  # dropped at the erase's tombstone
        assert not matrix.vectors.any()  # and its vectors zeroed, not left in freed memory
        assert engine.search(ERASED.canary, ERASED.ctx).hits == []
    assert _rows_naming(store, ERASED) == {}  # the search's buffered recall signals too
