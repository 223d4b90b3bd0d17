"""The ReplayLLM on a tiny hand-written LoCoMo-shaped file: the annotations, answered as a
model would, run through the product's LLM extraction, merges and summaries unchanged."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ogmem import Engine
from ogmem.core import errors
from ogmem.core.models import ContextNode, ContextType, RequestContext
from ogmem.eval import locomo, locomo_data, locomo_replay
from ogmem.index.embedders import HashEmbedder
from ogmem.llm.replay import ReplayLLM

SESSION_1 = [
    {"speaker": "Ann", "dia_id": "D1:1", "text": "Hi Bo! Last Saturday I adopted a puppy."},
    {"speaker": "Bo", "dia_id": "D1:2", "text": "Wow! What is it called?"},
    {"speaker": "Ann", "dia_id": "D1:3", "text": "Rex. He is a beagle. I work as a nurse."},
    {"speaker": "Bo", "dia_id": "D1:4", "text": "I love pottery, I go every week."},
]
SESSION_2 = [
    {"speaker": "Ann", "dia_id": "D2:1", "text": "Rex chewed my violin case today!"},
    {"speaker": "Bo", "dia_id": "D2:2", "text": "Oh no, poor case."},
]
OBSERVATIONS = {
    "session_1_observation": {
        "Ann": [
            ["Ann adopted a puppy last Saturday.", "D1:1"],
            ["Ann's puppy Rex is a beagle.", "D1:3"],
            ["Ann works as a nurse.", "D1:3"],
        ],
        "Bo": [["Bo loves pottery and goes every week.", "D1:4"]],
    },
    "session_2_observation": {"Ann": [["Ann's puppy Rex chewed her violin case.", ["D2:1"]]]},
}


def sample() -> list[dict[str, Any]]:
    return [
        {
            "sample_id": "conv-t",
            "conversation": {
                "speaker_a": "Ann", "speaker_b": "Bo",
                "session_1_date_time": "1:56 pm on 8 May, 2023", "session_1": SESSION_1,
                "session_2_date_time": "10:00 am on 9 June, 2023", "session_2": SESSION_2,
            },
            "observation": OBSERVATIONS,
            "event_summary": {
                "events_session_1": {
                    "Ann": ["Ann adopts a puppy."], "Bo": [], "date": "8 May, 2023",
                },
                "events_session_2": {"Ann": [], "Bo": [], "date": "9 June, 2023"},
            },
            "session_summary": {
                "session_1_summary": "Ann told Bo about her new puppy Rex. Bo loves pottery.",
                "session_2_summary": "Rex chewed Ann's violin case.",
            },
            "qa": [{"question": "What did Rex chew?", "evidence": ["D2:1"], "category": 4}],
        }
    ]  # fmt: skip


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(sample()))
    return path


@pytest.fixture
def replayed(data: Path) -> Iterator[tuple[Engine, ReplayLLM, locomo.EvalReport]]:
    """The model's memories alone (the messages kept beside them: test_locomo_replay.py)."""
    llm = locomo_replay.replay_llm(data)
    with Engine.open(
        ":memory:", llm=llm, embedder=HashEmbedder(), worker=False, keep_messages=False
    ) as engine:
        report = locomo.evaluate(engine, locomo_data.load(data), turn_by_turn=True)
        yield engine, llm, report


def _memories(engine: Engine) -> dict[str, ContextNode]:
    ctx = RequestContext(locomo.ACCOUNT, "conv-t")
    nodes = engine.tree(None, ctx)
    memories = [node for node in nodes if node.context_type is ContextType.MEMORY]
    return {node.uri.split("/memories/", 1)[1]: node for node in memories}


def test_every_kind_of_call_is_answered_in_the_shape_the_product_parses(
    replayed: tuple[Engine, ReplayLLM, locomo.EvalReport],
) -> None:
    _, llm, report = replayed
    assert llm.calls["spans"] == 2 and llm.calls["structure"] >= 4
    assert llm.calls["merge"] == 1 and llm.calls["summary"] == 2
    assert report.memories == {"entity": 1, "event": 2, "preference": 1, "profile": 1}


def test_observations_become_typed_memories_with_resolved_dates(
    replayed: tuple[Engine, ReplayLLM, locomo.EvalReport],
) -> None:
    memories = _memories(replayed[0])
    events = [node for uri, node in memories.items() if uri.startswith("events/")]
    # "last Saturday" said on Monday 2023-05-08; the event summary carries the session's date
    assert sorted(node.metadata["when"] for node in events) == ["2023-05-06", "2023-05-08"]
    assert all(node.metadata["extraction"] == "llm" for node in memories.values())
    # D1:3 answers Bo's question D1:2: the memory comes from both
    assert memories["profile/profile"].metadata["source_message_ids"] == ["D1:2", "D1:3"]
    preference = memories["preferences/bo-pottery"]
    assert preference.metadata["attributes"]["stance"] == "likes"
    assert preference.metadata["evidence_quote"] == "I love pottery, I go every week."


def test_a_merged_memory_keeps_the_facts_and_messages_of_both_observations(
    replayed: tuple[Engine, ReplayLLM, locomo.EvalReport],
) -> None:
    entity = _memories(replayed[0])["entities/ann-puppy"]
    assert entity.metadata["merge"]["method"] == "llm"
    assert entity.metadata["source_message_ids"] == ["D1:2", "D1:3", "D2:1"]
    assert "beagle" in entity.content and "violin case" in entity.content


def test_the_session_archive_carries_the_annotated_summary(
    replayed: tuple[Engine, ReplayLLM, locomo.EvalReport],
) -> None:
    engine = replayed[0]
    ctx = RequestContext(locomo.ACCOUNT, "conv-t")
    archive = engine.read(f"ctx://{locomo.ACCOUNT}/users/conv-t/sessions/conv-t-session_2", ctx)
    assert archive.abstract == "Rex chewed Ann's violin case."


def test_the_question_finds_its_evidence_through_provenance(
    replayed: tuple[Engine, ReplayLLM, locomo.EvalReport],
) -> None:
    assert replayed[2].overall["R@5"] == 1.0


def test_a_call_the_replay_cannot_place_fails_like_an_unusable_model(data: Path) -> None:
    llm = locomo_replay.replay_llm(data)
    with pytest.raises(errors.LLMResponseError, match="no answer"):
        llm.complete([{"role": "user", "content": "Tell me a joke."}])
    structured = llm.complete(
        [{"role": "user", "content": "no transcript"}],
        tools=[{"type": "function", "function": {"name": "remember_event"}}],
    )
    assert structured.tool_calls == ()
