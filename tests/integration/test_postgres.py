"""What only the PostgreSQL backend has: row-level security, migrations under a lock, the
connector's transactions and errors, LISTEN wake-ups, pgvector search. (The shared contract,
write pipeline and key tests run on it through the ``backend`` fixture.)"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from ogmem.core import errors
from ogmem.core.models import (
    CandidateMemory,
    EventType,
    OutboxEvent,
    RequestContext,
    SearchFilter,
    utcnow,
)
from ogmem.core.storage import Backend
from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.keys import Keys
from ogmem.nodes import Nodes
from ogmem.store import open_backend, queries
from ogmem.store.postgres_db import PostgresDatabase, to_pyformat, without_password
from tests.conftest import make_node, nodes_of
from tests.pg import PgCluster
from tests.raw import raw_rows

TABLES = (
    "context_nodes", "context_node_versions", "outbox_events", "applied_ops", "index_records",
    "index_clock", "index_tombstones", "recall_signals", "sessions", "session_messages",
    "api_keys", "dream_runs",
)  # fmt: skip


def _db(backend: Backend) -> PostgresDatabase:
    assert isinstance(backend.uow, PostgresDatabase)
    return backend.uow


def _write(
    store: Nodes, account: str, path: str = "users/alice/memories/preferences/editor"
) -> str:
    node = make_node(account, path)
    event = OutboxEvent(account, EventType.UPSERT_CONTEXT, node.uri, {"version": 1})
    store.write_node_with_outbox(node, [event], expected_version=None, fingerprint=node.uri)
    return node.uri


def _as_app(url: str, *statements: str) -> list[Any]:
    """The last statement's rows, run as the application role on a plain connection."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET ROLE ogmem_app")
        *before, last = statements
        for statement in before:
            conn.execute(statement.encode())
        return conn.execute(last.encode()).fetchall()


# -- row-level security ----------------------------------------------------------------------


def test_every_table_has_forced_row_level_security_and_an_account(pg: Backend) -> None:
    tables = raw_rows(
        pg,
        "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
        "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace",
    )
    by_name = {t["relname"]: t for t in tables}
    assert set(by_name) == {*TABLES, "schema_migrations"}
    assert all(t["relrowsecurity"] and t["relforcerowsecurity"] for t in tables)
    for table in TABLES:
        columns = raw_rows(pg, f"SELECT * FROM {table} LIMIT 0")
        assert columns == []
        names = raw_rows(
            pg,
            f"SELECT attname FROM pg_attribute WHERE attnum > 0 AND attrelid = '{table}'::regclass",
        )
        assert "account_id" in {n["attname"] for n in names}, table


