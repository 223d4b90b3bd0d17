"""Dreaming end to end on each store: plan, dry run, merge, record, undo, jobs, thresholds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ogmem.core import errors
from ogmem.core.models import CandidateMemory, EventType, NodeStatus, RequestContext
from ogmem.dream.models import StepKind
from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder

CTX = RequestContext("acme", "alice")
MOVED = "I moved to Berlin last spring together with my sister Anna"
MOVED_AGAIN = "Last spring I moved to Berlin together with Anna, my sister"
OTHER = "My favourite dish is a spicy ramen from the corner shop"


def _event(text: str, slug: str, message: str) -> CandidateMemory:
    return CandidateMemory(
        category="event", routing_key=slug, abstract=text[:40], content=text,
        when="2026-04-01", source_message_ids=(message,),
    )  # fmt: skip


@pytest.fixture
def engine(engine_url: str) -> Iterator[Engine]:
    with Engine.open(engine_url, embedder=HashEmbedder(), worker=False) as opened:
        yield opened


def _seed(engine: Engine) -> list[str]:
    results = engine.remember(
        [_event(MOVED, "moved", "m1"), _event(MOVED_AGAIN, "moved-again", "m2"),
         _event(OTHER, "ramen", "m3")],
        CTX,
    )  # fmt: skip
    engine.drain()
    return [str(r.uri) for r in results]


def test_a_dry_run_plans_the_merge_and_writes_nothing(engine: Engine) -> None:
    first, second, _ = _seed(engine)
    run = engine.dreaming.dreamer.run(CTX, dry_run=True)
    assert [(s.kind, s.survivor, s.absorbed) for s in run.steps] == [
        (StepKind.MERGE, first, (second,))
    ]
    assert "cosine" in run.steps[0].reason and "words" in run.steps[0].reason
    assert engine.read(second, CTX).status is NodeStatus.ACTIVE
    assert engine.read(first, CTX).version == 1
    assert engine.dreaming.dreamer.history(CTX) == []


def test_a_run_merges_archives_records_and_undo_restores(engine: Engine) -> None:
    first, second, other = _seed(engine)
    run = engine.dreaming.dreamer.run(CTX, trigger="test")
    survivor, absorbed = engine.read(first, CTX), engine.read(second, CTX)
    assert survivor.version == 2 and MOVED_AGAIN in survivor.content and MOVED in survivor.content
    assert survivor.metadata["source_message_ids"] == ["m1", "m2"]
    assert survivor.metadata["absorbed"] == [second]
    assert absorbed.status is NodeStatus.ARCHIVED and absorbed.metadata["absorbed_into"] == first
    assert engine.read(other, CTX).version == 1
    assert engine.history(first, CTX)[-1].action == "dream-merge"
    engine.drain()
    assert second not in [h.uri for h in engine.search("moved to Berlin", CTX).hits]

    listed = engine.dreaming.dreamer.history(CTX)
    assert [r.run_id for r in listed] == [run.run_id]
    assert listed[0].trigger == "test" and listed[0].counts() == {"merge": 1}
    assert [(c.uri, c.before, c.after) for c in listed[0].steps[0].changes] == [
        (first, 1, 2), (second, 1, 2)
    ]  # fmt: skip

    undone = engine.dreaming.dreamer.undo(CTX, run.run_id)
    assert undone.steps[0].status == "undone"
    survivor, absorbed = engine.read(first, CTX), engine.read(second, CTX)
    assert survivor.version == 3 and survivor.content == MOVED
    assert "absorbed" not in survivor.metadata
    assert absorbed.status is NodeStatus.ACTIVE and "absorbed_into" not in absorbed.metadata
    assert engine.dreaming.dreamer.get(CTX, run.run_id).steps[0].status == "undone"
    with pytest.raises(errors.InvalidInput, match="not applied"):
        engine.dreaming.dreamer.undo(CTX, run.run_id, [0])


def test_undo_refuses_a_node_written_since_the_step(engine: Engine) -> None:
    first, _, _ = _seed(engine)
    run = engine.dreaming.dreamer.run(CTX)
    engine.archive(first, CTX)
    with pytest.raises(errors.ConcurrentModificationError):
        engine.dreaming.dreamer.undo(CTX, run.run_id)


def test_runs_are_the_users_own(engine: Engine) -> None:
    _seed(engine)
    run = engine.dreaming.dreamer.run(CTX)
    bob = RequestContext("acme", "bob")
    assert engine.dreaming.dreamer.history(bob) == []
    with pytest.raises(errors.NotFound):
        engine.dreaming.dreamer.get(bob, run.run_id)
    with pytest.raises(errors.NotFound):
        engine.dreaming.dreamer.undo(bob, run.run_id)


def test_a_requested_dream_is_a_durable_job_the_worker_runs(engine: Engine) -> None:
    first, second, _ = _seed(engine)
    engine.dreaming.trigger.request(CTX, "api")
    engine.dreaming.trigger.request(CTX, "api")  # coalesced: one pending job per user
    pending = [e for e in engine.outbox_events(CTX) if e.type is EventType.DREAM]
    assert len(pending) == 1 and pending[0].uri == "ctx://acme/users/alice"
    engine.drain()
    runs = engine.dreaming.dreamer.history(CTX)
    assert [r.run_id for r in runs] == [f"job-{pending[0].id}"] and runs[0].trigger == "api"
    assert engine.read(second, CTX).metadata["absorbed_into"] == first


def test_enough_new_memories_of_a_type_queue_a_dream(engine_url: str) -> None:
    with Engine.open(
        engine_url, embedder=HashEmbedder(), worker=False, dream_after={"event": 3}
    ) as engine:
        engine.remember([_event(MOVED, "moved", "m1"), _event(OTHER, "ramen", "m3")], CTX)
        engine.drain()
        assert engine.dreaming.dreamer.history(CTX) == []
        engine.remember([_event(MOVED_AGAIN, "moved-again", "m2")], CTX)
        engine.drain()
        runs = engine.dreaming.dreamer.history(CTX)
        assert len(runs) == 1 and runs[0].trigger.startswith("threshold: 3 new event")
        assert runs[0].counts() == {"merge": 1}
        engine.remember([_event("I adopted a cat named Miso", "cat", "m4")], CTX)
        engine.drain()  # one new event since the run: below the threshold
        assert len(engine.dreaming.dreamer.history(CTX)) == 1


def test_a_step_whose_memories_changed_since_the_plan_fails_alone(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, _ = _seed(engine)
    planned = engine.dreaming.dreamer.plan(CTX)
    engine.archive(second, CTX)  # written between the plan and the step
    monkeypatch.setattr(engine.dreaming.dreamer.planner, "plan", lambda ctx: planned)
    run = engine.dreaming.dreamer.run(CTX)
    assert run.status.value == "done" and run.steps[0].status == "failed"
    assert "no longer active since the plan" in str(run.steps[0].error)
    assert engine.read(first, CTX).version == 1  # nothing half-written
    assert engine.dreaming.dreamer.history(CTX)[0].steps[0].status == "failed"
