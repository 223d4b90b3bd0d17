"""Query embeddings: concurrent queries share embedding calls, repeats come from the cache,
and an embedder failure reaches every caller of its batch."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from ogmem.index.embedders import HashEmbedder
from ogmem.index.query_vectors import QueryVectors


class SlowEmbedder(HashEmbedder):
    """Each call takes a while, as a real model run does; records the batch sizes."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__()
        self.fail = fail

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        time.sleep(0.05)
        if self.fail:
            raise RuntimeError("model crashed")
        return super().embed(texts)


def _concurrently(queries: QueryVectors, texts: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}

    def ask(text: str) -> None:
        try:
            out[text] = queries.vector(text)
        except Exception as exc:  # asserted by the caller
            out[text] = exc

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return out


def test_concurrent_queries_share_calls_and_get_their_own_vectors() -> None:
    embedder = SlowEmbedder()
    queries = QueryVectors(embedder)
    texts = [f"question number {n}" for n in range(24)]
    vectors = _concurrently(queries, texts)
    assert queries.calls < len(texts) / 2  # shared, not one call per query
    reference = HashEmbedder()
    for text in texts:
        assert np.allclose(vectors[text], reference.embed([text])[0])  # type: ignore[arg-type]
    assert sum(len(call) for call in embedder.calls) == len(texts)  # each embedded once


def test_a_repeated_query_is_not_embedded_again() -> None:
    embedder = SlowEmbedder()
    queries = QueryVectors(embedder, cache_size=2)
    first = queries.vector("where do I live?")
    again = queries.vector("where do I live?")
    assert np.array_equal(first, again) and queries.calls == 1
    queries.vector("one"), queries.vector("two")  # the cache keeps the 2 most recent
    queries.vector("where do I live?")
    assert queries.calls == 4


def test_a_failure_reaches_every_caller_and_the_next_call_works() -> None:
    embedder = SlowEmbedder(fail=True)
    queries = QueryVectors(embedder)
    outcomes = _concurrently(queries, [f"q{n}" for n in range(6)])
    assert all(isinstance(o, RuntimeError) for o in outcomes.values())
    embedder.fail = False
    assert queries.vector("q0").shape == (64,)
    with pytest.raises(RuntimeError):
        embedder.fail = True
        queries.vector("q9")
