"""write_candidates creates plain new memories in bulk; the outcome is the one-by-one path's."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from ogmem.commit.identity import operation_fingerprint
from ogmem.commit.writer import ContextWriter
from ogmem.core import errors
from ogmem.core.models import (
    CandidateMemory,
    NewNode,
    RequestContext,
    WriteResult,
    WriteStatus,
)
from ogmem.nodes import Nodes
from tests.helpers import REGISTRY, candidate, memory_store

CTX = RequestContext("acme", "alice", agent_id="coder", session_id="s1")
NO_AGENT = RequestContext("acme", "alice", session_id="s1")


def _mixed_batch() -> list[CandidateMemory]:
    """Every kind of candidate the bulk path must leave to the one-by-one path, among new ones."""
    return [
        candidate("event", "Flew to Lisbon.", routing_key="lisbon"),
        candidate("preference", "Likes green tea.", routing_key="tea"),
        candidate("preference", "Now prefers black tea.", routing_key="tea"),  # same target
        candidate("event", "Flew to Lisbon.", routing_key="lisbon"),  # exact duplicate
        candidate("entity", "Bob is her brother.", routing_key="bob"),
        candidate("case", "Fixed the flaky test.", routing_key="flaky"),  # agent-scoped
        replace(candidate("event", "Bad."), when="yesterday-ish"),  # invalid date
        candidate("preference", "Uses vim.", routing_key="editor", operation="archive"),
        # a retraction before the creation it would find if the creation went first
        candidate("preference", "Likes hiking.", routing_key="hiking", operation="archive"),
        candidate("preference", "Likes hiking.", routing_key="hiking"),
        candidate("profile", "Works as a nurse."),
    ]


def _outcome(store: Nodes, results: list[WriteResult]) -> list[tuple[object, ...]]:
    rows = []
    for r in results:
        node = store.find_node("acme", str(r.uri)) if r.uri else None
        reason = re.sub(r" at \S+\)", ")", r.reason)  # when it was applied differs
        rows.append((r.status, reason, r.uri, node.version if node else None))
    return rows


@pytest.mark.parametrize("ctx", [CTX, NO_AGENT], ids=["with-agent", "without-agent"])
def test_a_batch_gives_what_writing_one_by_one_gives(
    ctx: RequestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _mixed_batch()
    bulk_store, single_store = memory_store(), memory_store()
    single = ContextWriter(single_store, REGISTRY)
    single.write_candidate(candidate("preference", "Uses vim.", routing_key="editor"), ctx)
    ContextWriter(bulk_store, REGISTRY).write_candidate(
        candidate("preference", "Uses vim.", routing_key="editor"), ctx
    )

    bulk_sizes: list[int] = []
    create = bulk_store.create_nodes_with_outbox
    monkeypatch.setattr(
        bulk_store, "create_nodes_with_outbox",
        lambda new_nodes: bulk_sizes.append(len(new_nodes)) or create(new_nodes),
    )  # fmt: skip

    in_bulk = ContextWriter(bulk_store, REGISTRY).write_candidates(batch, ctx)

    # the entity, the profile (and the case, with an agent): the rest is not a plain creation
    assert bulk_sizes == [3 if ctx.agent_id else 2]
    one_by_one = [single.write_candidate(c, ctx) for c in batch]

    assert _outcome(bulk_store, in_bulk) == _outcome(single_store, one_by_one)
    assert [r.candidate for r in in_bulk] == batch
    statuses = [r.status for r in in_bulk]
    assert statuses.count(WriteStatus.WRITTEN) >= 4 and WriteStatus.FAILED in statuses
    for store in (bulk_store, single_store):
        events = sorted((e.type.value, e.uri) for e in store.list_events("acme", limit=100))
        assert events == sorted(
            (e.type.value, e.uri) for e in single_store.list_events("acme", limit=100)
        )
    for r in in_bulk:  # one history row per version, bulk-created or not
        if r.status is WriteStatus.WRITTEN and r.uri:
            node = bulk_store.read_node("acme", r.uri)
            assert len(bulk_store.history("acme", r.uri)) == node.version


def test_a_redelivered_batch_is_skipped_as_duplicates() -> None:
    store = memory_store()
    writer = ContextWriter(store, REGISTRY)
    batch = [candidate("event", f"Event {i}.", routing_key=f"e{i}") for i in range(5)]
    first = writer.write_candidates(batch, CTX)
    again = writer.write_candidates(batch, CTX)
    assert all(r.status is WriteStatus.WRITTEN for r in first)
    assert all(r.status is WriteStatus.SKIPPED and "already applied" in r.reason for r in again)
    assert len(store.list_events("acme", limit=100)) == 6  # 5 upserts, 1 directory event


def test_a_target_taken_meanwhile_sends_the_batch_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = memory_store()
    writer = ContextWriter(store, REGISTRY)
    taken = writer.write_candidate(candidate("preference", "Uses vim.", routing_key="editor"), CTX)
    # another writer's node, not yet visible when the bulk path looked
    monkeypatch.setattr(store, "find_nodes", lambda account_id, uris: {})
    batch = [
        candidate("preference", "Now uses neovim.", routing_key="editor"),
        candidate("event", "Flew to Lisbon.", routing_key="lisbon"),
        candidate("event", "Flew to Rome.", routing_key="rome"),
    ]
    results = writer.write_candidates(batch, CTX)

    assert [r.status for r in results] == [WriteStatus.WRITTEN] * 3
    assert results[0].uri == taken.uri and results[0].node is not None
    assert results[0].node.version == 2  # merged by the one-by-one path, not overwritten
    assert store.read_node("acme", str(results[1].uri)).version == 1


def test_the_store_creates_all_or_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    store = memory_store()
    writer = ContextWriter(store, REGISTRY)
    writer.write_candidate(candidate("event", "Flew to Rome.", routing_key="rome"), CTX)
    calls: list[int] = []
    original = store.create_nodes_with_outbox

    def spy(new_nodes):  # type: ignore[no-untyped-def]
        calls.append(len(new_nodes))
        # a node at the last target appears between the look-up and the insert
        writer.write_candidate(candidate("event", "Flew to Oslo.", routing_key="oslo"), CTX)
        return original(new_nodes)

    monkeypatch.setattr(store, "create_nodes_with_outbox", spy)
    batch = [candidate("event", f"Flew to {c}.", routing_key=c.lower())
             for c in ("Paris", "Berlin", "Oslo")]  # fmt: skip
    results = writer.write_candidates(batch, CTX)

    assert calls == [3]
    assert [r.status for r in results] == [
        WriteStatus.WRITTEN, WriteStatus.WRITTEN, WriteStatus.SKIPPED,
    ]  # fmt: skip
    assert "already applied" in results[2].reason  # the same candidate, written meanwhile
    for r in results[:2]:  # written once, by the one-by-one path after the rollback
        assert len(store.history("acme", str(r.uri))) == 1


def test_store_refuses_a_bulk_with_an_applied_fingerprint() -> None:
    store = memory_store()
    writer = ContextWriter(store, REGISTRY)
    writer.write_candidates(
        [candidate("event", f"Event {i}.", routing_key=f"e{i}") for i in range(2)], CTX
    )
    applied = operation_fingerprint(candidate("event", "Event 0.", routing_key="e0"), CTX)
    assert store.applied_fingerprints("acme", [applied, "nope"]) == {applied}
    assert store.applied_fingerprints("other", [applied]) == set()
    with pytest.raises(errors.DuplicateOperation):
        node = store.read_node("acme", store.list_events("acme")[0].uri)
        store.create_nodes_with_outbox([NewNode(node.evolve(uri=node.uri + "-copy"), (), applied)])
    assert not store.exists("acme", node.uri + "-copy")  # rolled back
