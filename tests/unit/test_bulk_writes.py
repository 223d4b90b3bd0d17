"""write_candidates creates plain new memories in bulk; the outcome is the one-by-one path's."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime

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
from ogmem.llm.scripted import ScriptedLLM
from ogmem.nodes import Nodes
from tests.helpers import REGISTRY, candidate, memory_store

CTX = RequestContext("acme", "alice", agent_id="coder", session_id="s1")
NO_AGENT = RequestContext("acme", "alice", session_id="s1")


def _mixed_batch() -> list[CandidateMemory]:
    """Every kind of candidate: the bulk path must give each the one-by-one path's outcome."""
    return [
        candidate("event", "Flew to Lisbon.", routing_key="lisbon"),
        candidate("preference", "Likes green tea.", routing_key="tea"),
        candidate("preference", "Now prefers black tea.", routing_key="tea"),  # a new node's merge
        candidate("event", "Flew to Lisbon.", routing_key="lisbon"),  # exact duplicate
        candidate("entity", "Bob is her brother.", routing_key="bob"),
        candidate("case", "Fixed the flaky test.", routing_key="flaky"),  # agent-scoped
        replace(candidate("event", "Bad."), when="yesterday-ish"),  # invalid date
        candidate("preference", "Uses vim.", routing_key="editor", operation="archive"),
        # a retraction before the creation it would find if the creation went first
        candidate("preference", "Likes hiking.", routing_key="hiking", operation="archive"),
        candidate("preference", "Likes hiking.", routing_key="hiking"),
        candidate("profile", "Works as a nurse."),
        candidate("preference", "Switched to decaf.", routing_key="coffee"),  # an existing node
        candidate("preference", "Now prefers black tea.", routing_key="tea", overview="again"),
        candidate("preference", "Drinks decaf after noon.", routing_key="coffee"),
    ]


def _outcome(store: Nodes, results: list[WriteResult]) -> list[tuple[object, ...]]:
    rows = []
    for r in results:
        node = store.find_node("acme", str(r.uri)) if r.uri else None
        reason = re.sub(r" at \S+\)", ")", r.reason)  # when it was applied differs
        rows.append((r.status, reason, r.uri, node.version if node else None))
    return rows


def _history(store: Nodes, results: list[WriteResult]) -> dict[str, list[tuple[object, ...]]]:
    return {
        str(r.uri): [
            (v.node.version, v.action, v.node.abstract, v.node.content, v.node.status)
            for v in store.history("acme", str(r.uri))
        ]
        for r in results
        if r.uri and store.exists("acme", str(r.uri))
    }


def _with_existing(ctx: RequestContext) -> Nodes:
    store = memory_store()
    writer = ContextWriter(store, REGISTRY)
    writer.write_candidate(candidate("preference", "Uses vim.", routing_key="editor"), ctx)
    writer.write_candidate(candidate("preference", "Drinks coffee.", routing_key="coffee"), ctx)
    return store


