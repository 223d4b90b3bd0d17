from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ogmem.core.models import ContextNode, ContextType, RequestContext
from ogmem.core.storage import Backend
from ogmem.nodes import Nodes
from ogmem.store import open_backend
from tests.pg import PgCluster


@pytest.fixture(autouse=True)
def _scrub_ogmem_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's OGMEM_* configuration."""
    for name in list(os.environ):
        if name.startswith("OGMEM_"):
            monkeypatch.delenv(name)


BACKENDS = ["sqlite-memory", "sqlite-file", "postgres"]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One PostgreSQL server for the whole session, started when a test first needs it."""
    cluster = PgCluster()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A migrated PostgreSQL database with no rows for one test, emptied after it."""
    url = pg_cluster.fresh_database()
    try:
        yield url
    finally:
        pg_cluster.reuse(url)


@pytest.fixture
def pg(pg_url: str) -> Iterator[Backend]:
    """The PostgreSQL backend alone, over this test's database."""
    opened = open_backend(pg_url)
    try:
        yield opened
    finally:
        opened.close()


def store_url(request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> str:
    """Where a store of ``kind`` (one of BACKENDS) lives for this test."""
    if kind == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return url
    return ":memory:" if kind == "sqlite-memory" else str(tmp_path / "store.sqlite")


@pytest.fixture(params=["sqlite-memory", "postgres"])
def engine_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where an Engine test's store lives: in-memory SQLite, then PostgreSQL."""
    return store_url(request, request.param, tmp_path)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every backend the contract suite runs against."""
    opened = open_backend(store_url(request, request.param, tmp_path))
    try:
        yield opened
    finally:
        opened.close()


def nodes_of(backend: Backend) -> Nodes:
    return Nodes(backend.uow, backend.nodes, backend.outbox)


@pytest.fixture
def store(backend: Backend) -> Nodes:
    """The Store the write pipeline talks to, over each backend."""
    return nodes_of(backend)


def make_node(
    account: str = "acme", path: str = "users/alice/memories/preferences/editor", **fields: object
) -> ContextNode:
    values: dict[str, object] = {
        "account_id": account,
        "uri": f"ctx://{account}/{path}",
        "context_type": ContextType.MEMORY,
        "category": "preference",
        "owner_space": "user:alice",
        "abstract": "Prefers vim",
        "content": "Alice edits in vim.",
    }
    values.update(fields)
    return ContextNode(**values)  # type: ignore[arg-type]


@pytest.fixture
def ctx() -> RequestContext:
    return RequestContext(account_id="acme", user_id="alice", agent_id="coder", session_id="s1")
