"""pgvector search on the PostgreSQL store: its graph finds what exact search finds within the
account and filter, and a search of the whole account is exact where the graph is not."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from ogmem.core.models import ContextType, IndexRecord, NodeStatus, SearchFilter
from ogmem.core.storage import Backend, VectorIndex
from ogmem.store import open_backend
from ogmem.store.postgres_db import PostgresDatabase
from ogmem.store.postgres_index import OwnerSizes, PgVectorIndex
from tests.raw import raw_rows


def _records(backend: Backend, account: str, vectors: Any, **columns: str) -> list[str]:
    owner = columns.get("owner", "user:alice")
    items = []
    for i, vector in enumerate(vectors):
        record = IndexRecord(
            account_id=account,
            uri=f"ctx://{account}/users/{owner.partition(':')[2]}/memories/events/e{i}",
            level=0, text=f"record {i}", owner_space=owner,
            category=columns.get("category", "event"), context_type=ContextType.MEMORY,
            status=NodeStatus.ACTIVE, node_version=1,
        )  # fmt: skip
        items.append((record.uri, [record], [vector]))
    backend.index.replace_many(account, items, "m")
    return [uri for uri, _, _ in items]


def _unit(vectors: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    return (vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)).astype(np.float32)


def _graph_walker(backend: Backend, dims: int) -> VectorIndex:
    """pgvector's index with every named owner counted as large: it always walks the graph."""
    assert isinstance(backend.uow, PostgresDatabase)
    return PgVectorIndex(backend.uow, dims, "m", OwnerSizes(backend.uow, most=0))


def test_pgvector_finds_what_exact_search_finds_within_the_account_and_filter(
    pg: Backend,
) -> None:
    rng = np.random.default_rng(7)
    vectors = _unit(rng.normal(size=(300, 16)))
    _records(pg, "A", vectors[:200])
    _records(pg, "B", vectors[200:])
    _records(pg, "A2", vectors[:5], category="profile")
    assert pg.default_vector_index == "pgvector"
    assert type(pg.vector_index("pgvector", 16, "m")).__name__ == "PgVectorIndex"
    raw_rows(pg, "SELECT 1 AS done; ANALYZE index_records")  # so the planner walks the graph
    graph, exact = _graph_walker(pg, 16), pg.vector_index("exact", 16, "m")
    indexes = raw_rows(pg, "SELECT indexdef FROM pg_indexes WHERE indexname = "
                           "'index_records_hnsw_16'")  # fmt: skip
    assert "hnsw" in indexes[0]["indexdef"] and "vector_cosine_ops" in indexes[0]["indexdef"]
    alice = SearchFilter(owner_spaces=("user:alice",), statuses=None)
    for query in vectors[190:210]:
        found = graph.search("A", query, alice, 10)
        expected = exact.search("A", query, alice, 10)
        assert [h.uri for h in found] == [h.uri for h in expected]
        assert np.allclose([h.score for h in found], [h.score for h in expected], atol=1e-5)
    # a filter that leaves fewer records than asked for: every match, from the exact fallback
    narrow = SearchFilter(owner_spaces=("user:alice",), categories=("profile",))
    assert len(graph.search("A2", vectors[0], narrow, 10)) == 5
    assert graph.search("A2", vectors[0], SearchFilter(owner_spaces=("user:bob",)), 10) == []
    assert graph.search("C", vectors[0], alice, 10) == []


def test_a_search_of_the_whole_account_finds_the_exact_nearest_the_graph_misses(
    pg_url: str,
) -> None:
    """Records spread evenly around every query (no neighbour stands out) and the operator
    keeps the graph's walk narrow: walks miss some of the exact 10, the searches of the whole
    account (no owner named) do not."""
    dims, users, each = 64, 10, 300
    rng = np.random.default_rng(5)
    options = "options=-c%20hnsw.ef_search%3D10"  # an operator's narrow walk
    backend = open_backend(f"{pg_url}{'&' if '?' in pg_url else '?'}{options}")
    try:
        uris: list[str] = []
        vectors = _unit(rng.standard_normal((users * each, dims)))
        for n in range(users):
            mine = vectors[n * each : (n + 1) * each]
            uris += _records(backend, "crowd", mine, owner=f"user:u{n}")
        # statistics, as autovacuum keeps them: without, the planner reads the owners' index
        raw_rows(backend, "SELECT 1 AS done; ANALYZE index_records")
        all_users = SearchFilter(owner_spaces=tuple(f"user:u{n}" for n in range(users)))
        walker = _graph_walker(backend, dims)
        whole_account = backend.vector_index("pgvector", dims, "m")
        walks_missed = 0
        for query in _unit(rng.standard_normal((20, dims))):
            scores = vectors @ query
            exact_10 = [uris[i] for i in np.argsort(-scores)[:10]]
            walked = walker.search("crowd", query, all_users, 10)
            walks_missed += {hit.uri for hit in walked} != set(exact_10)
            found = whole_account.search("crowd", query, SearchFilter(), 10)
            assert [hit.uri for hit in found] == exact_10
            assert np.allclose([h.score for h in found], np.sort(scores)[::-1][:10], atol=1e-5)
        assert walks_missed >= 5  # the premise: a narrow walk misses in these records
    finally:
        backend.close()
