from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ogmem.core.models import ContextNode, ContextType, RequestContext
from ogmem.store.sqlite import SqliteStore


@pytest.fixture(autouse=True)
def _scrub_ogmem_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's OGMEM_* configuration."""
    for name in list(os.environ):
        if name.startswith("OGMEM_"):
            monkeypatch.delenv(name)


@pytest.fixture(params=["sqlite-memory", "sqlite-file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqliteStore]:
    path = ":memory:" if request.param == "sqlite-memory" else tmp_path / "store.sqlite"
    with SqliteStore(path) as opened:
        yield opened


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
