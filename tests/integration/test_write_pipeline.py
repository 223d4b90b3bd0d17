"""The write pipeline's guarantees on every backend: concurrency, atomicity, idempotency,
and merges that survive a misbehaving LLM."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from ogmem.commit.identity import operation_fingerprint
from ogmem.commit.writer import ContextWriter
from ogmem.core import errors
from ogmem.core.models import (
    CandidateMemory,
    EventType,
    OutboxEvent,
    RequestContext,
    WriteResult,
    WriteStatus,
)
from ogmem.core.storage import Backend
from ogmem.llm.scripted import ScriptedLLM
from ogmem.nodes import Nodes
from ogmem.store import open_backend
from tests.conftest import nodes_of
from tests.helpers import REGISTRY, candidate

CTX = RequestContext("acme", "alice", agent_id="coder", session_id="s1")
THREADS, MERGES_PER_THREAD = 8, 50


@pytest.fixture
def file_store(store: Nodes) -> Nodes:
    return store


def test_eight_threads_merging_into_one_node(file_store: Nodes) -> None:
    writer = ContextWriter(file_store, REGISTRY)
    first = writer.write_candidate(candidate("preference", "fact from the start"), CTX)
    results: list[WriteResult] = []
    escaped: list[BaseException] = []

    def merge_many(thread: int) -> None:
        try:
            for i in range(MERGES_PER_THREAD):
                text = f"fact {i} from thread {thread}"
                results.append(writer.write_candidate(candidate("preference", text), CTX))
        except BaseException as exc:  # the assertion below reports it
            escaped.append(exc)

    threads = [threading.Thread(target=merge_many, args=(t,)) for t in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert escaped == []
    assert [r.status for r in results] == [WriteStatus.WRITTEN] * (THREADS * MERGES_PER_THREAD)
    node = file_store.read_node("acme", str(first.uri))
    assert node.version == 1 + THREADS * MERGES_PER_THREAD == 401
    history = file_store.history("acme", node.uri)
    assert [h.node.version for h in history] == list(range(1, 402))
    assert [h.action for h in history].count("merge") == 400
    for thread in range(THREADS):
        for i in range(MERGES_PER_THREAD):
            assert f"fact {i} from thread {thread}" in node.content


def _counts(store: Nodes, *facts: CandidateMemory) -> tuple[int, int, int, int]:
    """(nodes, history rows, outbox events, idempotency records of ``facts``) of acme."""
    nodes = [n for n in store.tree("acme", "ctx://acme")]
    history = sum(len(store.history("acme", n.uri)) for n in nodes)
    prints = [operation_fingerprint(fact, CTX) for fact in facts]
    applied = len(store.applied_fingerprints("acme", prints)) if prints else 0
    return len(nodes), history, len(store.list_events("acme", limit=1000)), applied


# the steps of a write's transaction, as the ports it runs on
STEPS = {
    "history": lambda b: (b.nodes, "record_versions"),
    "events": lambda b: (b.outbox, "insert"),
    "idempotency": lambda b: (b.nodes, "record_applied"),
}


def _break(backend: Backend, step: str, monkeypatch: pytest.MonkeyPatch) -> None:
    port, method = STEPS[step](backend)

    def fail(*args: object, **kwargs: object) -> None:
        raise errors.StoreError(f"injected failure in {step}")

    monkeypatch.setattr(port, method, fail)


@pytest.mark.parametrize("failing_step", list(STEPS))
def test_failure_inside_the_transaction_leaves_nothing(
    backend: Backend, file_store: Nodes, monkeypatch: pytest.MonkeyPatch, failing_step: str
) -> None:
    writer = ContextWriter(file_store, REGISTRY)
    _break(backend, failing_step, monkeypatch)
    fact = candidate("preference", "Uses vim.")
    result = writer.write_candidate(fact, CTX)
    assert result.status is WriteStatus.FAILED and "injected failure" in str(result.error)
    assert _counts(file_store, fact) == (0, 0, 0, 0)


@pytest.mark.parametrize("failing_step", list(STEPS))
def test_failed_merge_leaves_the_previous_version_whole(
    backend: Backend, file_store: Nodes, monkeypatch: pytest.MonkeyPatch, failing_step: str
) -> None:
    writer = ContextWriter(file_store, REGISTRY)
    first = candidate("preference", "Uses vim.")
    uri = str(writer.write_candidate(first, CTX).uri)
    second = candidate("preference", "Uses emacs.")
    before = _counts(file_store, first, second)
    _break(backend, failing_step, monkeypatch)
    result = writer.write_candidate(second, CTX)
    assert result.status is WriteStatus.FAILED
    assert _counts(file_store, first, second) == before
    node = file_store.read_node("acme", uri)
    assert (node.version, node.content) == (1, "Uses vim.")


def test_same_candidate_twice_is_written_once_even_after_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "ogmem.sqlite")
    fact = candidate("preference", "Uses vim.")
    backend = open_backend(path)
    writer = ContextWriter(nodes_of(backend), REGISTRY)
    first = writer.write_candidate(fact, CTX)
    second = writer.write_candidate(fact, CTX)
    backend.close()
    reopened = open_backend(path)
    try:
        third = ContextWriter(nodes_of(reopened), REGISTRY).write_candidate(fact, CTX)
        node = nodes_of(reopened).read_node("acme", str(first.uri))
        events = nodes_of(reopened).list_events("acme")
    finally:
        reopened.close()
    assert first.status is WriteStatus.WRITTEN
    for again in (second, third):
        assert again.status is WriteStatus.SKIPPED
        assert "already applied" in again.reason and str(first.uri) in again.reason
    assert node.version == 1 and len(events) == 2


def test_same_candidate_in_another_session_is_a_new_delivery_but_not_new_information(
    file_store: Nodes,
) -> None:
    writer = ContextWriter(file_store, REGISTRY)
    fact = candidate("preference", "Uses vim.")
    writer.write_candidate(fact, CTX)
    later = writer.write_candidate(
        fact, RequestContext("acme", "alice", agent_id="coder", session_id="s2")
    )
    assert later.status is WriteStatus.SKIPPED and later.reason == "no new information"


@pytest.mark.parametrize("moved", [False, True], ids=["deleted", "moved-then-deleted"])
def test_a_deleted_memory_can_be_remembered_again(file_store: Nodes, moved: bool) -> None:
    writer = ContextWriter(file_store, REGISTRY)
    fact = candidate("preference", "Uses vim.")
    first = writer.write_candidate(fact, CTX)
    target = str(first.uri)
    if moved:  # the idempotency record follows the node, so the delete finds it
        target = writer.move(target, target + "-old", CTX).uri
    writer.delete(target, CTX)
    again = writer.write_candidate(fact, CTX)
    assert again.status is WriteStatus.WRITTEN, again.reason
    assert file_store.read_node("acme", str(again.uri)).content == "Uses vim."
    repeat = writer.write_candidate(fact, CTX)  # and it is idempotent again
    assert repeat.status is WriteStatus.SKIPPED and "already applied" in repeat.reason


GARBAGE = {
    "invalid-json": "this is not json {",
    "truncated-json": '{"abstract": "merged", "overview": "',
    "missing-fields": '{"abstract": "merged"}',
    "wrong-types": '{"abstract": 3, "overview": [], "content": null}',
    "empty-content": '{"abstract": "merged", "overview": "", "content": "  "}',
    "not-an-object": '["abstract", "overview", "content"]',
    "oversize": '{"abstract": "' + "x" * 5000 + '", "overview": "", "content": "c"}',
    "timeout": errors.LLMTimeout("no answer in 30s"),
    "unavailable": errors.LLMUnavailable("connection refused"),
    "crash": RuntimeError("segfault in the SDK"),
}


@pytest.mark.parametrize("answer", GARBAGE.values(), ids=list(GARBAGE))
def test_llm_garbage_during_merge_falls_back_to_a_deterministic_merge(
    file_store: Nodes, answer: str | BaseException
) -> None:
    llm = ScriptedLLM([answer])
    writer = ContextWriter(file_store, REGISTRY, llm)
    uri = str(writer.write_candidate(candidate("preference", "Uses vim."), CTX).uri)
    result = writer.write_candidate(candidate("preference", "Now uses neovim."), CTX)
    assert result.status is WriteStatus.WRITTEN
    node = file_store.read_node("acme", uri)
    assert node.version == 2
    assert "Uses vim." in node.content and "Now uses neovim." in node.content
    assert node.metadata["merge"]["method"] == "deterministic"
    assert node.metadata["merge"]["reason"].startswith("LLM merge failed")
    assert len(llm.calls) == 1


def test_good_llm_answer_is_used_for_the_merge(file_store: Nodes) -> None:
    merged = '{"abstract": "Uses neovim (was vim)", "overview": "o", "content": "merged"}'
    answer = f"Sure! ```json\n{merged}\n```"
    llm = ScriptedLLM([answer])
    writer = ContextWriter(file_store, REGISTRY, llm)
    uri = str(writer.write_candidate(candidate("preference", "Uses vim."), CTX).uri)
    writer.write_candidate(candidate("preference", "Now uses neovim."), CTX)
    node = file_store.read_node("acme", uri)
    assert (node.abstract, node.content) == ("Uses neovim (was vim)", "merged")
    assert node.metadata["merge"]["method"] == "llm"
    prompt = llm.calls[0].messages[-1]["content"]
    assert "Uses vim." in prompt and "Now uses neovim." in prompt


def test_a_failure_inside_a_group_commit_costs_only_that_candidate(
    backend: Backend, file_store: Nodes, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = ContextWriter(file_store, REGISTRY)
    original = backend.outbox.insert
    calls = {"bulk": 0}

    def fail_for_e1(events: Sequence[OutboxEvent]) -> None:
        calls["bulk"] += len([e for e in events if e.type is EventType.UPSERT_CONTEXT]) > 1
        if any("/e1-" in e.uri for e in events):  # the second candidate's events
            raise errors.StoreError("disk hiccup")
        original(events)

    monkeypatch.setattr(backend.outbox, "insert", fail_for_e1)
    batch = [candidate("event", f"Event {i}.", routing_key=f"e{i}") for i in range(3)]
    results = writer.write_candidates(batch, CTX)
    assert calls["bulk"] == 1  # tried in bulk first, rolled back, then one by one
    assert [r.status for r in results] == [
        WriteStatus.WRITTEN,
        WriteStatus.FAILED,
        WriteStatus.WRITTEN,
    ]
    assert "disk hiccup" in str(results[1].error) and results[1].retryable
    assert not file_store.exists("acme", str(results[1].uri))
    # committed, as a whole, for the others
    assert [file_store.exists("acme", str(r.uri)) for r in results] == [True, False, True]
    # an upsert each for the two written, and one event for their directory (coalesced)
    assert sorted(e.type.value for e in file_store.list_events("acme")) == [
        "UPSERT_CONTEXT", "UPSERT_CONTEXT", "UPSERT_DIRECTORY",
    ]  # fmt: skip
