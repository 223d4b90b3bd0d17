"""Raw mode on a slice of a real LoCoMo conversation, with the offline embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ogmem import Engine, RequestContext
from ogmem.eval import locomo, locomo_data
from ogmem.index.embedders import MiniLMEmbedder

DEV = Path(__file__).resolve().parents[3] / "shared" / "bench" / "locomo" / "locomo-dev.json"


@pytest.mark.skipif(not DEV.exists(), reason=f"LoCoMo dev file not found at {DEV}")
def test_a_question_finds_a_memory_whose_provenance_holds_its_evidence() -> None:
    conversation = locomo_data.load(DEV)[0]
    sliced = locomo_data.Conversation(conversation.sample_id, conversation.sessions[:2], [])
    in_slice = sliced.turn_ids
    questions = [
        q for q in conversation.questions
        if q.category in locomo_data.CATEGORIES and q.evidence and q.evidence <= in_slice
    ]  # fmt: skip
    assert questions, "the first two sessions should hold the evidence of some questions"
    with Engine.open(":memory:", embedder=MiniLMEmbedder(), worker=False) as engine:
        locomo.ingest_conversation(engine, sliced)
        ctx = RequestContext(locomo.ACCOUNT, conversation.sample_id)
        found = 0
        for question in questions:
            covered, _, uris, _ = locomo._covered(engine, ctx, question, (10,))
            found += bool(covered[10] & question.evidence)
            assert all("/memories/events/" in uri for uri in uris)
        state = engine.session(f"{conversation.sample_id}-session_1", ctx)
    assert found / len(questions) >= 0.5
    assert state.status.value == "committed" and state.written == len(sliced.sessions[0][1])
