"""Validity in time, end to end on both backends: a fact replaced keeps its past (closed,
readable, searchable as_of), search puts what holds now first; expiry hides then archives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ogmem import Engine, RequestContext
from ogmem.core.models import CandidateMemory, EventType, NodeStatus, WriteStatus, utcnow
from ogmem.index.embedders import HashEmbedder
from ogmem.llm.scripted import ScriptedLLM

CTX = RequestContext("acme", "bob", session_id="s1")
HOME = "ctx://acme/users/bob/memories/entities/alice-home"
SNAPSHOT = HOME + ".v1"
MOVED = datetime(2024, 3, 1, tzinfo=UTC)
IN_2022 = datetime(2022, 6, 1, tzinfo=UTC)


def _home(city: str, valid_from: datetime | None = None) -> CandidateMemory:
    return CandidateMemory(
        category="entity", routing_key="alice-home", abstract=f"Alice lives in {city}",
        content=f"Alice lives in {city}, in a flat near the river.",
        attributes={"kind": "person"}, valid_from=valid_from,
    )  # fmt: skip


@pytest.fixture
def engine(engine_url: str) -> Iterator[Engine]:
    with Engine.open(engine_url, embedder=HashEmbedder(), worker=False) as opened:
        yield opened


def _move_alice(engine: Engine) -> None:
    engine.remember([_home("Paris", datetime(2019, 6, 1, tzinfo=UTC))], CTX)
    [moved] = engine.remember([_home("Berlin", MOVED)], CTX)
    assert moved.status is WriteStatus.WRITTEN, moved
    engine.drain()


def test_where_alice_lives_now_and_in_2022(engine: Engine) -> None:
    _move_alice(engine)
    now = engine.search("where does Alice live?", CTX)
    assert [h.uri for h in now.hits[:2]] == [HOME, SNAPSHOT]
    assert "Berlin" in now.hits[0].abstract and not now.hits[0].superseded
    assert "Paris" in now.hits[1].abstract and now.hits[1].superseded
    assert now.hits[1].valid_to == MOVED
    then = engine.search("where did Alice live in 2022?", CTX, as_of=IN_2022)
    assert then.hits[0].uri == SNAPSHOT and "Paris" in then.hits[0].abstract
    assert engine.read(HOME, CTX, as_of=IN_2022).abstract == "Alice lives in Paris"
    assert engine.read(HOME, CTX).abstract == "Alice lives in Berlin"
    block = engine.compose("where does Alice live?", CTX).text
    assert "Alice lives in Paris (until 2024-03-01)" in block
    assert block.index("Alice lives in Berlin") < block.index("Alice lives in Paris")


def test_the_replaced_fact_is_closed_not_lost(engine: Engine) -> None:
    _move_alice(engine)
    current, past = engine.read(HOME, CTX), engine.read(SNAPSHOT, CTX)
    assert (current.valid_from, current.valid_to) == (MOVED, None)
    assert past.valid_to == MOVED and past.status is NodeStatus.ACTIVE
    assert "Paris" not in current.content  # replaced, not merged
    assert current.metadata["supersedes"] == [SNAPSHOT]
    assert past.metadata["superseded_by"] == HOME
    assert [v.node.abstract for v in engine.history(HOME, CTX)] == [
        "Alice lives in Paris", "Alice lives in Berlin",
    ]  # fmt: skip


def test_without_valid_from_a_new_fact_adds(engine: Engine) -> None:
    engine.remember([_home("Paris")], CTX)
    engine.remember([_home("Paris and sometimes Lyon")], CTX)
    merged = engine.read(HOME, CTX)
    assert "Paris, in a flat" in merged.content and "Lyon" in merged.content
    assert merged.valid_to is None and engine.store.find_node("acme", SNAPSHOT) is None


def _merge_answer(relation: str) -> str:
    return json.dumps(
        {"abstract": "Alice lives in Berlin", "overview": "Moved to Berlin.",
         "content": "Alice moved to Berlin.", "relation": relation}
    )  # fmt: skip


@pytest.mark.parametrize(("relation", "snapshot"), [("supersedes", True), ("adds", False)])
def test_with_an_llm_the_merge_decides(engine_url: str, relation: str, snapshot: bool) -> None:
    llm = ScriptedLLM([_merge_answer(relation)])
    with Engine.open(engine_url, embedder=HashEmbedder(), worker=False, llm=llm) as engine:
        engine.remember([_home("Paris")], CTX)
        before = utcnow()
        engine.remember([_home("Berlin")], CTX)
        current = engine.read(HOME, CTX)
        assert current.abstract == "Alice lives in Berlin"
        assert current.metadata["merge"]["relation"] == relation
        past = engine.store.find_node("acme", SNAPSHOT)
        assert (past is not None) == snapshot
        if past is not None:
            assert past.abstract == "Alice lives in Paris" and past.valid_to is not None
            assert past.valid_to >= before and current.valid_from == past.valid_to
    assert "relation" in llm.calls[0].json_schema["required"]  # type: ignore[index]


def _note(key: str, text: str, expires_at: datetime) -> CandidateMemory:
    return CandidateMemory(
        category="preference", routing_key=key, abstract=text, content=text, expires_at=expires_at
    )


def test_an_expired_memory_is_never_searched_and_the_sweep_archives_it(engine: Engine) -> None:
    past, later = utcnow() - timedelta(seconds=1), utcnow() + timedelta(days=1)
    engine.remember([_note("spot", "Parking spot 42 today", past)], CTX)
    engine.remember([_note("garage", "Parking garage preferred", later)], CTX)
    engine.drain()
    found = [h.abstract for h in engine.search("parking", CTX).hits]
    assert found == ["Parking garage preferred"]  # hidden before the worker got there
    assert engine.expire_due() == 1 and engine.expire_due() == 0
    uri = "ctx://acme/users/bob/memories/preferences/spot"
    gone = engine.read(uri, CTX)
    assert gone.status is NodeStatus.ARCHIVED
    assert [v.action for v in engine.history(uri, CTX)] == ["create", "expire"]
    archive_events = engine.store.list_events("acme")
    assert any(e.type is EventType.ARCHIVE_CONTEXT and e.uri == uri for e in archive_events)
    restored = engine.restore(uri, CTX)  # kept from now on: its passed expiry is dropped
    assert restored.expires_at is None and engine.expire_due() == 0


def _move_event(city: str, when: str) -> CandidateMemory:
    return CandidateMemory(
        category="event", routing_key="alice-move", abstract=f"{when}: Alice moved to {city}",
        content=f"Alice moved to {city}.", when=when,
        valid_from=datetime.fromisoformat(when).replace(tzinfo=UTC),
    )  # fmt: skip


def test_a_later_event_on_the_same_topic_closes_the_earlier_one(engine: Engine) -> None:
    first, second = engine.remember(
        [_move_event("Paris", "2019-06-01"), _move_event("Berlin", "2024-03-01")], CTX
    )
    earlier = engine.read(first.node.uri, CTX)  # type: ignore[union-attr]
    later = engine.read(second.node.uri, CTX)  # type: ignore[union-attr]
    assert earlier.valid_to == MOVED and earlier.metadata["superseded_by"] == later.uri
    assert later.valid_to is None and later.metadata["supersedes"] == [earlier.uri]
    plain = CandidateMemory(
        category="event", routing_key="alice-move", abstract="2025-01-01: a visit",
        content="Alice visited.", when="2025-01-01",
    )  # fmt: skip
    engine.remember([plain], CTX)  # no valid_from of its own: it adds
    assert engine.read(later.uri, CTX).valid_to is None
