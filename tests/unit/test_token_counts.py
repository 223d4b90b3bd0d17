"""A turn's messages are counted in one call where the embedder can (BatchTokenCounter)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from ogmem import Engine, Message, RequestContext
from ogmem.core.ports import BatchTokenCounter
from ogmem.index.embedders import HashEmbedder
from ogmem.session.service import token_counts

CTX = RequestContext("acme", "caroline", session_id="s1")
WHEN = datetime(2023, 5, 8, 10, 0, tzinfo=UTC)


class BatchCounting(HashEmbedder):
    """Counts words, as HashEmbedder does, and records each batch it is asked to count."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]:
        self.batches.append(list(texts))
        return [self.count_tokens(text) for text in texts]


def _turn(*texts: str) -> list[Message]:
    return [Message("user", text, WHEN, f"m{i}", "Caroline") for i, text in enumerate(texts)]


def test_an_embedder_with_a_batch_counter_counts_a_turn_in_one_call() -> None:
    embedder = BatchCounting()
    with Engine.open(":memory:", embedder=embedder, worker=False) as engine:
        result = engine.after_turn(_turn("one two", "three", "four five six"), CTX)
        engine.ingest(_turn("seven eight"), RequestContext("acme", "caroline", session_id="s2"))

    assert isinstance(embedder, BatchTokenCounter)
    assert embedder.batches == [["one two", "three", "four five six"], ["seven eight"]]
    assert result.session.uncommitted_tokens == 6


def test_an_embedder_without_one_is_counted_text_by_text() -> None:
    embedder = HashEmbedder()
    count = token_counts(embedder)

    assert not isinstance(embedder, BatchTokenCounter)
    assert count(["one two", "", "three four five"]) == [2, 0, 3]
