"""The dream-run store: every backend saves, replaces, lists and counts the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ogmem.core.models import NodeStatus
from ogmem.core.storage import Backend
from ogmem.core.storage_dreams import DreamRecord
from tests.conftest import make_node, nodes_of
from tests.raw import raw_rows

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _run(run_id: str, user: str = "alice", account: str = "acme", **fields: object) -> DreamRecord:
    values: dict[str, object] = {
        "account_id": account, "run_id": run_id, "user_id": user, "trigger": "cli",
        "status": "running", "started_at": T0,
    }  # fmt: skip
    values.update(fields)
    return DreamRecord(**values)  # type: ignore[arg-type]


def test_a_run_is_saved_then_replaced_with_its_steps(backend: Backend) -> None:
    backend.dreams.save_run(_run("r1"))
    steps = [{"kind": "merge", "survivor": "ctx://acme/x", "absorbed": ["ctx://acme/y"]}]
    finished = _run("r1", status="done", finished_at=T0 + timedelta(seconds=3), steps=steps)
    backend.dreams.save_run(finished)
    found = backend.dreams.find_run("acme", "r1")
    assert found == finished
    assert backend.dreams.find_run("acme", "missing") is None


def test_runs_are_listed_newest_first_per_user_and_scoped_by_account(backend: Backend) -> None:
    backend.dreams.save_run(_run("old", started_at=T0))
    backend.dreams.save_run(_run("new", started_at=T0 + timedelta(hours=1)))
    backend.dreams.save_run(_run("bob", user="bob", started_at=T0 + timedelta(hours=2)))
    backend.dreams.save_run(_run("other", account="globex"))
    assert [r.run_id for r in backend.dreams.list_runs("acme", "alice", 10)] == ["new", "old"]
    assert [r.run_id for r in backend.dreams.list_runs("acme", None, 2)] == ["bob", "new"]
    assert backend.dreams.find_run("acme", "other") is None
    assert backend.dreams.run_totals("acme") == {"running": 3}
    assert backend.dreams.run_totals("globex") == {"running": 1}


def test_new_memories_are_counted_per_category_below_a_uri(backend: Backend) -> None:
    nodes = nodes_of(backend)
    root = "ctx://acme/users/alice"
    for path, category in [
        ("users/alice/memories/events/a", "event"),
        ("users/alice/memories/events/b", "event"),
        ("users/alice/memories/preferences/c", "preference"),
        ("users/bob/memories/events/d", "event"),
    ]:
        nodes.write_node_with_outbox(
            make_node(path=path, category=category), [], expected_version=None
        )
    assert backend.dreams.new_memory_counts("acme", root, None) == {"event": 2, "preference": 1}
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert backend.dreams.new_memory_counts("acme", root, later) == {}
    archived = nodes.read_node("acme", f"{root}/memories/events/a")
    nodes.write_node_with_outbox(
        archived.evolve(status=NodeStatus.ARCHIVED), [], expected_version=1
    )
    assert backend.dreams.new_memory_counts("acme", root, None) == {"event": 1, "preference": 1}
    assert backend.dreams.new_memory_counts("globex", root, None) == {}


def test_postgres_keeps_runs_under_row_level_security(pg: Backend, pg_url: str) -> None:
    import psycopg

    pg.dreams.save_run(_run("r1"))
    assert raw_rows(pg, "SELECT count(*) AS n FROM dream_runs") == [{"n": 1}]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("SET ROLE ogmem_app")  # the application's role, no account set
        assert conn.execute("SELECT count(*) FROM dream_runs").fetchall() == [(0,)]
        conn.execute("BEGIN")
        conn.execute("SELECT set_config('ogmem.account_id', 'acme', true)")
        assert conn.execute("SELECT count(*) FROM dream_runs").fetchall() == [(1,)]
        conn.execute("ROLLBACK")
    assert pg.dreams.find_run("acme", "r1") is not None
