"""Raw mode on a slice of a real LoCoMo conversation, with the offline embedder."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from ogmem import Engine, RequestContext
from ogmem.core.models import Message
from ogmem.eval import locomo, locomo_data
from ogmem.index.embedders import HashEmbedder, MiniLMEmbedder, Vectors
from ogmem.index.worker import WorkerStats

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


class _SlowEmbedder(HashEmbedder):
    """Slow in the background worker's thread only: the worker still holds its batch when
    the foreground has drained what is left."""

    def embed(self, texts: Sequence[str]) -> Vectors:
        if threading.current_thread() is not threading.main_thread():
            time.sleep(0.5)
        return super().embed(texts)


def _drain_after_the_worker_claimed(engine: Engine) -> None:
    """The engine's drain, first waiting (up to 5 s) until its background worker claimed a
    batch: it is then the worker's batch that ingest_all must wait for."""
    drain = engine.drain
    deadline = time.monotonic() + 5
    first = [True]

    def drained() -> WorkerStats:
        while first[0] and not engine.stats().outbox.get("PROCESSING"):
            first[0] = time.monotonic() < deadline
            time.sleep(0.005)
        first[0] = False
        return drain()

    engine.drain = drained  # type: ignore[method-assign]


def test_with_a_background_worker_ingest_all_returns_once_everything_is_indexed(
    tmp_path: Path,
) -> None:
    sessions = [
        (f"session_{n}", [Message("user", f"Day {n}: I planted {word} in the garden.", name="Ann")])
        for n, word in enumerate(("tulips", "basil", "roses", "mint"), 1)
    ]
    conversation = locomo_data.Conversation("conv-x", sessions, [])
    with Engine.open(tmp_path / "x.sqlite", embedder=_SlowEmbedder(), worker=True) as engine:
        _drain_after_the_worker_claimed(engine)
        messages, _ = locomo.ingest_all(engine, [conversation])
        counts = engine.stats().outbox
        lagging = engine.index.lagging_nodes(locomo.ACCOUNT)
        found = engine.search("basil", RequestContext(locomo.ACCOUNT, "conv-x")).hits
    assert messages == 4
    assert not counts.get("PENDING") and not counts.get("PROCESSING") and counts["DONE"] > 0
    assert lagging == []
    assert found and "basil" in found[0].abstract
