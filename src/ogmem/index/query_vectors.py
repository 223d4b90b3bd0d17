"""QueryVectors: query embeddings for concurrent searches, batched and cached.

One embedding call for 16 queries costs little more than for one (the model's fixed cost per
run dominates short texts), so concurrent searches share calls: the first caller to find no
call running embeds every query waiting at that moment, its own included; callers who arrive
meanwhile wait and go in the next call, led by the first of them. Nobody waits for a timer: a
search alone is embedded at once. Repeated queries (an agent asks the same thing each turn)
come from a small LRU cache.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ogmem.core.ports import Embedder
from ogmem.index.vector_lru import VectorLRU

MAX_BATCH = 32
CACHE_SIZE = 2048
Vector = npt.NDArray[np.float32]


@dataclass
class _Waiting:
    text: str
    ready: threading.Event = field(default_factory=threading.Event)
    vector: Vector | None = None
    error: BaseException | None = None
    lead: bool = False  # told to embed the next batch instead of receiving a vector


class QueryVectors:
    def __init__(
        self, embedder: Embedder, *, max_batch: int = MAX_BATCH, cache_size: int = CACHE_SIZE
    ) -> None:
        self._embedder = embedder
        self._max_batch = max_batch
        self._cache = VectorLRU(cache_size)
        self._queue: list[_Waiting] = []
        self._running = False
        self._lock = threading.Lock()
        self.calls = 0  # embedding calls made (batches), for tests and figures

    def vector(self, text: str) -> Vector:
        """The query's embedding (cached, or from a call shared with concurrent queries)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        with self._lock:
            waiting = _Waiting(text)
            self._queue.append(waiting)
            lead = not self._running
            self._running = True
        while True:
            if lead:
                self._embed_next_batch()
            waiting.ready.wait()
            if not waiting.lead:
                break
            waiting.lead, lead = False, True
            waiting.ready.clear()
        if waiting.error is not None:
            raise waiting.error
        assert waiting.vector is not None
        return waiting.vector

    def _embed_next_batch(self) -> None:
        with self._lock:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
        try:
            vectors = self._embedder.embed([w.text for w in batch])
            self.calls += 1
        except BaseException as exc:  # every caller of the batch gets the error
            for waiting in batch:
                waiting.error = exc
        else:
            for waiting, vector in zip(batch, vectors, strict=True):
                waiting.vector = vector
                self._cache.put(waiting.text, vector)
        self._hand_over()
        for waiting in batch:
            waiting.ready.set()

    def _hand_over(self) -> None:
        """The first caller still waiting leads the next call; none: no call runs."""
        with self._lock:
            if self._queue:
                self._queue[0].lead = True
                self._queue[0].ready.set()
            else:
                self._running = False
