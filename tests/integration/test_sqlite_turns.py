"""SQLite writes a turn without a transaction around it: every writer queues for the store's
write lock, and each call under it waits for the GIL again (stress `load`). A one-message
turn is one statement; recall signals of a batch are one statement per account."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ogmem.core import errors
from ogmem.core.storage import NewMessage
from ogmem.store import rows
from ogmem.store.sql_index import SqlIndexStore
from ogmem.store.sqlite_db import SqliteDatabase
from ogmem.store.sqlite_sessions import SqliteSessionStore
from tests.conftest import make_node

AT = datetime(2026, 12, 3, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteDatabase]:
    opened = SqliteDatabase(tmp_path / "store.db")
    yield opened
    opened.close()


def _statements(db: SqliteDatabase) -> list[str]:
    """What the writing connection runs from now on (a trigger's statements are reported
    with the text of the statement that fired them)."""
    ran: list[str] = []
    db._conn.set_trace_callback(ran.append)
    return ran


def test_a_one_message_turn_is_one_statement_and_keeps_its_text_whole(
    db: SqliteDatabase,
) -> None:
    sessions = SqliteSessionStore(db)
    ran = _statements(db)
    text = "before\x00after, a NUL inside"
    added, state = sessions.append(
        "acme", "s1", "alice", None, [NewMessage("m1", "user", None, text, AT, 5)], AT
    )
    assert {statement.split("(")[0].strip() for statement in ran} == {"INSERT INTO session_turn"}
    assert state is not None and (added, state.messages, state.uncommitted_tokens) == (1, 1, 5)
    stored = sessions.message("acme", "s1", "m1")
    assert stored is not None and stored.message.content == text


def test_a_turn_counts_an_id_it_repeats_once_and_leaves_nothing_for_another_user(
    db: SqliteDatabase,
) -> None:
    sessions = SqliteSessionStore(db)
    first, again = (NewMessage(f"m{i}", "user", None, f"Hi {i}.", AT, 3) for i in (1, 2))
    added, state = sessions.append("acme", "s1", "alice", None, [first, again, again], AT)
    assert state is not None and (added, state.messages, state.uncommitted_tokens) == (2, 2, 6)

    intruder = [NewMessage("m9", "user", None, "Mallory.", AT, 4), first]
    assert sessions.append("acme", "s1", "mallory", None, intruder, AT) == (0, None)
    assert sessions.get("acme", "s1") == state
    assert sessions.message("acme", "s1", "m9") is None


def test_recall_signals_of_a_batch_are_one_statement_in_rank_order(db: SqliteDatabase) -> None:
    index = SqlIndexStore(db)
    a, b = "ctx://acme/users/alice/a", "ctx://acme/users/alice/b"
    ran = _statements(db)
    index.record_recall("acme", [("q1", [(a, 0.9), (b, 0.5)], AT), ("q2", [(b, 0.7)], AT)])
    assert len(ran) == 1 and ran[0].startswith("INSERT INTO recall_signals")
    found = [
        (s["uri"], s["query_hash"], s["rank"], s["score"]) for s in index.recall_signals("acme", b)
    ]
    assert found == [(b, "q1", 2, 0.5), (b, "q2", 1, 0.7)]
    assert index.recall_signals("other", b) == []


def test_rows_of_one_call_outside_a_transaction_are_written_whole_or_not_at_all(
    db: SqliteDatabase,
) -> None:
    """Only a single statement runs in autocommit: several rows are one transaction."""
    first = make_node(version=1)
    other = make_node(path="users/alice/memories/preferences/shell", version=1)
    batch = [rows.node_params(n) for n in (first, other, first)]  # the last one a duplicate
    with pytest.raises(errors.StoreError):
        db.execute_many("insert_node", batch)
    assert db.fetch_all("read_nodes", account_id="acme", uris=[first.uri, other.uri]) == []
