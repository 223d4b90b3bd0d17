"""A node of account A is invisible to every store operation made as account B."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ogmem.core import errors
from ogmem.core.models import EventType, OutboxEvent, utcnow
from ogmem.nodes import Nodes
from tests.conftest import make_node

A_URI = "ctx://acme/users/alice/memories/preferences/editor"


@pytest.fixture
def store_with_a(store: Nodes) -> Nodes:
    event = OutboxEvent("acme", EventType.UPSERT_CONTEXT, A_URI, {"version": 1})
    store.write_node_with_outbox(make_node(), [event], expected_version=None, fingerprint="fp-a")
    return store


def _a_is_intact(store: Nodes) -> None:
    node = store.read_node("acme", A_URI)
    assert (node.version, node.content) == (1, "Alice edits in vim.")
    assert len(store.history("acme", A_URI)) == 1


READS: dict[str, Callable[[Nodes], object]] = {
    "find_node": lambda s: s.find_node("evil", A_URI),
    "exists": lambda s: s.exists("evil", A_URI),
    "list_children": lambda s: s.list_children(
        "evil", "ctx://acme/users/alice/memories/preferences"
    ),
    "list_children_root": lambda s: s.list_children("evil", "ctx://acme"),
    "tree": lambda s: s.tree("evil", "ctx://acme"),
    "active_children": lambda s: any(
        s.active_children("evil", "ctx://acme/users/alice/memories/preferences", 10)
    ),
    "history": lambda s: s.history("evil", A_URI),
    "find_applied": lambda s: s.find_applied("evil", "fp-a"),
    "applied_fingerprints": lambda s: s.applied_fingerprints("evil", ["fp-a"]),
    "list_events": lambda s: s.list_events("evil"),
}


@pytest.mark.parametrize("operation", READS, ids=list(READS))
def test_reads_of_b_see_nothing_of_a(store_with_a: Nodes, operation: str) -> None:
    assert not READS[operation](store_with_a)


def test_read_node_of_b_is_not_found(store_with_a: Nodes) -> None:
    with pytest.raises(errors.NotFound):
        store_with_a.read_node("evil", A_URI)


def test_outbox_counts_of_b_are_zero(store_with_a: Nodes) -> None:
    assert sum(store_with_a.outbox_counts("evil").values()) == 0
    assert store_with_a.outbox_counts("acme")["PENDING"] == 1


WRITES: dict[str, Callable[[Nodes], object]] = {
    "update": lambda s: s.write_node_with_outbox(
        make_node(account="evil").evolve(uri=A_URI), [], expected_version=1
    ),
    "archive_node": lambda s: s.archive_node(
        "evil", A_URI, expected_version=1, events=[], archived_at=utcnow()
    ),
    "delete_node": lambda s: s.delete_node("evil", A_URI, expected_version=1, events=[]),
    "move_node": lambda s: s.move_node("evil", A_URI, A_URI + "2", expected_version=1, events=[]),
}


@pytest.mark.parametrize("operation", WRITES, ids=list(WRITES))
def test_writes_of_b_cannot_touch_a(store_with_a: Nodes, operation: str) -> None:
    with pytest.raises(errors.ConcurrentModificationError) as info:
        WRITES[operation](store_with_a)
    assert info.value.actual_version is None  # B does not even learn that A's node exists
    _a_is_intact(store_with_a)


def test_same_fingerprint_in_another_account_is_independent(store_with_a: Nodes) -> None:
    node = make_node(account="evil")
    stored = store_with_a.write_node_with_outbox(
        node, [], expected_version=None, fingerprint="fp-a"
    )
    assert stored.version == 1
    _a_is_intact(store_with_a)
