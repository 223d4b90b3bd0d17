"""The bulk export and import methods of the ports (``ogmem copy``), on every backend: pages
by key within one account, rows stored as they are, an existing key left alone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from ogmem.core.models import (
    AppliedOp,
    EventStatus,
    EventType,
    IndexRecord,
    Message,
    NodeVersion,
    OutboxEvent,
    SessionStatus,
    StoredMessage,
)
from ogmem.core.storage import Backend, KeyRecord, NewMessage
from tests.conftest import make_node

AT = datetime(2024, 5, 8, 10, tzinfo=UTC)


def test_nodes_and_applied_ops_are_paged_by_key_per_account(backend: Backend) -> None:
    nodes = [make_node(path=f"users/alice/memories/events/e{i}", version=1) for i in range(5)]
    backend.nodes.insert([*nodes, make_node("other", version=1)])
    first = backend.nodes.export_nodes("acme", "", 2)
    rest = backend.nodes.export_nodes("acme", first[-1].uri, 10)
    assert [n.uri for n in first + rest] == sorted(n.uri for n in nodes)
    assert first[0] == min(nodes, key=lambda n: n.uri)
    ops = [AppliedOp("acme", f"fp{i}", nodes[i].uri, "create", 1, AT) for i in range(3)]
    backend.nodes.record_applied(ops)
    assert backend.nodes.export_applied("acme", "fp0", 10) == ops[1:]


def test_history_is_imported_as_it_was_and_never_over_a_row(backend: Backend) -> None:
    node = make_node(version=1, created_at=AT, updated_at=AT)
    merged = node.evolve(version=2, content="Alice moved to neovim.", updated_at=AT + timedelta(1))
    versions = [NodeVersion(node, "create", AT), NodeVersion(merged, "merge", merged.updated_at)]
    backend.nodes.import_versions(versions)
    backend.nodes.import_versions([NodeVersion(merged.evolve(content="other"), "merge", AT)])
    assert backend.nodes.history_of_many("acme", [node.uri, "ctx://acme/none"]) == {
        node.uri: versions
    }


def test_a_turn_creates_counts_and_never_enters_another_users_session(backend: Backend) -> None:
    hello, again = (NewMessage(f"m{i}", "user", None, f"Hi {i}.", AT, 2 + i) for i in (0, 1))
    added, state = backend.sessions.append("acme", "s1", "alice", "coder", [hello], AT)
    assert state is not None
    assert (added, state.user_id, state.agent_id, state.messages) == (1, "alice", "coder", 1)
    assert state.uncommitted_tokens == 2

    later = AT + timedelta(minutes=1)
    added, state = backend.sessions.append("acme", "s1", "alice", None, [hello, again], later)
    assert state is not None  # the known id is left out, the new one counted
    assert (added, state.messages, state.uncommitted_tokens, state.agent_id) == (1, 2, 5, "coder")
    assert state.updated_at == later

    intruder = NewMessage("m9", "user", None, "Mallory was here.", AT, 7)
    assert backend.sessions.append("acme", "s1", "mallory", None, [intruder], later) == (0, None)
    assert backend.sessions.message("acme", "s1", "m9") is None
    assert backend.sessions.get("acme", "s1") == state


def test_sessions_and_messages_keep_their_state_and_order(backend: Backend) -> None:
    hello = NewMessage("m0", "user", "Ann", "Hello.", AT, 2)
    backend.sessions.append("acme", "s1", "alice", None, [hello], AT)
    (state,) = backend.sessions.export_sessions("acme", "", 10)
    ((session_id, first),) = backend.sessions.export_messages("acme", 0, 10)
    assert (state.messages, session_id, first.message.name, first.committed) == (
        1, "s1", "Ann", False
    )  # fmt: skip

    copied = replace(state, account_id="beta", status=SessionStatus.COMMITTED, written=4)
    backend.sessions.import_sessions([copied])
    backend.sessions.import_sessions([replace(copied, written=9)])  # the id is taken: left alone
    later = [
        StoredMessage(0, Message("user", f"Line {i}.", AT, message_id=f"m{i}"), 3, i == 1)
        for i in (2, 1)
    ]
    backend.sessions.import_messages("beta", [("s1", m) for m in later])
    backend.sessions.import_messages("beta", [("s1", replace(later[0], tokens=99))])
    assert backend.sessions.get("beta", "s1") == copied
    stored = backend.sessions.export_messages("beta", 0, 10)
    assert [(s, m.message.message_id, m.tokens, m.committed) for s, m in stored] == [
        ("s1", "m2", 3, False), ("s1", "m1", 3, True)
    ]  # fmt: skip
    found = backend.sessions.messages_by_id("beta", "s1", ["m1", "m9"])
    assert list(found) == ["m1"] and found["m1"].message == later[1].message
    assert sorted(backend.sessions.account_ids()) == ["acme", "beta"]


def test_unfinished_events_travel_unclaimed_and_once(backend: Backend) -> None:
    events = [
        OutboxEvent("acme", EventType.UPSERT_CONTEXT, f"ctx://acme/e{i}", {"v": i}, created_at=AT)
        for i in range(3)
    ]
    backend.outbox.insert(events)
    claimed = backend.outbox.claim("w", now=AT, until=AT + timedelta(1), limit=1, eager=True)
    backend.outbox.finish("acme", [e.id for e in claimed if e.id], None)
    exported = backend.outbox.export_events("acme", 0, 10)
    assert [e.uri for e in exported] == ["ctx://acme/e1", "ctx://acme/e2"]
    assert not backend.outbox.import_event(exported[0])  # the same event is there

    elsewhere = replace(exported[0], account_id="beta", status=EventStatus.PROCESSING, attempts=2)
    assert not backend.outbox.has_event(elsewhere)
    assert backend.outbox.import_event(elsewhere)
    assert backend.outbox.has_event(elsewhere)
    (imported,) = backend.outbox.export_events("beta", 0, 10)
    assert (imported.status, imported.attempts, imported.locked_until, imported.payload) == (
        EventStatus.PENDING, 2, None, {"v": 1}
    )  # fmt: skip


def test_index_records_export_with_their_vectors_and_model(backend: Backend) -> None:
    record = IndexRecord("acme", "ctx://acme/a", 0, "Prefers vim", "user:alice", "preference",
                         make_node().context_type, make_node().status, 3)  # fmt: skip
    vector = np.array([0.6, 0.8, 0.0], dtype=np.float32)
    backend.index.replace_many("acme", [(record.uri, [record], [vector])], "model-x")
    (exported,) = backend.index.export_records("acme", [record.uri, "ctx://acme/b"])
    assert (exported.record, exported.model_id) == (record, "model-x")
    assert np.array_equal(exported.vector, vector)
    assert backend.index.export_records("beta", [record.uri]) == []


def test_keys_export_with_their_hash_and_import_as_they_were(backend: Backend) -> None:
    key = KeyRecord("key_1", "acme", "alice", False, "laptop", AT, AT + timedelta(2),
                    AT + timedelta(1), ("coder",))  # fmt: skip
    backend.keys.import_key(key, "hash-1")
    backend.keys.import_key(KeyRecord("key_1", "acme", None, True, "", AT), "hash-2")
    backend.keys.import_key(KeyRecord("key_2", "beta", None, True, "", AT), "hash-1")
    assert backend.keys.export_keys() == [(key, "hash-1")]
