"""The vector cache per owner: a search reads only its owners' matrices, the cache stays
within its budget (least recently used owners go), and results equal a brute-force scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from ogmem.core import errors
from ogmem.core.models import ContextType, IndexRecord, NodeStatus, SearchFilter
from ogmem.core.storage import Backend, IndexStore, RecordHit
from ogmem.index import owner_cache
from ogmem.index.embedders import HashEmbedder
from ogmem.index.matrix import MATRIX_OVERHEAD_BYTES
from ogmem.index.owner_cache import MB
from ogmem.index.vectors import NumpyVectorIndex
from ogmem.settings import Settings
from ogmem.store import open_backend
from ogmem.wiring import open_engine

DIM, MODEL, ACCOUNT = 32, "m", "crowd"


@pytest.fixture
def backend() -> Backend:
    return open_backend(":memory:")


def _unit(rows: int, seed: int) -> npt.NDArray[np.float32]:
    vectors = np.random.default_rng(seed).standard_normal((rows, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _uri(owner: str, i: int) -> str:
    return f"ctx://{ACCOUNT}/users/{owner.split(':')[1]}/memories/events/e{i}"


def _write(
    index: IndexStore, owner: str, vectors: npt.NDArray[np.float32], account: str = ACCOUNT
) -> None:
    items = []
    for i, vector in enumerate(vectors):
        uri = _uri(owner, i)
        record = IndexRecord(account, uri, 0, f"text {i}", owner, "event", ContextType.MEMORY,
                             NodeStatus.ACTIVE, 1)  # fmt: skip
        items.append((uri, [record], [vector]))
    index.replace_many(account, items, MODEL)


def _brute_force(
    by_owner: dict[str, npt.NDArray[np.float32]], query: npt.NDArray[np.float32], limit: int
) -> list[tuple[float, str]]:
    scored = [
        (float(vector @ query), _uri(owner, i))
        for owner, vectors in by_owner.items()
        for i, vector in enumerate(vectors)
    ]
    return sorted(scored, reverse=True)[:limit]


def _assert_exact(
    found: list[RecordHit],
    by_owner: dict[str, npt.NDArray[np.float32]],
    query: npt.NDArray[np.float32],
    limit: int,
) -> None:
    """The hits are the brute-force best, in order (near-ties may swap: float32 sums)."""
    expected = _brute_force(by_owner, query, limit)
    truth = {uri: score for score, uri in _brute_force(by_owner, query, 10**6)}
    assert len(found) == len(expected)
    assert np.allclose([h.score for h in found], [score for score, _ in expected], atol=1e-5)
    assert all(abs(truth[h.uri] - h.score) < 1e-5 for h in found)


def _uris(hits: list[RecordHit]) -> list[str]:
    return [hit.uri for hit in hits]


def _crowd(index: IndexStore, owners: int = 20, each: int = 50) -> dict[str, np.ndarray]:
    by_owner = {f"user:u{n}": _unit(each, seed=n) for n in range(owners)}
    for owner, vectors in by_owner.items():
        _write(index, owner, vectors)
    return by_owner


def test_a_search_reads_only_the_owners_it_names(backend: Backend) -> None:
    by_owner = _crowd(backend.index)
    vectors = NumpyVectorIndex(backend.index, DIM, MODEL)
    query = _unit(1, seed=99)[0]
    found = vectors.search(ACCOUNT, query, SearchFilter(owner_spaces=("user:u3",)), 10)
    _assert_exact(found, {"user:u3": by_owner["user:u3"]}, query, 10)
    assert vectors.cache.loaded() == [(ACCOUNT, "user:u3")]
    one_owner = 50 * (DIM * 4 + 400) + MATRIX_OVERHEAD_BYTES
    assert vectors.cache.used_bytes <= one_owner  # one owner's records, not 1,000


def test_several_owners_and_the_whole_account_merge_by_exact_score(backend: Backend) -> None:
    by_owner = _crowd(backend.index)
    vectors = NumpyVectorIndex(backend.index, DIM, MODEL)
    two = ("user:u1", "user:u7")
    for query in _unit(5, seed=98):
        found = vectors.search(ACCOUNT, query, SearchFilter(owner_spaces=two), 15)
        _assert_exact(found, {o: by_owner[o] for o in two}, query, 15)
        everyone = vectors.search(ACCOUNT, query, SearchFilter(), 15)
        _assert_exact(everyone, by_owner, query, 15)
        assert [h.score for h in everyone] == sorted((h.score for h in everyone), reverse=True)


def test_the_cache_stays_within_its_budget_dropping_the_least_recently_used(
    backend: Backend,
) -> None:
    # 20 owners of 2,000 records of 32 dimensions: ~0.9 MB each with their slots, a 4 MB budget
    # holds 4 (less the share kept for memory freed but not yet given back)
    by_owner = {f"user:u{n}": _unit(2000, seed=n) for n in range(20)}
    for owner, rows in by_owner.items():
        _write(backend.index, owner, rows)
    vectors = NumpyVectorIndex(backend.index, DIM, MODEL, cache_mb=4)
    query = _unit(1, seed=99)[0]
    for owner in by_owner:
        found = vectors.search(ACCOUNT, query, SearchFilter(owner_spaces=(owner,)), 5)
        _assert_exact(found, {owner: by_owner[owner]}, query, 5)
        assert vectors.cache.used_bytes <= 4 * MB
    loaded = vectors.cache.loaded()
    assert 1 < len(loaded) < 20 and loaded[-1] == (ACCOUNT, "user:u19")
    assert (ACCOUNT, "user:u0") not in loaded
    # a dropped owner is read again, whole, when searched
    again = vectors.search(ACCOUNT, query, SearchFilter(owner_spaces=("user:u0",)), 5)
    _assert_exact(again, {"user:u0": by_owner["user:u0"]}, query, 5)
    assert vectors.cache.loaded()[-1] == (ACCOUNT, "user:u0")


def test_memory_dropped_but_not_yet_given_back_counts_against_the_budget(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """glibc keeps what a dropped matrix freed until asked (malloc_trim, every 1/64 of the
    budget and at least 256 KB): the matrices stay within the budget less that share, so the
    two together never pass it. Owners of ~0.98 MB: a 4 MB budget keeps three, not four."""
    trims: list[int] = []
    monkeypatch.setattr(owner_cache, "_give_back_freed_memory", lambda: trims.append(1))
    for n in range(8):
        _write(backend.index, f"user:u{n}", _unit(2200, seed=n))
    vectors = NumpyVectorIndex(backend.index, DIM, MODEL, cache_mb=4)
    query = _unit(1, seed=99)[0]
    for n in range(8):
        vectors.search(ACCOUNT, query, SearchFilter(owner_spaces=(f"user:u{n}",)), 5)
        assert vectors.cache.used_bytes <= 4 * MB - 256 * 1024
    assert len(vectors.cache.loaded()) == 3
    assert len(trims) == 5  # each owner dropped frees more than the share: given back at once


def test_writes_reach_loaded_owners_and_wait_for_the_others(backend: Backend) -> None:
    by_owner = _crowd(backend.index, owners=3, each=10)
    vectors = NumpyVectorIndex(backend.index, DIM, MODEL)
    alice = SearchFilter(owner_spaces=("user:u0",))
    query = _unit(1, seed=97)[0]
    vectors.search(ACCOUNT, query, alice, 5)
    # a record equal to the query, written to the loaded owner, then to one not loaded
    _write(backend.index, "user:u0", np.vstack([by_owner["user:u0"], query]))
    _write(backend.index, "user:u2", np.vstack([by_owner["user:u2"], query]))
    assert vectors.search(ACCOUNT, query, alice, 1)[0].uri == _uri("user:u0", 10)
    assert vectors.cache.loaded() == [(ACCOUNT, "user:u0")]
    bob = SearchFilter(owner_spaces=("user:u2",))
    assert vectors.search(ACCOUNT, query, bob, 1)[0].uri == _uri("user:u2", 10)
    backend.index.remove(ACCOUNT, _uri("user:u0", 10))
    assert _uri("user:u0", 10) not in _uris(vectors.search(ACCOUNT, query, alice, 20))


def test_a_record_that_changes_owner_leaves_its_old_matrix(backend: Backend) -> None:
    _crowd(backend.index, owners=2, each=5)
    vectors = NumpyVectorIndex(backend.index, DIM, MODEL)
    both = SearchFilter(owner_spaces=("user:u0", "user:u1"))
    query = _unit(1, seed=96)[0]
    vectors.search(ACCOUNT, query, both, 10)
    uri = _uri("user:u0", 0)
    moved = IndexRecord(ACCOUNT, uri, 0, "moved", "user:u1", "event", ContextType.MEMORY,
                        NodeStatus.ACTIVE, 2)  # fmt: skip
    backend.index.replace_many(ACCOUNT, [(uri, [moved], [query])], MODEL)
    assert _uris(vectors.search(ACCOUNT, query, both, 10)).count(uri) == 1
    only_u0 = vectors.search(ACCOUNT, query, SearchFilter(owner_spaces=("user:u0",)), 10)
    assert uri not in _uris(only_u0)


def test_forgetting_an_owner_or_an_account_empties_the_cache(backend: Backend) -> None:
    _crowd(backend.index, owners=2, each=5)
    vectors = NumpyVectorIndex(backend.index, DIM, MODEL)
    query = _unit(1, seed=95)[0]
    vectors.search(ACCOUNT, query, SearchFilter(), 3)
    assert len(vectors.cache.loaded()) == 2
    vectors.forget_owner(ACCOUNT, "user:u0")
    assert vectors.cache.loaded() == [(ACCOUNT, "user:u1")]
    vectors.forget_account(ACCOUNT)
    assert vectors.cache.loaded() == [] and vectors.cache.used_bytes == 0


def test_the_budget_is_a_setting(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"OGMEM_STORE": str(tmp_path / "s.sqlite"), "OGMEM_EMBEDDER": "hash",
         "OGMEM_VECTOR_CACHE_MB": "64"}
    )  # fmt: skip
    with open_engine(settings) as engine:
        assert isinstance(engine.embedder, HashEmbedder)
        assert isinstance(engine.vectors, NumpyVectorIndex)
        assert engine.vectors.cache.budget_bytes == 64 * MB
    with pytest.raises(errors.ConfigurationError, match="OGMEM_VECTOR_CACHE_MB"):
        Settings.from_env({"OGMEM_VECTOR_CACHE_MB": "lots"})
    with pytest.raises(errors.ConfigurationError, match="OGMEM_VECTOR_CACHE_MB"):
        Settings.from_env({"OGMEM_VECTOR_CACHE_MB": "0"})
