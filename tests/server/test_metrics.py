"""/metrics values read from the store at scrape time (not only their presence)."""

from __future__ import annotations

from datetime import UTC, datetime

from ogmem import Engine, Message, RequestContext
from ogmem.index.embedders import HashEmbedder
from ogmem.server.metrics import Metrics

START = datetime(2023, 5, 8, 10, 0, tzinfo=UTC)


def _session(engine: Engine, ctx: RequestContext, texts: list[str], commit: bool) -> None:
    messages = [
        Message("user", text, START, f"{ctx.session_id}-{i}", ctx.user_id)
        for i, text in enumerate(texts)
    ]
    engine.ingest(messages, ctx)
    if commit:
        engine.commit(ctx.session_id or "", ctx, wait=True)


def test_session_gauges_and_outcomes_sum_over_every_account() -> None:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        alice = RequestContext("acme", "alice", session_id="s1")
        _session(engine, alice, ["I adopted a cat.", "She is called Miso.", "   "], commit=True)
        bob = RequestContext("acme", "bob", session_id="s2")
        _session(engine, bob, ["I moved to Lisbon."], commit=True)
        zoe = RequestContext("zeta", "zoe", session_id="s3")
        _session(engine, zoe, ["I play the cello."], commit=True)
        later = RequestContext("acme", "alice", session_id="s4")
        _session(engine, later, ["Not committed yet."], commit=False)

        registry = Metrics(engine).registry

        def value(name: str, **labels: str) -> float | None:
            return registry.get_sample_value(name, labels)

        assert value("ogmem_sessions", status="committed") == 3
        assert value("ogmem_sessions", status="open") == 1
        assert value("ogmem_sessions", status="failed") == 0
        assert value("ogmem_extraction_memories_total", outcome="proposed") == 5
        assert value("ogmem_extraction_memories_total", outcome="written") == 4
        assert value("ogmem_llm_tokens_total") == 0  # raw mode spends none
