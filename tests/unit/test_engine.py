from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ogmem import Engine, NotFound, RequestContext, WriteStatus
from ogmem.core.models import EventStatus, NodeStatus
from ogmem.index.embedders import HashEmbedder
from tests.helpers import candidate

ALICE = RequestContext("acme", "alice", agent_id="coder", session_id="s1")
MALLORY = RequestContext("evil", "mallory", agent_id="coder", session_id="s1")


@pytest.fixture
def engine() -> Iterator[Engine]:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as opened:
        yield opened


def test_remember_read_ls_tree_history(engine: Engine) -> None:
    results = engine.remember(
        [candidate("preference"), candidate("event"), candidate("case")], ALICE
    )
    assert [r.status for r in results] == [WriteStatus.WRITTEN] * 3
    uri = str(results[0].uri)
    assert engine.read(uri, ALICE).content == "Alice edits code in vim."
    assert [(e.name, e.is_dir) for e in engine.ls(None, ALICE)] == [
        ("agents", True),
        ("users", True),
    ]
    assert [e.name for e in engine.ls("ctx://acme/users/alice/memories", ALICE)] == [
        "events",
        "preferences",
    ]
    assert len(engine.tree(None, ALICE)) == 3
    assert len(engine.tree("ctx://acme/users", ALICE)) == 2
    assert [h.node.version for h in engine.history(uri, ALICE)] == [1]
    assert engine.outbox_stats(ALICE)[EventStatus.PENDING.value] == 6


def test_parallel_remember_matches_sequential(engine: Engine) -> None:
    batch = [candidate("event", f"Event {i}.", routing_key=f"e{i}") for i in range(12)]
    results = engine.remember(batch, ALICE, parallel=True, max_workers=3)
    assert [r.candidate for r in results] == batch
    assert len(engine.tree("ctx://acme/users/alice/memories/events", ALICE)) == 12


def test_archive_move_delete(engine: Engine) -> None:
    uri = str(engine.remember([candidate("preference")], ALICE)[0].uri)
    assert engine.archive(uri, ALICE).status is NodeStatus.ARCHIVED
    assert engine.archive(uri, ALICE).version == 2  # archiving twice changes nothing
    moved = engine.move(uri, uri + "-old", ALICE, expected_version=2)
    engine.delete(moved.uri, ALICE)
    with pytest.raises(NotFound):
        engine.read(moved.uri, ALICE)


OPERATIONS: dict[str, Callable[[Engine, str], object]] = {
    "read": lambda e, u: e.read(u, MALLORY),
    "history": lambda e, u: e.history(u, MALLORY),
    "ls": lambda e, u: e.ls(u.rsplit("/", 1)[0], MALLORY),
    "tree": lambda e, u: e.tree("ctx://acme", MALLORY),
    "archive": lambda e, u: e.archive(u, MALLORY),
    "delete": lambda e, u: e.delete(u, MALLORY),
    "move": lambda e, u: e.move(u, "ctx://evil/users/mallory/stolen", MALLORY),
}


@pytest.mark.parametrize("operation", OPERATIONS, ids=list(OPERATIONS))
def test_another_account_sees_nothing(engine: Engine, operation: str) -> None:
    uri = str(engine.remember([candidate("preference")], ALICE)[0].uri)
    with pytest.raises(NotFound):
        OPERATIONS[operation](engine, uri)
    assert engine.read(uri, ALICE).version == 1
    assert engine.tree(None, MALLORY) == [] and engine.outbox_events(MALLORY) == []