@pytest.mark.parametrize("ctx", [CTX, NO_AGENT], ids=["with-agent", "without-agent"])
def test_a_batch_gives_what_writing_one_by_one_gives(
    ctx: RequestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = _mixed_batch()
    bulk_store, single_store = _with_existing(ctx), _with_existing(ctx)
    single = ContextWriter(single_store, REGISTRY)

    chains: list[list[tuple[int | None, int]]] = []
    write_chains = bulk_store.write_chains
    monkeypatch.setattr(
        bulk_store, "write_chains",
        lambda given: chains.append([(c.expected_version, len(c.writes)) for c in given])
        or write_chains(given),
    )  # fmt: skip

    in_bulk = ContextWriter(bulk_store, REGISTRY).write_candidates(batch, ctx)

    # one store call: tea created and merged (its restatement skipped in memory), bob, the
    # profile, coffee merged twice from v1 (and the case, with an agent); lisbon (a duplicate),
    # editor and hiking (retractions) are not the bulk path's
    expected = [(None, 2), (None, 1), (None, 1), (1, 2)]
    assert len(chains) == 1
    assert Counter(chains[0]) == Counter(expected + ([(None, 1)] if ctx.agent_id else []))
    one_by_one = [single.write_candidate(c, ctx) for c in batch]

    assert _outcome(bulk_store, in_bulk) == _outcome(single_store, one_by_one)
    assert _history(bulk_store, in_bulk) == _history(single_store, one_by_one)
    assert [r.candidate for r in in_bulk] == batch
    statuses = [r.status for r in in_bulk]
    assert statuses.count(WriteStatus.WRITTEN) >= 7 and WriteStatus.FAILED in statuses
    assert in_bulk[12].status is WriteStatus.SKIPPED and "no new information" in in_bulk[12].reason
    for store in (bulk_store, single_store):
        events = sorted((e.type.value, e.uri, e.payload.get("version"))
                        for e in store.list_events("acme", limit=100))  # fmt: skip
        assert events == sorted(
            (e.type.value, e.uri, e.payload.get("version"))
            for e in single_store.list_events("acme", limit=100)
        )
    for r in in_bulk:  # one history row per version, bulk-written or not
        if r.status is WriteStatus.WRITTEN and r.uri:
            node = bulk_store.read_node("acme", r.uri)
            assert len(bulk_store.history("acme", r.uri)) == node.version
            assert bulk_store.find_applied("acme", operation_fingerprint(r.candidate, ctx))


def test_a_merge_that_replaces_the_fact_leaves_the_bulk_path_there() -> None:
    store = memory_store()
    writer = ContextWriter(store, REGISTRY)
    batch = [
        candidate("preference", "Likes green tea.", routing_key="tea"),
        candidate("preference", "Likes jasmine tea too.", routing_key="tea"),
        candidate("preference", "Only black tea now.", routing_key="tea",
                  valid_from=datetime(2026, 1, 1, tzinfo=UTC)),  # replaces: supersede.py
        candidate("preference", "Black tea with milk.", routing_key="tea"),
    ]  # fmt: skip
    results = writer.write_candidates(batch, CTX)

    assert [r.status for r in results] == [WriteStatus.WRITTEN] * 4
    assert [r.node.version for r in results if r.node] == [1, 2, 3, 4]
    assert "supersedes" in str(results[2].node.metadata.get("merge") if results[2].node else "")
    node = store.read_node("acme", str(results[0].uri))
    assert "Black tea with milk." in node.content and "jasmine" not in node.content
    assert [v.node.version for v in store.history("acme", node.uri)] == [1, 2, 3, 4]


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
    original = store.write_chains

    def spy(chains):  # type: ignore[no-untyped-def]
        calls.append(len(chains))
        # a node at the last target appears between the look-up and the insert
        writer.write_candidate(candidate("event", "Flew to Oslo.", routing_key="oslo"), CTX)
        return original(chains)

    monkeypatch.setattr(store, "write_chains", spy)
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


def test_a_node_moved_on_meanwhile_sends_the_merges_one_by_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = memory_store()
    writer = ContextWriter(store, REGISTRY)
    tea = writer.write_candidate(
        candidate("preference", "Likes green tea.", routing_key="tea"), CTX
    )
    original = store.write_chains

    def racing(chains):  # type: ignore[no-untyped-def]
        # another writer merges into tea between the look-up and the bulk write
        writer.write_candidate(candidate("preference", "Likes oolong.", routing_key="tea"), CTX)
        monkeypatch.setattr(store, "write_chains", original)
        return original(chains)

    monkeypatch.setattr(store, "write_chains", racing)
    batch = [
        candidate("preference", "Likes jasmine tea.", routing_key="tea"),
        candidate("preference", "Likes sencha.", routing_key="tea"),
        candidate("event", "Flew to Paris.", routing_key="paris"),
    ]
    results = writer.write_candidates(batch, CTX)

    assert [r.status for r in results] == [WriteStatus.WRITTEN] * 3
    node = store.read_node("acme", str(tea.uri))
    assert node.version == 4  # v2 the racing merge, v3 and v4 the batch's: none lost
    assert all(word in node.content for word in ("green", "oolong", "jasmine", "sencha"))
    assert [v.node.version for v in store.history("acme", node.uri)] == [1, 2, 3, 4]
    assert len(store.history("acme", str(results[2].uri))) == 1  # rolled back, written once


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


def test_each_merge_asks_the_model_once_even_when_it_leaves_the_bulk_path() -> None:
    answers = iter(["adds", "supersedes", "adds"])

    def merged(_: str) -> str:
        relation = next(answers)
        return json.dumps({"abstract": f"tea ({relation})", "overview": "",
                           "content": f"merged: {relation}", "relation": relation})  # fmt: skip

    llm = ScriptedLLM(responder=merged)
    store = memory_store()
    batch = [candidate("preference", f"Tea note {i}.", routing_key="tea") for i in range(4)]
    results = ContextWriter(store, REGISTRY, llm).write_candidates(batch, CTX)

    assert [r.status for r in results] == [WriteStatus.WRITTEN] * 4
    assert len(llm.calls) == 3  # three merges, each asked once
    relations = [r.node.metadata["merge"]["relation"] for r in results[1:] if r.node]
    assert relations == ["adds", "supersedes", "adds"]
    assert all("deterministically" not in r.reason for r in results)
    assert [v.node.version for v in store.history("acme", str(results[0].uri))] == [1, 2, 3, 4]
