from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ogmem.core.models import ContextNode, ContextType, RequestContext
from ogmem.core.storage import Backend
from ogmem.nodes import Nodes
from ogmem.store import open_backend


@pytest.fixture(autouse=True)
def _scrub_ogmem_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's OGMEM_* configuration."""
    for name in list(os.environ):
        if name.startswith("OGMEM_"):
            monkeypatch.delenv(name)


@pytest.fixture(params=["sqlite-memory", "sqlite-file"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Every backend the contract suite runs against."""
    url = ":memory:" if request.param == "sqlite-memory" else str(tmp_path / "store.sqlite")
    opened = open_backend(url)
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
