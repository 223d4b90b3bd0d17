"""VectorLRU: a bounded map from text to its embedding, least recently used out first.

Embedding is the costly step of searching and indexing, and the same short texts come back:
an agent asks the same question each turn, and a conversation's raw memories share pieces
across the worker's batches (a message is embedded as its own memory and again in the next
memory's overview; a speaker's name in every batch). An embedder gives one text one vector,
so a vector computed once can be reused for as long as the same embedder is in use.

A key is a text or a part of one (``records.Part``, whose vector depends on the whole text).
Memory is bounded by the entry count and by the length of the texts kept (a longer text is
not remembered, so neither keys nor vectors can grow with what a client sends). Thread-safe:
concurrent searches and worker threads share one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import numpy.typing as npt

from ogmem.index.records import Readable

Vector = npt.NDArray[np.float32]


class VectorLRU:
    def __init__(self, capacity: int, *, max_text_chars: int = 4000) -> None:
        self._capacity = capacity
        self._max_text_chars = max_text_chars
        self._entries: OrderedDict[Readable, Vector] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, text: Readable) -> Vector | None:
        with self._lock:
            vector = self._entries.get(text)
            if vector is not None:
                self._entries.move_to_end(text)
            return vector

    def put(self, text: Readable, vector: Vector) -> None:
        """Remember a copy of ``vector`` for ``text``; a text longer than the limit is not
        kept. A copy, because an embedder's vectors are rows of one batch's matrix: a row kept
        as it is would keep the whole matrix alive."""
        chars = len(text) if isinstance(text, str) else len(text.whole)
        if self._capacity <= 0 or chars > self._max_text_chars:
            return
        kept = np.array(vector, dtype=np.float32, copy=True)
        kept.flags.writeable = False  # shared by every caller that gets it
        with self._lock:
            self._entries[text] = kept
            self._entries.move_to_end(text)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