def test_a_query_that_forgets_its_account_filter_still_sees_one_account(
    pg: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = nodes_of(pg)
    a_uri, b_uri = _write(store, "A"), _write(store, "B")
    forgetful = "SELECT uri FROM context_nodes WHERE :account_id::text IS NOT NULL"
    monkeypatch.setitem(_db(pg)._sql, "forgetful", to_pyformat(forgetful))
    assert [r["uri"] for r in _db(pg).fetch_all("forgetful", account_id="A")] == [a_uri]
    assert [r["uri"] for r in _db(pg).fetch_all("forgetful", account_id="B")] == [b_uri]
    # the owner (past the policies) does see both: the filtering above is row-level security
    assert len(raw_rows(pg, "SELECT uri FROM context_nodes")) == 2


def test_a_connection_without_the_account_setting_sees_no_rows(pg: Backend, pg_url: str) -> None:
    store = nodes_of(pg)
    _write(store, "A")
    Keys(pg.keys).create("A")
    for table in ("context_nodes", "context_node_versions", "outbox_events", "applied_ops",
                  "api_keys"):  # fmt: skip
        assert raw_rows(pg, f"SELECT count(*) AS n FROM {table}") == [{"n": 1}], table
        assert _as_app(pg_url, f"SELECT count(*) FROM {table}") == [(0,)], table


def test_a_transaction_set_to_one_account_cannot_write_another(pg_url: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        _as_app(
            pg_url,
            "BEGIN",
            "SELECT set_config('ogmem.account_id', 'A', true)",
            "INSERT INTO applied_ops VALUES ('B', 'fp', 'ctx://B/x', 'write', 1, now()) "
            "RETURNING 1",
        )


def test_keyword_search_reads_only_the_account_its_transaction_is_set_to(pg_url: str) -> None:
    """It runs as the owner (so that the GIN index serves it, see migration 0004) and keeps
    the policy's promise itself."""
    with Engine.open(pg_url, embedder=HashEmbedder(), worker=False) as engine:
        for account in ("A", "B"):
            memory = CandidateMemory(
                category="preference", routing_key="q", abstract="quince jam", content="quince jam"
            )
            engine.remember([memory], RequestContext(account, "u", session_id="s"))
        engine.drain()
        assert [h.uri for h in engine.index.keyword_search("B", ["quince"], SearchFilter(), 5)]
    set_to = "SELECT set_config('ogmem.account_id', '{}', false)"
    # the owner's own records (few: migration 0014's first branch), then the GIN index's
    for owners, few in (("'{user:u}'", "true"), ("NULL", "false")):
        search = (
            f"SELECT uri FROM ogmem_keyword_search('B', '{{quince}}', {owners}, NULL, NULL, "
            f"NULL, 5, {few})"
        )
        found = _as_app(pg_url, set_to.format("B"), search)
        assert ("ctx://B/users/u/memories/preferences/q",) in found
        assert _as_app(pg_url, set_to.format("A"), search) == []
        assert _as_app(pg_url, search) == []


def test_the_app_role_cannot_run_what_only_the_owner_may(pg_url: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_app(pg_url, "SELECT * FROM schema_migrations")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _as_app(pg_url, "ALTER TABLE context_nodes DISABLE ROW LEVEL SECURITY")


def test_the_statements_that_span_accounts_still_work(pg: Backend) -> None:
    store = nodes_of(pg)
    _write(store, "A")
    _write(store, "B")
    now = utcnow()
    claimed = pg.outbox.claim("w1", now=now, until=now, limit=10, eager=True)
    assert sorted(e.account_id for e in claimed) == ["A", "B"]
    assert pg.outbox.renew("w1", now) == 2
    assert pg.nodes.account_ids() == ["A", "B"]
    keys = Keys(pg.keys)
    key_a, plain_a = keys.create("A")
    keys.create("B")
    found = keys.verify(plain_a)
    assert found is not None and found.account_id == "A"
    assert {k.account_id for k in keys.list_keys()} == {"A", "B"}
    assert keys.has_active() and keys.has_active("B")
    assert keys.revoke(key_a.key_id) and not keys.has_active("A")
    assert pg.uow.schema_version() == len(queries.migration_scripts("postgres"))


def test_a_lease_renewal_skips_the_claims_a_transaction_holds(pg: Backend, pg_url: str) -> None:
    """The heartbeat must not wait for the worker's own finishing transaction: waiting for
    it deadlocked (the transaction locks its events chunk by chunk)."""
    store = nodes_of(pg)
    _write(store, "A")
    _write(store, "A", "users/alice/memories/preferences/shell")
    now = utcnow()
    first, _ = pg.outbox.claim("w1", now=now, until=now, limit=10, eager=True)
    renewed: list[int] = []
    with psycopg.connect(pg_url) as finishing:  # the worker's transaction, not yet committed
        finishing.execute("UPDATE outbox_events SET status = 'DONE' WHERE id = %s", (first.id,))
        heartbeat = threading.Thread(target=lambda: renewed.append(pg.outbox.renew("w1", now)))
        heartbeat.start()
        heartbeat.join(timeout=30)
        assert not heartbeat.is_alive(), "the renewal waited for the finishing transaction"
    assert renewed == [1]  # the other claim


# -- migrations and the connector -------------------------------------------------------------


def test_the_vector_index_builds_in_memory_in_one_process(pg_url: str, pg: Backend) -> None:
    """Past maintenance_work_mem pgvector builds on disk, many times slower: the build gets at
    least 1 GB, and more when the operator's setting grants more (migration 0013); a parallel
    build would reserve all of it in shared memory at once (migration 0006)."""
    found = raw_rows(
        pg, "SELECT proconfig FROM pg_proc WHERE proname = 'ogmem_ensure_vector_index'"
    )
    assert "max_parallel_maintenance_workers=0" in found[0]["proconfig"]

    def memory_of_a_build(dims: int, granted: str) -> tuple[str, str]:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            with conn.transaction():
                conn.execute(f"SET LOCAL maintenance_work_mem = '{granted}'")
                conn.execute("SELECT ogmem_ensure_vector_index(%s)", (dims,))
                during = conn.execute("SHOW maintenance_work_mem").fetchone()
            after = conn.execute("SHOW maintenance_work_mem").fetchone()
        assert during is not None and after is not None
        return str(during[0]), str(after[0])

    default = memory_of_a_build(7, "64MB")
    assert default[0] == "1GB" and default[1] != "1GB"  # raised for the build only
    assert memory_of_a_build(9, "3GB")[0] == "3GB"  # an operator's larger grant is kept
    indexes = raw_rows(pg, "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%hnsw_%'")
    assert {"index_records_hnsw_7", "index_records_hnsw_9"} <= {r["indexname"] for r in indexes}


def _graph_options(url: str, dims: int) -> list[str]:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT reloptions FROM pg_class WHERE relname = %s", (f"index_records_hnsw_{dims}",)
        ).fetchone()
    return list(row[0] or []) if row else []


def test_the_vector_graph_is_dense_and_a_graph_built_before_is_built_again(pg_url: str) -> None:
    """pgvector's defaults (m 16, ef_construction 64, ef_search 40) found 0.66 of the exact 50
    nearest on the bench's clustered vectors; migration 0012 builds and searches denser."""
    with psycopg.connect(pg_url, autocommit=True) as conn:  # a graph as migration 0011 built it
        conn.execute(
            "CREATE INDEX index_records_hnsw_8 ON index_records "
            "USING hnsw ((embedding::vector(8)) vector_cosine_ops) WHERE dims = 8"
        )
        (upgrade,) = [sql for n, _, sql in queries.migration_scripts("postgres") if n == 12]
        conn.execute(upgrade.encode())
    assert _graph_options(pg_url, 8) == []  # dropped, to be built again
    engine = Engine.open(pg_url, embedder=HashEmbedder(dimensions=8), worker=False)
    with engine, _db(engine.backend)._pool.connection() as conn:  # as every search runs
        shown = conn.execute("SHOW hnsw.ef_search").fetchone()
    assert _graph_options(pg_url, 8) == ["m=32", "ef_construction=128"]
    assert shown == {"hnsw.ef_search": "200"}


def _searched_with(url: str) -> str:
    """The hnsw.ef_search of a connection from the pool every search uses, after a search."""
    engine = Engine.open(url, embedder=HashEmbedder(dimensions=8), worker=False)
    with engine, _db(engine.backend)._pool.connection() as conn:
        conn.execute("SELECT '[1,0]'::vector")  # pgvector's settings exist once it is loaded
        shown = conn.execute("SHOW hnsw.ef_search").fetchone()
    assert shown is not None
    return str(shown["hnsw.ef_search"])


def test_an_operators_hnsw_search_width_is_kept_and_ogmems_is_the_default(pg_url: str) -> None:
    """ogmem widens pgvector's candidate list from its default (40: less than the depth a
    hybrid search asks for) to 200, unless the operator chose one for the database, the role
    or the URL: data whose neighbours crowd closer than real text's may need more."""
    assert _searched_with(pg_url) == "200"
    separator = "&" if "?" in pg_url else "?"
    assert _searched_with(f"{pg_url}{separator}options=-c%20hnsw.ef_search%3D600") == "600"
    name = urlsplit(pg_url).path.lstrip("/")
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("SELECT '[1]'::vector")  # PostgreSQL checks a setting it knows
        conn.execute(f"ALTER DATABASE {name} SET hnsw.ef_search = 40".encode())
    try:
        assert _searched_with(pg_url) == "40"  # the operator's, even pgvector's own default
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("SELECT '[1]'::vector")
            conn.execute(f"ALTER DATABASE {name} RESET hnsw.ef_search".encode())


def test_concurrent_opens_of_a_new_database_apply_each_migration_once(
    pg_cluster: PgCluster,
) -> None:
    url = pg_cluster.empty_database()
    try:
        with ThreadPoolExecutor(4) as pool:
            opened = list(pool.map(lambda _: open_backend(url), range(4)))
        for backend in opened:
            backend.uow.check_writable()
        rows = raw_rows(opened[0], "SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [n for n, _, _ in queries.migration_scripts(
            "postgres")]  # fmt: skip
        for backend in opened:
            backend.close()
    finally:
        pg_cluster.drop(url)


def test_a_failed_statement_leaves_its_transaction_usable(pg: Backend) -> None:
    """As on SQLite: the insert collides, the store reads the version it collided with, and
    the enclosing transaction commits what it wrote before."""
    store = nodes_of(pg)
    uri = _write(store, "A")
    other = make_node("A", "users/alice/memories/preferences/shell")
    with pg.uow.transaction():
        pg.nodes.insert([other.evolve(version=1)])
        with pytest.raises(errors.ConcurrentModificationError) as caught:
            pg.nodes.insert([make_node("A").evolve(version=1)])
        assert caught.value.actual_version == 1
    assert store.find_node("A", other.uri) is not None and store.exists("A", uri)


def test_a_savepoint_that_fails_restores_the_account_of_the_transaction(pg: Backend) -> None:
    store = nodes_of(pg)
    _write(store, "A")
    with pg.uow.transaction():
        assert pg.nodes.version_of("A", "ctx://A/users/alice/memories/preferences/editor") == 1
        with pytest.raises(RuntimeError), pg.uow.transaction():
            pg.nodes.version_of("B", "ctx://B/x")
            raise RuntimeError("rolled back to the savepoint, and the setting with it")
        assert pg.nodes.version_of("A", "ctx://A/users/alice/memories/preferences/editor") == 1


def test_unique_violations_name_their_table_and_other_errors_are_store_errors(
    pg: Backend,
) -> None:
    keys = Keys(pg.keys)
    info, _ = keys.create("A")
    from ogmem.core.storage import KeyRecord

    record = KeyRecord(info.key_id, "A", None, False, "", utcnow())
    with pytest.raises(errors.UniqueViolation) as caught:
        pg.keys.insert(record, "another-hash")
    assert caught.value.table == "api_keys" and "postgresql:" in str(caught.value)
    with pytest.raises(errors.InvalidInput, match="NUL"):
        pg.nodes.insert([make_node("A", content="nul \x00 byte")])
    with pytest.raises(errors.InvalidInput, match="NUL"):
        pg.nodes.insert([make_node("A", metadata={"note": "nul \x00 byte"})])
    with pytest.raises(errors.StoreError, match=r"postgresql:.*violates check constraint"):
        pg.nodes.insert([make_node("A", version=0)])


def test_an_unreachable_server_is_a_store_error(pg_cluster: PgCluster) -> None:
    with pytest.raises(errors.StoreError, match=r"postgresql:.*does not exist"):
        open_backend(pg_cluster.url("no_such_database"))


def test_a_read_only_server_opens_but_is_not_writable(pg_cluster: PgCluster) -> None:
    url = pg_cluster.fresh_database()
    name = urlsplit(url).path.lstrip("/")
    pg_cluster._admin(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
    try:
        backend = open_backend(url)
        try:
            with pytest.raises(errors.StoreError, match="read-only"):
                backend.uow.check_writable()
            assert backend.nodes.find("A", "ctx://A/x") is None  # reads still work
        finally:
            backend.close()
    finally:
        pg_cluster.drop(url)


def test_describe_names_the_database_without_its_password() -> None:
    url = "postgresql://app:s3cret@db.local:5432/mem?sslmode=require&password=s3cret"
    assert without_password(url) == "postgresql://app@db.local:5432/mem?sslmode=require"


def test_without_the_extra_a_postgresql_url_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ogmem.store

    for name in [m for m in sys.modules if m.startswith("ogmem.store.postgres")]:
        monkeypatch.delitem(sys.modules, name)
        monkeypatch.delattr(ogmem.store, name.rsplit(".", 1)[1], raising=False)
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(errors.ConfigurationError, match=r"pip install 'ogmem\[postgres\]'"):
        open_backend("postgresql://localhost/ogmem")


# -- wake-ups --------------------------------------------------------------------------------


def test_another_process_writing_events_wakes_the_listener(pg: Backend, pg_url: str) -> None:
    assert pg.wake_on_events is not None
    woken = threading.Event()
    stop = pg.wake_on_events(woken.set)
    writer = open_backend(pg_url)
    try:
        assert not woken.wait(0.3)
        _write(nodes_of(writer), "A")
        assert woken.wait(5)
    finally:
        writer.close()
        stop()
    woken.clear()
    _write(nodes_of(pg), "A", "users/alice/memories/preferences/shell")
    time.sleep(0.5)
    assert not woken.is_set()  # stopped


def test_an_engine_on_postgresql_searches_with_pgvector_by_default(pg_url: str) -> None:
    from ogmem import CandidateMemory, Engine, RequestContext
    from ogmem.index.embedders import HashEmbedder

    ctx = RequestContext("acme", "alice")
    with Engine.open(pg_url, embedder=HashEmbedder(), worker=False) as engine:
        assert type(engine.vectors).__name__ == "PgVectorIndex"
        assert engine.backend.searches_in_server  # its keyword search runs beside (below)
        memory = CandidateMemory(
            category="preference", routing_key="editor", abstract="Prefers vim",
            content="Alice edits code in vim.",
        )  # fmt: skip
        engine.remember([memory], ctx)
        engine.drain()
        hits = engine.search("which editor does alice use? vim", ctx).hits
        assert hits and hits[0].uri.endswith("preferences/editor")
        assert "vector" in hits[0].why and "bm25" in hits[0].why


def test_a_server_started_with_a_page_cache_serves_with_it_and_stops() -> None:
    """The benchmarks' server (bench/pg.py) gets its shared_buffers by a restart after the
    first start; the restarted server is the one the cluster stops."""
    import psutil

    cluster = PgCluster(shared_buffers_mb=160)
    try:
        with psycopg.connect(cluster.fresh_database()) as conn:
            row = conn.execute("SHOW shared_buffers").fetchone()
        assert row is not None and row[0] == "160MB"
        pid = cluster._server.get_pid()
        assert psutil.pid_exists(pid)
    finally:
        cluster.stop()
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(pid).wait(timeout=10)  # raises TimeoutExpired if it is still serving
