"""The plain form of a memory: a text -> a typed candidate by documented rules, through the
normal write pipeline (version, outbox, idempotency)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from ogmem import plain
from ogmem.core import errors
from ogmem.core.models import EventType, RequestContext, WriteStatus
from ogmem.engine import Engine
from ogmem.index.embedders import HashEmbedder
from ogmem.schemas.registry import SchemaRegistry

REGISTRY = SchemaRegistry.load()


@pytest.fixture
def engine() -> Iterator[Engine]:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as opened:
        yield opened


def test_a_text_becomes_a_dated_event_with_derived_abstract_and_key() -> None:
    memory = plain.candidate(REGISTRY, "  I moved to Lisbon in March. It is sunny!  ")
    assert (
        memory.category == "event" and memory.content == "I moved to Lisbon in March. It is sunny!"
    )
    assert memory.abstract == "I moved to Lisbon in March."
    assert memory.routing_key == "moved-lisbon-march-sunny"
    assert memory.when == datetime.now(UTC).date().isoformat()
    REGISTRY.get("event").validate_candidate(memory)


def test_required_fields_are_derived_and_metadata_fills_the_types_fields() -> None:
    entity = plain.candidate(REGISTRY, "Anna is my sister.", "entity",
                             metadata={"relation": "sister", "source": "chat"})  # fmt: skip
    assert entity.attributes == {"kind": "other", "relation": "sister"}
    assert entity.metadata == {"source": "chat"}
    case = plain.candidate(REGISTRY, "Tests hung: fixed by WAL mode.", "case")
    assert case.attributes["problem"] == case.attributes["solution"] == case.content
    for memory in (entity, case, plain.candidate(REGISTRY, "Lint first.", "pattern")):
        REGISTRY.get(memory.category).validate_candidate(memory)
    assert plain.candidate(REGISTRY, "x", "preference").when is None  # only where required


def test_times_and_blank_texts() -> None:
    assert plain.when_text(date(2024, 5, 7)) == "2024-05-07"
    assert plain.when_text(datetime(2024, 5, 7, 10, 30)) == "2024-05-07T10:30:00+00:00"
    assert plain.candidate(REGISTRY, "Trip.", when="2023-01").when == "2023-01"
    with pytest.raises(errors.InvalidInput, match="empty"):
        plain.candidate(REGISTRY, "   ")
    assert plain.routing_key_of("the and of") == "the-and-of"  # only stopwords: kept
    assert plain.routing_key_of("!!!") == "note"


def test_engine_add_writes_through_the_pipeline_and_skips_an_exact_repeat(engine: Engine) -> None:
    first = engine.add("I prefer dark roast coffee.", user_id="alice", category="preference")
    assert first.status is WriteStatus.WRITTEN and first.node is not None
    assert first.uri == "ctx://default/users/alice/memories/preferences/prefer-dark-roast-coffee"
    ctx = RequestContext("default", "alice")
    assert engine.history(str(first.uri), ctx)[0].node.version == 1
    assert {e.type for e in engine.outbox_events(ctx)} >= {EventType.UPSERT_CONTEXT}
    again = engine.add("I prefer dark roast coffee.", ctx, category="preference")
    assert again.status is WriteStatus.SKIPPED and "already applied" in again.reason


def test_engine_add_keeps_metadata_merged_key_by_key(engine: Engine) -> None:
    engine.add("Uses vim for code editing.", user_id="u", category="preference", metadata={"a": 1})
    merged = engine.add("Uses vim for code editing, always.", user_id="u", category="preference",
                        metadata={"b": 2})  # fmt: skip
    assert merged.plan is not None and merged.plan.action.value == "merge"
    assert merged.node is not None and merged.node.metadata["custom"] == {"a": 1, "b": 2}


def test_engine_add_reports_instead_of_raising(engine: Engine) -> None:
    unknown = engine.add("x", user_id="alice", category="nope")
    assert unknown.status is WriteStatus.FAILED and "unknown memory category" in str(unknown.error)
    agentless = engine.add("Run the linter first.", user_id="alice", category="pattern")
    assert agentless.status is WriteStatus.SKIPPED and "agent" in agentless.reason
    with_agent = engine.add("Run the linter first.", user_id="alice", agent_id="coder",
                            category="pattern")  # fmt: skip
    assert with_agent.status is WriteStatus.WRITTEN


def test_engine_add_needs_one_owner(engine: Engine) -> None:
    with pytest.raises(errors.InvalidInput, match="user_id"):
        engine.add("x")
    with pytest.raises(errors.InvalidInput, match="not both"):
        engine.add("x", RequestContext("a", "b"), user_id="c")
    with pytest.raises(errors.InvalidURI):
        engine.add("x", user_id="../etc")
