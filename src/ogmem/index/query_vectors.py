"""QueryVectors: query embeddings for concurrent searches, batched and cached.

One embedding call for 16 queries costs little more than for one (the model's fixed cost per
run dominates short texts), so concurrent searches share calls (ogmem.batches: the first
caller to find no call running embeds every query waiting at that moment; nobody waits for a
timer, a search alone is embedded at once). Repeated queries (an agent asks the same thing
each turn) come from a small LRU cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ogmem.batches import Batches, Waiter
from ogmem.core.ports import Embedder

MAX_BATCH = 32
CACHE_SIZE = 2048
Vector = npt.NDArray[np.float32]


@dataclass(kw_only=True)
class _Waiting(Waiter):
    text: str
    vector: Vector | None = None


class QueryVectors:
    def __init__(
        self, embedder: Embedder, *, max_batch: int = MAX_BATCH, cache_size: int = CACHE_SIZE
    ) -> None:
        self._embedder = embedder
        self._cache_size = cache_size
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self._lock = threading.Lock()  # the cache's
        self._batches: Batches[_Waiting] = Batches(self._embed, max_batch=max_batch)
        self.calls = 0  # embedding calls made (batches), for tests and figures

    def vector(self, text: str) -> Vector:
        """The query's embedding (cached, or from a call shared with concurrent queries)."""
        with self._lock:
            cached = self._cache.get(text)
            if cached is not None:
                self._cache.move_to_end(text)
                return cached
        waiting = _Waiting(text=text)
        self._batches.wait_for(waiting)
        assert waiting.vector is not None
        return waiting.vector

    def _embed(self, batch: list[_Waiting]) -> None:
        vectors = self._embedder.embed([w.text for w in batch])
        self.calls += 1
        with self._lock:
            for waiting, vector in zip(batch, vectors, strict=True):
                waiting.vector = vector
                self._remember(waiting.text, vector)

    def _remember(self, text: str, vector: Vector) -> None:
        self._cache[text] = vector
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
