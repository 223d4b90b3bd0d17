"""Correction and patterns with a scripted LLM: contradictions superseded, repeats cited."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ogmem.core.models import CandidateMemory, NodeStatus, RequestContext
from ogmem.core.ports import ChatMessage
from ogmem.dream import setup as dream_setup
from ogmem.dream.models import StepKind
from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.llm.scripted import ScriptedLLM

CTX = RequestContext("acme", "alice", agent_id="coder")


def _answer(contradictions: list[object], patterns: list[object]) -> ScriptedLLM:
    def respond(messages: list[ChatMessage]) -> str:
        prompt = str(messages[-1]["content"])
        if "CONTRADICT" in prompt:
            return json.dumps({"contradictions": contradictions})
        if "REPEATS" in prompt:
            return json.dumps({"patterns": patterns})
        return "not json"  # a merge: falls back to the deterministic merge

    return ScriptedLLM(responder=respond)


@pytest.fixture
def engine() -> Iterator[Engine]:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as opened:
        opened.remember(
            [
                CandidateMemory(category="entity", routing_key="home", abstract="Lives in Berlin",
                                content="Alice lives in Berlin, Kreuzberg.",
                                attributes={"kind": "place"}),
                CandidateMemory(category="entity", routing_key="new-home",
                                abstract="Lives in Munich", content="Alice moved to Munich.",
                                attributes={"kind": "place"}),
                CandidateMemory(category="event", routing_key="ci-1", when="2026-03-01",
                                abstract="CI failed on lint", content="Fixed CI by running ruff."),
                CandidateMemory(category="event", routing_key="ci-2", when="2026-03-08",
                                abstract="CI red again", content="CI lint fixed by ruff format."),
            ],
            CTX,
        )  # fmt: skip
        opened.drain()
        yield opened


def _dreaming(engine: Engine, llm: ScriptedLLM) -> dream_setup.Dreaming:
    return dream_setup.build(
        engine.backend, engine.store, engine.writer, engine.outbox, engine.registry,
        engine.embedder, llm, {}, wake=engine.worker.wake,
    )  # fmt: skip


def _uri(engine: Engine, slug: str) -> str:
    """The memory named ``slug`` (events get their date in their name too)."""
    names = {n.uri.rsplit("/", 1)[-1]: n.uri for n in engine.tree(None, CTX)}
    return names.get(slug) or next(u for name, u in names.items() if slug in name)


def test_a_contradiction_supersedes_the_older_memory_and_undo_restores_it(engine: Engine) -> None:
    # the model names them the wrong way round: the store's order decides which is older
    llm = _answer([{"older": 2, "newer": 1, "reason": "moved to Munich"}], [])
    run = _dreaming(engine, llm).dreamer.run(CTX)
    berlin, munich = _uri(engine, "home"), _uri(engine, "new-home")
    [step] = [s for s in run.steps if s.kind is StepKind.SUPERSEDE]
    assert (step.survivor, step.absorbed, step.status) == (munich, (berlin,), "applied")
    assert "moved to Munich" in step.reason
    older, newer = engine.read(berlin, CTX), engine.read(munich, CTX)
    # closed, not lost: the older fact held until the newer one was recorded
    assert older.status is NodeStatus.ACTIVE and older.metadata["superseded_by"] == munich
    assert older.valid_to == newer.valid_from == newer.created_at
    assert newer.metadata["supersedes"] == [berlin] and newer.valid_to is None
    hits = engine.search("where does the user live?", CTX, limit=5).hits
    assert [h.uri for h in hits if h.uri in (berlin, munich)] == [munich, berlin]
    _dreaming(engine, llm).dreamer.undo(CTX, run.run_id)
    restored = engine.read(berlin, CTX)
    assert restored.valid_to is None and "superseded_by" not in restored.metadata
    assert engine.read(munich, CTX).valid_from is None


def test_repeated_events_become_a_pattern_citing_them(engine: Engine) -> None:
    pattern = {"name": "Ruff before push", "abstract": "Run ruff before pushing",
               "trigger": "before pushing", "content": "CI failed twice on lint.",
               "cites": [1, 2]}  # fmt: skip
    llm = _answer([], [pattern, {"name": "once", "abstract": "a", "trigger": "t",
                                 "content": "c", "cites": [1]}])  # fmt: skip
    dreaming = _dreaming(engine, llm)
    planned = dreaming.dreamer.run(CTX, dry_run=True)
    assert [s.kind for s in planned.steps] == [StepKind.PATTERN]  # one citation is no pattern
    run = dreaming.dreamer.run(CTX)
    [step] = run.steps
    assert step.survivor == "ctx://acme/agents/coder/memories/patterns/ruff-before-push"
    node = engine.read(step.survivor, CTX)
    assert node.category == "pattern" and node.abstract == "Run ruff before pushing"
    assert node.metadata["custom"]["cites"] == [_uri(engine, "ci-1"), _uri(engine, "ci-2")]
    dreaming.dreamer.undo(CTX, run.run_id)
    assert engine.read(step.survivor, CTX).status is NodeStatus.ARCHIVED


def test_unusable_answers_plan_nothing(engine: Engine) -> None:
    llm = _answer([{"older": 9, "newer": 1}, {"older": "x"}, "junk"],
                  [{"name": "", "cites": [1, 2]}])  # fmt: skip
    assert _dreaming(engine, llm).dreamer.plan(CTX).steps == []


def test_without_an_llm_only_consolidation_runs(engine: Engine) -> None:
    plan = engine.dreaming.dreamer.plan(CTX)
    assert plan.memories == 4 and plan.notes == [
        "no LLM configured: correction and patterns skipped"
    ]
