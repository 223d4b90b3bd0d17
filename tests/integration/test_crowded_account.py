"""A user in a crowded account (every store, its default vector index and the in-process one):
it finds its own best memory, which the nearest records of the whole account would not hold
(other users' records crowd around the query, as an unfiltered ANN walk would return them)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ogmem.core.models import ContextType, IndexRecord, NodeStatus, SearchFilter
from ogmem.core.storage import Backend

DIM, MODEL, ACCOUNT = 16, "m", "crowd"
OTHERS, EACH, MINE = 30, 40, 20


def _unit(vectors: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    return (vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)).astype(np.float32)


def _write(backend: Backend, user: str, vectors: npt.NDArray[np.float32]) -> list[str]:
    uris, items = [], []
    for i, vector in enumerate(vectors):
        uri = f"ctx://{ACCOUNT}/users/{user}/memories/events/e{i}"
        record = IndexRecord(ACCOUNT, uri, 0, f"memory {i} of {user}", f"user:{user}", "event",
                             ContextType.MEMORY, NodeStatus.ACTIVE, 1)  # fmt: skip
        uris.append(uri)
        items.append((uri, [record], [vector]))
    backend.index.replace_many(ACCOUNT, items, MODEL)
    return uris


def test_a_user_in_a_crowded_account_finds_its_own_top_memory(backend: Backend) -> None:
    rng = np.random.default_rng(3)
    query = _unit(rng.standard_normal(DIM))
    for n in range(OTHERS):  # 1,200 records of other users, all close to the query
        _write(backend, f"other{n}", _unit(query + 0.08 * rng.standard_normal((EACH, DIM))))
    mine = _unit(rng.standard_normal((MINE, DIM)))
    mine[7] = _unit(query + 0.25 * rng.standard_normal(DIM))  # my best: far below the crowd's
    my_uris = _write(backend, "me", mine)
    best = my_uris[int(np.argmax(mine @ query))]
    assert best == my_uris[7]
    for kind in dict.fromkeys([backend.default_vector_index, "exact"]):
        vectors = backend.vector_index(kind, DIM, MODEL)
        nearest_of_account = vectors.search(ACCOUNT, query, SearchFilter(), 50)
        assert best not in [hit.uri for hit in nearest_of_account], kind
        assert all("/users/other" in hit.uri for hit in nearest_of_account), kind
        found = vectors.search(ACCOUNT, query, SearchFilter(owner_spaces=("user:me",)), 10)
        assert found[0].uri == best, kind
        assert {hit.uri for hit in found} <= set(my_uris) and len(found) == 10, kind
        assert np.isclose(found[0].score, float(mine[7] @ query), atol=1e-5), kind
