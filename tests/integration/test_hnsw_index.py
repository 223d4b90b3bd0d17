"""HnswVectorIndex: exact below the threshold, HNSW above it, in step with the store."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import numpy.typing as npt
import pytest

from ogmem.core.models import ContextType, IndexRecord, NodeStatus, SearchFilter
from ogmem.core.storage import Backend, IndexStore, RecordHit
from ogmem.index.hnsw import HnswVectorIndex
from ogmem.index.vectors import NumpyVectorIndex

DIM = 48
MODEL = "test-model"
LIMIT = 50
THRESHOLD = 1000
SIZE = 3000
ALL = SearchFilter()


@pytest.fixture
def index(backend: Backend) -> IndexStore:
    return backend.index


def _clustered(
    count: int, seed: int = 0, clusters: int = 8
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    rng = np.random.default_rng(seed)
    centroids = rng.standard_normal((clusters, DIM))
    labels = rng.integers(0, clusters, count)
    vectors = centroids[labels] + 0.6 * rng.standard_normal((count, DIM))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32), labels


def _uri(account: str, i: int) -> str:
    return f"ctx://{account}/users/alice/memories/events/e{i}"


def _record(account: str, i: int, category: str = "event") -> IndexRecord:
    return IndexRecord(
        account, _uri(account, i), 0, f"text {i}", "user:alice", category,
        ContextType.MEMORY, NodeStatus.ACTIVE, 1,
    )  # fmt: skip


def _write(
    index: IndexStore,
    account: str,
    vectors: npt.NDArray[np.float32],
    categories: list[str] | None = None,
) -> None:
    items = [
        (_uri(account, i), [_record(account, i, categories[i] if categories else "event")], [v])
        for i, v in enumerate(vectors)
    ]
    index.replace_many(account, items, MODEL)


def _unit(rng: np.random.Generator) -> npt.NDArray[np.float32]:
    v = rng.standard_normal(DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def _uris(hits: list[RecordHit]) -> list[str]:
    return [hit.uri for hit in hits]


def _recall(found: list[RecordHit], exact: list[RecordHit]) -> float:
    return len(set(_uris(found)) & set(_uris(exact))) / len(exact)


def _hnsw(index: IndexStore, background: bool = False) -> HnswVectorIndex:
    return HnswVectorIndex(index, DIM, MODEL, exact_below=THRESHOLD, background=background)


def test_below_the_threshold_results_equal_the_exact_index(index: IndexStore) -> None:
    vectors, _ = _clustered(300)
    _write(index, "acme", vectors, ["event" if i % 3 else "profile" for i in range(300)])
    hnsw, exact = _hnsw(index), NumpyVectorIndex(index, DIM, MODEL)
    queries, _ = _clustered(10, seed=1)
    for query in queries:
        for search_filter in (ALL, SearchFilter(categories=("profile",))):
            expected = exact.search("acme", query, search_filter, LIMIT)
            assert hnsw.search("acme", query, search_filter, LIMIT) == expected
    assert not hnsw.uses_graph("acme")


@pytest.mark.parametrize("background", [False, True])
def test_above_the_threshold_recall_vs_exact(index: IndexStore, background: bool) -> None:
    vectors, _ = _clustered(SIZE)
    _write(index, "acme", vectors)
    hnsw, exact = _hnsw(index, background), NumpyVectorIndex(index, DIM, MODEL)
    queries, _ = _clustered(30, seed=1)
    # the search that sees the account cross the threshold is exact: the graph is not built yet
    first = hnsw.search("acme", queries[0], ALL, LIMIT)
    if background:
        assert first == exact.search("acme", queries[0], ALL, LIMIT)
    assert hnsw.build("acme")
    assert hnsw.uses_graph("acme")
    assert hnsw.build_seconds("acme") is not None
    recalls = [
        _recall(hnsw.search("acme", q, ALL, LIMIT), exact.search("acme", q, ALL, LIMIT))
        for q in queries
    ]
    assert np.mean(recalls) >= 0.95


@pytest.mark.parametrize("upkeep", ["inline", "thread", "never"])
def test_updates_and_removals_are_seen_after_catch_up(
    index: IndexStore, upkeep: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    vectors, _ = _clustered(SIZE)
    _write(index, "acme", vectors)
    hnsw = _hnsw(index, background=upkeep != "inline")
    assert hnsw.build("acme")
    if upkeep == "never":  # the graph lags behind: the pending records are scored exactly
        monkeypatch.setattr(hnsw, "_spawn", lambda *args: None)
    rng = np.random.default_rng(5)
    moved, added = _unit(rng), _unit(rng)
    index.replace_many("acme", [(_uri("acme", 5), [_record("acme", 5)], [moved])], MODEL)
    index.remove("acme", _uri("acme", 7))
    index.replace_many("acme", [(_uri("acme", SIZE), [_record("acme", SIZE)], [added])], MODEL)
    # first right after the writes (pending records scored exactly), then once patched in
    for _ in range(2):
        assert hnsw.search("acme", moved, ALL, LIMIT)[0].uri == _uri("acme", 5)
        assert hnsw.search("acme", added, ALL, LIMIT)[0].uri == _uri("acme", SIZE)
        gone = hnsw.search("acme", vectors[7], ALL, LIMIT)
        assert _uri("acme", 7) not in _uris(gone)
        assert _uri("acme", 8) in _uris(hnsw.search("acme", vectors[8], ALL, LIMIT))
        assert hnsw.build("acme")
    assert hnsw.uses_graph("acme")


def test_a_selective_filter_falls_back_to_exact_and_returns_every_match(
    index: IndexStore,
) -> None:
    vectors, labels = _clustered(SIZE)
    rare = set(range(0, SIZE, 250))
    categories = ["rare" if i in rare else f"cluster{labels[i] % 2}" for i in range(SIZE)]
    _write(index, "acme", vectors, categories)
    hnsw, exact = _hnsw(index), NumpyVectorIndex(index, DIM, MODEL)
    assert hnsw.build("acme")
    query = vectors[1]
    found = hnsw.search("acme", query, SearchFilter(categories=("rare",)), LIMIT)
    assert set(_uris(found)) == {_uri("acme", i) for i in rare}
    # half the records pass, but none near the query: the graph's candidates all fail the filter
    other = SearchFilter(categories=(f"cluster{1 - labels[1] % 2}",))
    assert hnsw.search("acme", query, other, LIMIT) == exact.search("acme", query, other, LIMIT)


def test_another_accounts_records_are_never_returned(index: IndexStore) -> None:
    vectors, _ = _clustered(SIZE)
    _write(index, "acme", vectors)
    _write(index, "globex", vectors)
    _write(index, "initech", vectors[:100])  # small: searched exactly
    hnsw = _hnsw(index)
    for account in ("acme", "globex", "initech"):
        for query in vectors[:5]:
            found = hnsw.search(account, query, ALL, LIMIT)
            assert found
            assert all(uri.startswith(f"ctx://{account}/") for uri in _uris(found))
    assert hnsw.uses_graph("acme") and hnsw.uses_graph("globex")
    assert not hnsw.uses_graph("initech")


def test_a_shrinking_account_goes_back_to_exact_search(index: IndexStore) -> None:
    vectors, _ = _clustered(SIZE)
    _write(index, "acme", vectors)
    hnsw, exact = _hnsw(index), NumpyVectorIndex(index, DIM, MODEL)
    assert hnsw.build("acme")
    for i in range(THRESHOLD // 2, SIZE):
        index.remove("acme", _uri("acme", i))
    query = vectors[0]
    assert hnsw.search("acme", query, ALL, LIMIT) == exact.search("acme", query, ALL, LIMIT)
    assert not hnsw.uses_graph("acme")


def test_many_changes_rebuild_the_graph(index: IndexStore) -> None:
    vectors, _ = _clustered(SIZE)
    _write(index, "acme", vectors)
    hnsw, exact = _hnsw(index), NumpyVectorIndex(index, DIM, MODEL)
    assert hnsw.build("acme")
    moved, _ = _clustered(SIZE, seed=9)
    _write(index, "acme", moved)  # every vector changes
    queries, _ = _clustered(20, seed=2)
    recalls = [
        _recall(hnsw.search("acme", q, ALL, LIMIT), exact.search("acme", q, ALL, LIMIT))
        for q in queries
    ]
    assert np.mean(recalls) >= 0.95
    assert hnsw.uses_graph("acme")


def test_minilm_still_loads_after_a_graph_was_built() -> None:
    """usearch's static libstdc++ once made onnxruntime, imported after it, segfault; a fresh
    interpreter is needed to see the import order of a real process."""
    script = (
        "import numpy as np\n"
        "from ogmem.index import hnsw\n"
        "from ogmem.store import open_backend\n"
        "index = hnsw.HnswVectorIndex(open_backend(':memory:').index, 8, 'm')\n"
        "graph, _ = index._filled(np.arange(4), np.eye(4, 8, dtype=np.float32))\n"
        "from ogmem.index.embedders import MiniLMEmbedder\n"
        "print(len(graph), MiniLMEmbedder().embed(['hello there']).shape)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["4", "(1,", "384)"]
