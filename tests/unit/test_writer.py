"""ContextWriter behaviour on an in-memory SQLite store."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ogmem.commit import events
from ogmem.commit.writer import ContextWriter
from ogmem.core import errors
from ogmem.core.models import EventType, NodeStatus, RequestContext, WriteAction, WriteStatus
from ogmem.llm.scripted import ScriptedLLM
from ogmem.nodes import Nodes
from tests import helpers
from tests.helpers import REGISTRY, candidate

WITH_AGENT = RequestContext("acme", "alice", agent_id="coder", session_id="s1")
WITHOUT_AGENT = RequestContext("acme", "alice", session_id="s1")


@pytest.fixture
def memory_store() -> Nodes:
    return helpers.memory_store()


@pytest.fixture
def writer(memory_store: Nodes) -> ContextWriter:
    return ContextWriter(memory_store, REGISTRY, sleep=lambda _: None)


@pytest.mark.parametrize("category", REGISTRY.names())
@pytest.mark.parametrize("ctx", [WITH_AGENT, WITHOUT_AGENT], ids=["with-agent", "without-agent"])
def test_every_type_in_every_scope(
    writer: ContextWriter, category: str, ctx: RequestContext
) -> None:
    result = writer.write_candidate(candidate(category), ctx)
    agent_scoped = REGISTRY.get(category).owner_scope == "agent"
    if agent_scoped and ctx.agent_id is None:
        assert result.status is WriteStatus.SKIPPED
        assert "no agent_id" in result.reason
        return
    assert result.status is WriteStatus.WRITTEN, result.error
    assert result.node is not None and result.node.version == 1
    root = "ctx://acme/agents/coder/" if agent_scoped else "ctx://acme/users/alice/"
    assert result.node.uri.startswith(root + "memories/")
    assert result.node.owner_space == ("agent:coder" if agent_scoped else "user:alice")


@pytest.mark.parametrize("category", REGISTRY.names())
def test_events_emitted_per_type(writer: ContextWriter, memory_store: Nodes, category: str) -> None:
    result = writer.write_candidate(candidate(category), WITH_AGENT)
    emitted = [(e.type, e.uri) for e in memory_store.list_events("acme")]
    assert emitted[0] == (EventType.UPSERT_CONTEXT, result.uri)
    if category == "profile":  # the profile has no directory summary, as in the seed
        assert len(emitted) == 1
    else:
        assert emitted[1] == (EventType.UPSERT_DIRECTORY, result.uri.rsplit("/", 1)[0])  # type: ignore[union-attr]


def test_upsert_merges_into_one_node(writer: ContextWriter, memory_store: Nodes) -> None:
    first = writer.write_candidate(candidate("preference", "Uses vim."), WITH_AGENT)
    second = writer.write_candidate(candidate("preference", "Now uses neovim."), WITH_AGENT)
    assert second.plan is not None and second.plan.action is WriteAction.MERGE
    assert second.uri == first.uri
    node = memory_store.read_node("acme", str(first.uri))
    assert node.version == 2
    assert "Uses vim." in node.content and "Now uses neovim." in node.content
    assert node.metadata["merge"]["method"] == "deterministic"
    assert node.metadata["merge"]["reason"] == "no LLM configured"
    assert "merged deterministically" in second.reason


def test_add_only_keeps_each_entry_and_skips_exact_duplicates(writer: ContextWriter) -> None:
    one = writer.write_candidate(candidate("event", "Flew to Lisbon."), WITH_AGENT)
    two = writer.write_candidate(candidate("event", "Flew back home."), WITH_AGENT)
    again = writer.write_candidate(
        candidate("event", "Flew to Lisbon."), RequestContext("acme", "alice", session_id="s2")
    )
    assert one.uri != two.uri
    assert again.status is WriteStatus.SKIPPED and "duplicate" in again.reason


def test_invalid_candidate_fails_with_the_field_named(
    writer: ContextWriter, memory_store: Nodes
) -> None:
    result = writer.write_candidate(candidate("preference", abstract=""), WITH_AGENT)
    assert result.status is WriteStatus.FAILED and not result.retryable
    assert result.error is not None and "abstract" in result.error
    unknown = writer.write_candidate(
        replace(candidate("preference"), category="nonsense"), WITH_AGENT
    )
    assert unknown.status is WriteStatus.FAILED and "nonsense" in str(unknown.error)
    assert memory_store.tree("acme", "ctx://acme") == []


def test_write_candidates_returns_a_result_for_every_candidate(writer: ContextWriter) -> None:
    batch = [
        candidate("preference", "Uses vim."),
        candidate("preference", abstract=""),
        candidate("case"),
        candidate("preference", "Uses vim."),
    ]
    results = writer.write_candidates(batch, WITHOUT_AGENT)
    assert [r.status for r in results] == [
        WriteStatus.WRITTEN, WriteStatus.FAILED, WriteStatus.SKIPPED, WriteStatus.SKIPPED,
    ]  # fmt: skip
    assert [r.candidate for r in results] == batch


def test_a_crash_inside_the_writer_costs_one_candidate(
    writer: ContextWriter, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = writer._builder.build

    def flaky_build(*args: object) -> object:
        if args[0] == bob:  # a bug that only this candidate triggers, in bulk or alone
            raise RuntimeError("boom")
        return original(*args)  # type: ignore[arg-type]

    bob = candidate("entity", "Bob")

    monkeypatch.setattr(writer._builder, "build", flaky_build)
    results = writer.write_candidates([bob, candidate("preference")], WITH_AGENT)
    assert results[0].status is WriteStatus.FAILED and "RuntimeError: boom" in str(results[0].error)
    assert results[1].status is WriteStatus.WRITTEN


def test_parallel_writer_keeps_input_order(writer: ContextWriter) -> None:
    batch = [candidate("event", f"Event number {i}.", routing_key=f"e{i}") for i in range(20)]
    results = writer.write_candidates_parallel(batch, WITH_AGENT, max_workers=4)
    assert [r.candidate for r in results] == batch
    assert all(r.status is WriteStatus.WRITTEN for r in results)


def test_retraction_candidate_archives_and_deletes(
    writer: ContextWriter, memory_store: Nodes
) -> None:
    written = writer.write_candidate(candidate("preference", "Uses tabs."), WITH_AGENT)
    archived = writer.write_candidate(
        candidate("preference", "no tabs", operation="archive"), WITH_AGENT
    )
    assert archived.status is WriteStatus.WRITTEN and archived.plan.action is WriteAction.ARCHIVE  # type: ignore[union-attr]
    node = memory_store.read_node("acme", str(written.uri))
    assert (node.status, node.version) == (NodeStatus.ARCHIVED, 2)
    deleted = writer.write_candidate(
        candidate("preference", "forget", operation="delete"), WITH_AGENT
    )
    assert deleted.status is WriteStatus.WRITTEN and deleted.plan.action is WriteAction.DELETE  # type: ignore[union-attr]
    assert not memory_store.exists("acme", str(written.uri))


def test_new_candidate_over_an_archived_node_starts_afresh(
    writer: ContextWriter, memory_store: Nodes
) -> None:
    first = writer.write_candidate(candidate("preference", "Uses tabs."), WITH_AGENT)
    writer.archive(str(first.uri), WITH_AGENT)
    revived = writer.write_candidate(candidate("preference", "Uses spaces."), WITH_AGENT)
    node = memory_store.read_node("acme", str(first.uri))
    assert revived.plan.action is WriteAction.CREATE  # type: ignore[union-attr]
    assert (node.status, node.version, node.content) == (NodeStatus.ACTIVE, 3, "Uses spaces.")


def test_archive_delete_move_check_versions(writer: ContextWriter, memory_store: Nodes) -> None:
    uri = str(writer.write_candidate(candidate("preference"), WITH_AGENT).uri)
    with pytest.raises(errors.ConcurrentModificationError):
        writer.archive(uri, WITH_AGENT, expected_version=5)
    with pytest.raises(errors.ConcurrentModificationError):
        writer.delete(uri, WITH_AGENT, expected_version=5)
    with pytest.raises(errors.ConcurrentModificationError):
        writer.move(uri, uri + "-2", WITH_AGENT, expected_version=5)
    moved = writer.move(uri, uri + "-2", WITH_AGENT, expected_version=1)
    assert moved.version == 2
    assert writer.archive(moved.uri, WITH_AGENT, expected_version=2).version == 3
    writer.delete(moved.uri, WITH_AGENT, expected_version=3)
    with pytest.raises(errors.NotFound):
        writer.delete(moved.uri, WITH_AGENT)
    kinds = [e.type for e in memory_store.list_events("acme")]
    assert EventType.ARCHIVE_CONTEXT in kinds and EventType.DELETE_CONTEXT in kinds


def test_operations_on_another_accounts_uri_are_not_found(writer: ContextWriter) -> None:
    uri = str(writer.write_candidate(candidate("preference"), WITH_AGENT).uri)
    intruder = RequestContext("evil", "mallory")
    for operation in (writer.archive, writer.delete):
        with pytest.raises(errors.NotFound):
            operation(uri, intruder)
    with pytest.raises(errors.NotFound):
        writer.move(uri, "ctx://evil/users/mallory/x", intruder)


def test_conflicts_are_retried_then_reported(memory_store: Nodes) -> None:
    """Another process bumps the node while the LLM merges: the writer re-plans and retries."""
    delays: list[float] = []
    interferences = {"left": 2}

    def interfering_llm(messages: object) -> str:
        if interferences["left"]:
            interferences["left"] -= 1
            node = memory_store.read_node("acme", target)
            memory_store.write_node_with_outbox(
                node.evolve(content=node.content + "\nother"), [], expected_version=node.version
            )
        return '{"abstract": "merged", "overview": "", "content": "merged content"}'

    llm = ScriptedLLM(responder=interfering_llm)
    writer = ContextWriter(memory_store, REGISTRY, llm, sleep=delays.append)
    target = str(writer.write_candidate(candidate("preference", "one"), WITH_AGENT).uri)
    result = writer.write_candidate(candidate("preference", "two"), WITH_AGENT)
    assert result.status is WriteStatus.WRITTEN and result.attempts == 3
    assert len(delays) == 2 and delays[0] < delays[1] * 1.5
    assert memory_store.read_node("acme", target).version == 4

    interferences["left"] = 10
    exhausted = writer.write_candidate(candidate("preference", "three"), WITH_AGENT)
    assert exhausted.status is WriteStatus.FAILED and exhausted.attempts == 3
    assert "ConcurrentModificationError" in str(exhausted.error)


@pytest.mark.parametrize(
    "destination",
    [
        "ctx://acme",  # the account root: the node would vanish from listings
        "ctx://acme/users/alice",  # its owner's root
        "ctx://acme/users/bob/memories/preferences/x",  # another user's space
        "ctx://evil/users/alice/memories/preferences/x",  # another account
        "ctx://acme/agents/coder/memories/preferences/x",  # an agent's space
    ],
)
def test_move_stays_inside_the_owners_space(writer: ContextWriter, destination: str) -> None:
    uri = str(writer.write_candidate(candidate("preference"), WITH_AGENT).uri)
    with pytest.raises(errors.InvalidInput, match="destination must be ctx://acme/users/alice/"):
        writer.move(uri, destination, WITH_AGENT)
    assert writer.move(uri, "ctx://acme/users/alice/memories/old/editor", WITH_AGENT).version == 2


@pytest.mark.parametrize(
    ("node_uri", "directory"),
    [
        ("ctx://acme/users/alice/memories/events/trip", "ctx://acme/users/alice/memories/events"),
        ("ctx://acme/users", "ctx://acme"),
        ("ctx://acme", None),  # an account root has no directory to summarise
    ],
)
def test_directory_events_name_the_parent(node_uri: str, directory: str | None) -> None:
    emitted = events.archive_events("acme", node_uri, 1)
    dirs = [e.uri for e in emitted if e.type is EventType.UPSERT_DIRECTORY]
    assert dirs == ([directory] if directory else [])
    assert all(e.coalesce for e in emitted if e.type is EventType.UPSERT_DIRECTORY)
