"""LLM mode on a slice of a real LoCoMo conversation, the model's answers replayed from the
file's annotations, with the offline embedder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ogmem import Engine, RequestContext
from ogmem.core.models import ContextType
from ogmem.eval import locomo, locomo_data, locomo_replay
from ogmem.index.embedders import MiniLMEmbedder

DEV = Path(__file__).resolve().parents[3] / "shared" / "bench" / "locomo" / "locomo-dev.json"


@pytest.mark.skipif(not DEV.exists(), reason=f"LoCoMo dev file not found at {DEV}")
def test_replayed_extraction_writes_typed_memories_and_keeps_every_message_beside_them() -> None:
    conversation = locomo_data.load(DEV)[0]
    sliced = locomo_data.Conversation(conversation.sample_id, conversation.sessions[:3], [])
    llm = locomo_replay.replay_llm(DEV)
    with Engine.open(":memory:", llm=llm, embedder=MiniLMEmbedder(), worker=False) as engine:
        locomo.ingest_conversation(engine, sliced, turn_by_turn=True)
        ctx = RequestContext(locomo.ACCOUNT, conversation.sample_id)
        nodes = [n for n in engine.tree(None, ctx) if n.context_type is ContextType.MEMORY]
        counts = locomo.memory_counts(engine, [sliced])
        state = engine.session(f"{conversation.sample_id}-session_1", ctx)
    assert state.status.value == "committed" and state.failed == 0 and state.written > 0
    assert counts.get("event", 0) > 0 and sum(counts.values()) == len(nodes)
    by_kind: dict[str, list[str]] = {"llm": [], "raw": []}
    for node in nodes:
        assert set(node.metadata["source_message_ids"]) <= sliced.turn_ids
        by_kind[node.metadata["extraction"]] += node.metadata["source_message_ids"]
    # the model's typed memories, and each message once as a raw memory (keep_messages)
    assert len(by_kind["llm"]) > 0 and {n.category for n in nodes} > {"event"}
    assert sorted(by_kind["raw"]) == sorted(sliced.turn_ids)
    assert llm.calls["spans"] == 3 and llm.calls["summary"] == 3
