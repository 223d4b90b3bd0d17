"""Late chunking with the real MiniLM: a message's stretches pooled from one run over it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from ogmem import Engine, Message, RequestContext
from ogmem.core import errors, ports
from ogmem.index.embedders import MiniLMEmbedder, normalise

TEXTS = [
    "Twice last year! Loved it. We want to go back.",
    "ok",
    "",
    "word " * 300,  # past the 256 tokens the model reads
    "I love drinking coffee in the morning. The stock market fell sharply today.",
]
Vector = npt.NDArray[np.float32]


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder()


def test_a_stretch_over_the_whole_text_is_the_texts_own_vector(embedder: MiniLMEmbedder) -> None:
    port: ports.PartEmbedder = embedder

    pooled = port.embed_parts(TEXTS, [[(0, len(text))] for text in TEXTS])

    np.testing.assert_allclose(np.vstack(pooled), embedder.embed(TEXTS), atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 32])
def test_each_text_gets_one_unit_vector_per_stretch_in_order(batch_size: int) -> None:
    spans = [[(0, 16), (17, 46), (0, 46)], [(0, 2)], [(0, 0)], [(0, 4), (1495, 1499)], [(0, 38)]]

    pooled = MiniLMEmbedder(batch_size=batch_size).embed_parts(TEXTS, spans)

    assert [rows.shape for rows in pooled] == [(len(s), 384) for s in spans]
    for rows in pooled:
        np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    # a stretch past the tokens the model read gets the whole text's mean
    np.testing.assert_allclose(pooled[3][1], MiniLMEmbedder().embed([TEXTS[3]])[0], atol=1e-5)


def test_a_stretch_read_in_context_stays_about_what_it_says(embedder: MiniLMEmbedder) -> None:
    text = TEXTS[4]
    coffee, stocks = embedder.embed_parts([text], [[(0, 38), (39, len(text))]])[0]
    coffee_alone, stocks_alone = embedder.embed([text[:38], text[39:]])

    # measured: 0.85 against 0.31, and 0.75 against 0.46 (the rest reads the coffee too)
    assert coffee @ coffee_alone > coffee @ stocks_alone + 0.2
    assert stocks @ stocks_alone > stocks @ coffee_alone + 0.2
    assert coffee @ coffee_alone < 0.999  # read in context: not the stretch alone


def test_spans_must_match_the_texts(embedder: MiniLMEmbedder) -> None:
    with pytest.raises(errors.ConfigurationError, match="one list of spans per text"):
        embedder.embed_parts(TEXTS[:2], [[(0, 1)]])


CTX = RequestContext("acme", "caroline", session_id="s1")
TURNS = [("Mel", "How was Paris? Tell me everything."), ("Caroline", TEXTS[0])]
MESSAGES = [
    Message("user", text, datetime(2023, 5, 8, 10, i, tzinfo=UTC), f"m{i}", name)
    for i, (name, text) in enumerate(TURNS)
]


class _Spy(MiniLMEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.read: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vector:
        self.read += list(texts)
        return super().embed(texts)

    def embed_parts(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> list[Vector]:
        self.read += list(texts)
        return super().embed_parts(texts, spans)


def test_ingest_reads_each_message_once_and_composes_it_from_its_stretches() -> None:
    spy = _Spy()
    with Engine.open(":memory:", embedder=spy, worker=False) as engine:
        engine.ingest(MESSAGES, CTX)
        engine.commit("s1", CTX, wait=True)
        engine.drain()
        tree = engine.tree("ctx://acme/users/caroline/memories", CTX)
        (uri,) = [n.uri for n in tree if n.metadata.get("source_message_ids") == ["m1"]]
        records = engine.index.records_of_many("acme", [uri])[uri]

    counts = Counter(spy.read)
    assert counts[TEXTS[0]] == 1 and counts[TURNS[0][1]] == 1  # each message read once
    assert "Twice last year!" not in counts and "Loved it. We want to go back." not in counts
    speaker = spy.embed(["Caroline"])[0]
    first, rest, whole = spy.embed_parts([TEXTS[0]], [[(0, 16), (17, 46), (0, 46)]])[0]
    content = next(r.vector for r in records if r.level == 2)
    expected = normalise((speaker + first + rest + whole)[None, :])[0]
    np.testing.assert_allclose(content, expected, atol=1e-5)


def test_a_directory_synced_with_its_children_takes_their_openings_from_their_runs(
    tmp_path: Path,
) -> None:
    """A fresh process syncs a directory summary and the messages it lists in one call: each
    listed first sentence comes from its message's run in that call, not read alone."""
    store = tmp_path / "store.sqlite"
    with Engine.open(store, embedder=MiniLMEmbedder(), worker=False) as engine:
        engine.ingest(MESSAGES, CTX)
        engine.commit("s1", CTX, wait=True)
        engine.drain()
        directory = "ctx://acme/users/caroline/memories/events"
        listed = [n.uri for n in engine.tree(directory, CTX) if n.uri != directory]
    spy = _Spy()
    with Engine.open(store, embedder=spy, worker=False) as engine:
        engine.sync.sync("acme", [directory, *listed], force=True)

    counts = Counter(spy.read)
    assert counts[TEXTS[0]] == 1 and counts[TURNS[0][1]] == 1
    assert "Twice last year!" not in counts and "How was Paris?" not in counts
