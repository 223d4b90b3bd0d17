"""The SQLite store under the failures an operator meets: several processes creating one new
file at once, and a disk that fills up and is freed again."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from ogmem.core import errors
from ogmem.nodes import Nodes
from ogmem.store import queries
from ogmem.store.sql_nodes import SqlNodeStore
from ogmem.store.sql_outbox import SqlOutboxStore
from ogmem.store.sqlite_db import SqliteDatabase
from tests.conftest import make_node

ROUNDS = 5
PROCESSES = 4


class SqliteFile:
    """The SQLite connector and the Store over it: these tests are about SQLite itself."""

    def __init__(self, path: object) -> None:
        self.db = SqliteDatabase(str(path))
        self.store = Nodes(self.db, SqlNodeStore(self.db), SqlOutboxStore(self.db))

    def __enter__(self) -> SqliteFile:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.db.close()


def _open_and_report(path: str, results: multiprocessing.Queue[str]) -> None:
    try:
        with SqliteFile(path) as opened:
            results.put(f"ok {opened.db.schema_version()}")
    except Exception as exc:  # reported to the parent, which asserts on it
        results.put(repr(exc))


def test_processes_creating_one_new_store_at_once_all_succeed(tmp_path: Path) -> None:
    latest = len(queries.migration_scripts("sqlite"))
    context = multiprocessing.get_context("fork")
    for round_number in range(ROUNDS):
        path = str(tmp_path / f"new-{round_number}.sqlite")
        results: multiprocessing.Queue[str] = context.Queue()
        processes = [
            context.Process(target=_open_and_report, args=(path, results)) for _ in range(PROCESSES)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join(60)
        outcomes = [results.get(timeout=5) for _ in processes]
        assert outcomes == [f"ok {latest}"] * PROCESSES
        with SqliteFile(path) as opened:
            applied = _sql(opened, "SELECT version FROM schema_migrations")
        assert sorted(r["version"] for r in applied) == list(range(1, latest + 1))


def _sql(opened: SqliteFile, text: str) -> list[dict[str, object]]:
    """Raw SQL on the connector's own connection."""
    return list(opened.db._conn.execute(text).fetchall())


def _fill(store: SqliteFile) -> None:
    """Cap the file at its current size, as a full disk would (SQLITE_FULL on growth)."""
    pages = _sql(store, "PRAGMA page_count")[0]["page_count"]
    _sql(store, f"PRAGMA max_page_count = {pages}")


def _free(store: SqliteFile) -> None:
    _sql(store, "PRAGMA max_page_count = 1073741823")


def _write(opened: SqliteFile, number: int) -> None:
    node = make_node(path=f"users/alice/memories/events/e{number}", content="x" * 20_000)
    opened.store.write_node_with_outbox(node, [], expected_version=None)


def test_a_full_disk_is_reported_and_writes_resume_once_space_is_free(tmp_path: Path) -> None:
    with SqliteFile(tmp_path / "full.sqlite") as store:
        _write(store, 0)
        store.db.check_writable()  # healthy: a read is enough
        _fill(store)
        with pytest.raises(errors.StoreError, match="full"):
            _write(store, 1)
        with pytest.raises(errors.StoreError, match="full"):
            store.db.check_writable()  # readiness now says so
        _free(store)
        store.db.check_writable()  # the probe writes again, and clears the failure
        assert store.db.write_error is None
        _write(store, 2)  # no transaction was left open by the failed COMMIT
        assert store.store.exists("acme", "ctx://acme/users/alice/memories/events/e2")
        assert not store.store.exists("acme", "ctx://acme/users/alice/memories/events/e1")


def test_a_full_disk_inside_a_group_commit_leaves_no_transaction_open(tmp_path: Path) -> None:
    with SqliteFile(tmp_path / "group.sqlite") as store:
        _write(store, 0)
        _fill(store)
        with pytest.raises(errors.StoreError), store.db.group_commit():
            _write(store, 1)
        _free(store)
        with store.db.group_commit():
            _write(store, 2)
        assert store.store.exists("acme", "ctx://acme/users/alice/memories/events/e2")


class _CommitFailsOnce:
    """The real connection, except that the next COMMIT fails as on a full disk: SQLite then
    keeps the transaction open (documented for SQLITE_FULL and SQLITE_BUSY on COMMIT)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.armed = True

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if self.armed and sql.strip().upper() == "COMMIT":
            self.armed = False
            full = sqlite3.OperationalError("database or disk is full")
            full.sqlite_errorcode = sqlite3.SQLITE_FULL
            raise full
        return self._conn.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)


@pytest.mark.parametrize("grouped", [False, True])
def test_a_commit_refused_for_a_full_disk_leaves_no_transaction_open(
    tmp_path: Path, grouped: bool
) -> None:
    with SqliteFile(tmp_path / "commit.sqlite") as store:
        real = store.db._conn
        store.db._conn = _CommitFailsOnce(real)  # type: ignore[assignment]
        with pytest.raises(errors.StoreError, match="full"):
            if grouped:
                with store.db.group_commit():
                    _write(store, 1)
            else:
                _write(store, 1)
        assert not real.in_transaction
        assert store.db.write_error is not None
        _write(store, 2)  # the next write works, and clears the failure
        assert store.db.write_error is None
        assert store.store.exists("acme", "ctx://acme/users/alice/memories/events/e2")
        assert not store.store.exists("acme", "ctx://acme/users/alice/memories/events/e1")


def test_a_session_stuck_committing_on_a_full_disk_says_why(tmp_path: Path) -> None:
    from ogmem import Engine, Message, RequestContext
    from ogmem.index.embedders import HashEmbedder

    ctx = RequestContext("acme", "alice", session_id="s1")
    with Engine.open(tmp_path / "e.sqlite", embedder=HashEmbedder(), worker=False) as engine:
        engine.ingest([Message("user", "I moved to Lisbon.", message_id="m1")], ctx)
        assert engine.commit("s1", ctx).status.value == "committing"
        opened = SqliteFile.__new__(SqliteFile)
        opened.db, opened.store = engine.backend.uow, engine.store  # type: ignore[assignment]
        _fill(opened)
        with pytest.raises(errors.StoreError):  # the worker cannot write the memory
            _write(opened, 1)
        stuck = engine.session("s1", ctx)
        assert stuck.last_error and "cannot take writes" in stuck.last_error
        assert engine.ready()["store"].startswith("error:")
        _free(opened)
        engine.drain()  # writes resume: the commit goes through
        done = engine.session("s1", ctx)
        assert done.status.value == "committed" and done.last_error is None
        assert engine.ready()["store"] == "ok"


def test_reads_go_on_while_another_thread_writes(tmp_path: Path) -> None:
    """A file store reads on its own connection per thread: a read does not wait for a
    write transaction, and sees what is committed, not what is in flight."""
    import threading

    with SqliteFile(tmp_path / "readers.sqlite") as opened:
        _write(opened, 0)
        writing, release = threading.Event(), threading.Event()

        def slow_write() -> None:
            with opened.db.group_commit():
                _write(opened, 1)
                writing.set()
                release.wait(10)

        writer = threading.Thread(target=slow_write)
        writer.start()
        assert writing.wait(10)
        seen = opened.store.exists("acme", "ctx://acme/users/alice/memories/events/e1")
        old = opened.store.exists("acme", "ctx://acme/users/alice/memories/events/e0")
        release.set()
        writer.join(10)
        assert (old, seen) == (True, False)  # answered during the write, without its rows
        assert opened.store.exists("acme", "ctx://acme/users/alice/memories/events/e1")
