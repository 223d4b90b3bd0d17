"""A search whose keyword search runs in a database server sends it on a helper thread while
it searches vectors (Backend.searches_in_server); in-process searches run one after the other.

Both ports wait at one barrier: a search gets through only if the two run at the same time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ogmem import Engine, RequestContext
from ogmem.index.embedders import HashEmbedder
from ogmem.retrieval.search import Searcher
from tests.helpers import candidate

ALICE = RequestContext("acme", "alice")


class _Meeting:
    """Forwards to ``port``; ``method`` first waits at ``barrier`` for the other search."""

    def __init__(self, port: Any, method: str, barrier: threading.Barrier) -> None:
        self._port, self._method, self._barrier = port, method, barrier

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._port, name)
        if name != self._method:
            return found

        def waiting(*args: Any, **kwargs: Any) -> Any:
            self._barrier.wait()
            return found(*args, **kwargs)

        return waiting


@pytest.fixture
def engine() -> Iterator[Engine]:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as opened:
        opened.remember(
            [candidate("preference", "Alice edits code in vim.", routing_key="editor")], ALICE
        )
        opened.drain()
        yield opened


def _searcher(engine: Engine, *, overlap: bool, timeout: float) -> Searcher:
    barrier = threading.Barrier(2, timeout=timeout)
    return Searcher(
        engine.store,
        _Meeting(engine.index, "keyword_search", barrier),
        _Meeting(engine.vectors, "search", barrier),
        engine.embedder,
        overlap=overlap,
    )


def test_an_overlapping_search_runs_its_keyword_search_beside_the_vector_search(
    engine: Engine,
) -> None:
    searcher = _searcher(engine, overlap=True, timeout=30)
    try:
        hits = searcher.search("which editor? vim", ALICE).hits
    finally:
        searcher.close()
    assert hits and hits[0].uri.endswith("preferences/editor")
    assert "vector" in hits[0].why and "bm25" in hits[0].why


def test_an_in_process_search_runs_them_one_after_the_other(engine: Engine) -> None:
    searcher = _searcher(engine, overlap=False, timeout=0.5)
    with pytest.raises(threading.BrokenBarrierError):  # the vector search waited alone
        searcher.search("which editor? vim", ALICE)


def test_a_keyword_search_that_fails_fails_the_search(engine: Engine) -> None:
    class Failing:
        def __getattr__(self, name: str) -> Any:
            return getattr(engine.index, name)

        def keyword_search(self, *args: Any) -> Any:
            raise RuntimeError("the database went away")

    searcher = Searcher(engine.store, Failing(), engine.vectors, engine.embedder, overlap=True)
    try:
        with pytest.raises(RuntimeError, match="went away"):
            searcher.search("vim", ALICE)
    finally:
        searcher.close()


def test_only_a_database_server_overlaps(engine: Engine) -> None:
    assert engine.backend.searches_in_server is False
