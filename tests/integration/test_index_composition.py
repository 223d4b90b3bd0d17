"""IndexSync with composed levels: raw memories through the real path (ingest, commit, worker)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
import pytest

from ogmem import Engine, Message, RequestContext
from ogmem.core.models import ContextType, SearchFilter
from ogmem.index.embedders import HashEmbedder, normalise

CTX = RequestContext("acme", "caroline", session_id="s1")
START = datetime(2023, 5, 8, 10, 0, tzinfo=UTC)
TURNS = [
    ("Mel", "How many times have you been to Paris? Tell me everything."),
    ("Caroline", "Twice last year! Loved it. We want to go back."),
    ("Mel", "Lovely! Did you see the museums?"),
    ("Caroline", "Yes, twice!"),
]
Vector = npt.NDArray[np.float32]


@pytest.fixture
def engine() -> Iterator[Engine]:
    messages = [
        Message("user", text, START + timedelta(minutes=i), f"m{i}", name)
        for i, (name, text) in enumerate(TURNS)
    ]
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as opened:
        opened.ingest(messages, CTX)
        opened.commit("s1", CTX, wait=True)
        opened.drain()
        yield opened


def _uri(engine: Engine, message_id: str) -> str:
    tree = engine.tree("ctx://acme/users/caroline/memories", CTX)
    (uri,) = [n.uri for n in tree if n.metadata.get("source_message_ids") == [message_id]]
    return uri


def _vectors(engine: Engine, uri: str) -> dict[int, Vector]:
    return {r.level: r.vector for r in engine.index.records_of_many("acme", [uri]).get(uri, [])}


def _embed(*texts: str) -> Vector:
    """The composition of these pieces, computed by hand with the same fake embedder."""
    return normalise(HashEmbedder().embed(list(texts)).sum(axis=0, keepdims=True))[0]


def _message(speaker: str, first: str, rest: str) -> Vector:
    """A message of two stretches as an embedder that reads pieces alone composes it: the
    speaker, the first sentence, the rest, and the whole derived from those two."""
    pieces = HashEmbedder().embed([speaker, first, rest])
    whole = normalise((pieces[1] + pieces[2])[None, :])[0]
    return normalise((pieces.sum(axis=0) + whole)[None, :])[0]


def test_each_distinct_text_is_embedded_once_and_only_pieces_are(engine: Engine) -> None:
    embedder = engine.embedder
    assert isinstance(embedder, HashEmbedder)
    texts = [text for call in embedder.calls for text in call]

    assert all(n == 1 for n in Counter(texts).values())
    assert {"Mel", "Caroline", "Twice last year!", "Loved it. We want to go back."} <= set(texts)
    assert not any("\n" in text for text in texts)  # no overview, no transcript embedded whole
    assert f"Caroline: {TURNS[1][1]}" not in texts  # nor a whole message with its speaker
    assert TURNS[1][1] not in texts  # nor its text: that vector is derived from its stretches


def test_the_context_level_is_composed_of_the_two_messages(engine: Engine) -> None:
    vectors = _vectors(engine, _uri(engine, "m1"))

    question = _message("Mel", "How many times have you been to Paris?", "Tell me everything.")
    answer = _message("Caroline", "Twice last year!", "Loved it. We want to go back.")
    np.testing.assert_allclose(vectors[2], answer, atol=1e-6)
    np.testing.assert_allclose(vectors[1], normalise((question + answer)[None, :])[0], atol=1e-6)
    np.testing.assert_allclose(vectors[0], _embed("Caroline", "Twice last year!"), atol=1e-6)


def test_full_text_still_indexes_the_context(engine: Engine) -> None:
    only_filter = SearchFilter(context_types=(ContextType.MEMORY,))

    hits = engine.index.keyword_search("acme", ["museums"], only_filter, limit=10)

    # "museums" is in Mel's question only: the reply is found through its context level
    assert (_uri(engine, "m3"), 1) in {(h.uri, h.level) for h in hits}


def test_a_memory_synced_alone_gets_the_vectors_it_got_in_its_batch(engine: Engine) -> None:
    uri = _uri(engine, "m3")
    in_batch = _vectors(engine, uri)

    engine.sync.sync("acme", [uri], force=True)

    alone = _vectors(engine, uri)
    assert in_batch.keys() == alone.keys()
    for level, vector in in_batch.items():
        np.testing.assert_allclose(alone[level], vector, atol=1e-6)


def test_pieces_embedded_in_an_earlier_batch_are_not_embedded_again(engine: Engine) -> None:
    """An agent's turns arrive a few at a time: the next memory's context repeats the message
    before it and the speakers, which an earlier batch embedded already."""
    embedder = engine.embedder
    assert isinstance(embedder, HashEmbedder)
    embedder.calls.clear()
    reply = Message("user", "Not yet. Next time!", START + timedelta(minutes=9), "m4", "Mel")

    engine.ingest([reply], CTX)
    engine.commit("s1", CTX, wait=True)
    engine.drain()

    texts = {text for call in embedder.calls for text in call}
    assert "Not yet." in texts and "Next time!" in texts  # the new message's own pieces
    assert not texts & {"Mel", "Caroline", "Yes, twice!"}  # speakers, the message before
    vectors = _vectors(engine, _uri(engine, "m4"))
    before, new = _embed("Caroline", "Yes, twice!"), _message("Mel", "Not yet.", "Next time!")
    np.testing.assert_allclose(vectors[1], normalise((before + new)[None, :])[0], atol=1e-6)


def test_force_embeds_again_what_was_remembered(engine: Engine) -> None:
    embedder = engine.embedder
    assert isinstance(embedder, HashEmbedder)
    embedder.calls.clear()

    engine.sync.sync("acme", [_uri(engine, "m3")], force=True)

    assert {"Caroline", "Yes, twice!"} <= {text for call in embedder.calls for text in call}
