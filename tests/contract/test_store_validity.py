"""Validity and expiry columns, and supersede, on every backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ogmem.commit import supersede
from ogmem.core import errors
from ogmem.core.models import EventType, NodeStatus, OutboxEvent, utcnow
from ogmem.core.storage import Backend
from ogmem.nodes import Nodes
from tests.conftest import make_node

PARIS = "users/alice/memories/entities/alice-home"
BERLIN = "users/alice/memories/entities/alice-home-berlin"
MOVED = datetime(2024, 3, 1, tzinfo=UTC)


def _event(path: str) -> OutboxEvent:
    return OutboxEvent("acme", EventType.UPSERT_CONTEXT, f"ctx://acme/{path}", {"version": 1})


def test_validity_and_expiry_are_stored_read_and_kept_in_history(store: Nodes) -> None:
    start, end, expiry = datetime(2020, 1, 1, tzinfo=UTC), MOVED, utcnow() + timedelta(days=3)
    node = make_node(path=PARIS, valid_from=start, valid_to=end, expires_at=expiry)
    store.write_node_with_outbox(node, [_event(PARIS)], expected_version=None)
    read = store.read_node("acme", node.uri)
    assert (read.valid_from, read.valid_to, read.expires_at) == (start, end, expiry)
    store.write_node_with_outbox(read.evolve(valid_to=None), [], expected_version=1)
    first, second = store.history("acme", node.uri)
    assert (first.node.valid_to, second.node.valid_to) == (end, None)
    assert second.node.valid_from == start and second.node.expires_at == expiry


def test_expired_lists_only_active_nodes_past_their_expiry(store: Nodes) -> None:
    now = utcnow()
    for name, expires in (("gone", now - timedelta(minutes=1)), ("later", now + timedelta(1))):
        path = f"users/alice/memories/events/{name}"
        store.write_node_with_outbox(
            make_node(path=path, expires_at=expires), [_event(path)], expected_version=None
        )
    store.write_node_with_outbox(make_node(path=PARIS), [_event(PARIS)], expected_version=None)
    assert store.expired("acme", now, 10) == [("ctx://acme/users/alice/memories/events/gone", 1)]
    assert store.expired("other", now, 10) == []
    store.archive_node(
        "acme", "ctx://acme/users/alice/memories/events/gone", expected_version=1, events=[],
        archived_at=now,
    )  # fmt: skip
    assert store.expired("acme", now, 10) == []


def test_supersede_closes_the_older_fact_and_opens_the_newer(store: Nodes) -> None:
    paris = make_node(path=PARIS, abstract="Alice lives in Paris")
    berlin = make_node(path=BERLIN, abstract="Alice lives in Berlin")
    older = store.write_node_with_outbox(paris, [_event(PARIS)], expected_version=None)
    done = supersede.supersede(store, older, berlin.evolve(valid_from=MOVED), reason="moved")
    read_older = store.read_node("acme", older.uri)
    read_newer = store.read_node("acme", berlin.uri)
    assert read_older.valid_to == MOVED and read_older.status is NodeStatus.ACTIVE
    assert read_older.metadata["superseded_by"] == berlin.uri
    assert read_newer.valid_from == MOVED and read_newer.metadata["supersedes"] == [older.uri]
    assert (done.older.version, done.newer.version) == (2, 1)
    assert [h.action for h in store.history("acme", older.uri)] == ["write", "superseded"]


def test_supersede_is_all_or_nothing(store: Nodes) -> None:
    paris = make_node(path=PARIS, abstract="Alice lives in Paris")
    older = store.write_node_with_outbox(paris, [_event(PARIS)], expected_version=None)
    stale_newer = make_node(path=BERLIN, version=4)  # no node there at version 4
    with pytest.raises(errors.ConcurrentModificationError):
        supersede.supersede(store, older, stale_newer)
    assert store.read_node("acme", older.uri).valid_to is None
    assert store.find_node("acme", stale_newer.uri) is None


def test_last_recalls_gives_the_latest_recall_of_each_uri(backend: Backend) -> None:
    first, later = utcnow() - timedelta(hours=2), utcnow()
    a, b = "ctx://acme/users/alice/a", "ctx://acme/users/alice/b"
    backend.index.record_recall("acme", [("q1", [(a, 0.9), (b, 0.5)], first)])
    backend.index.record_recall("acme", [("q2", [(a, 0.8)], later)])
    backend.index.record_recall("other", [("q3", [(b, 0.8)], later)])
    recalls = backend.index.last_recalls("acme", [a, b, "ctx://acme/users/alice/c"])
    assert recalls == {a: later, b: first}
