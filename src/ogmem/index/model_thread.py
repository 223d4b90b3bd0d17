"""ModelThread: an embedding call run in a thread of its own, its vectors handed over one
model run at a time, so that the caller writes what is complete while the model reads on.

The model's runs let go of the GIL, so the index's writes (SQLite and PostgreSQL drivers let
go of it too while a statement runs) overlap them instead of following them. The caller's
thread keeps every other piece of state: this thread only computes. Leaving the ``with``
block early (the caller failed) stops the thread after its current run and waits for it; a
failure of the model is raised in the caller's thread, where the runs are read.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from types import TracebackType

import numpy as np
import numpy.typing as npt

from ogmem.core.ports import RunByRunPartEmbedder

Vector = npt.NDArray[np.float32]
Run = tuple[list[int], list[Vector]]  # a run's text indexes and their spans' vectors


class _Done:
    """Put after the last run (or after a failure): the reader stops there."""


class ModelThread:
    def __init__(
        self,
        embedder: RunByRunPartEmbedder,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
    ) -> None:
        self._embedder = embedder
        self._texts = texts
        self._spans = spans
        # unbounded, yet never more than the call's own vectors: ~1.5 KB a span
        self._runs: queue.SimpleQueue[Run | BaseException | _Done] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._embed, name="ogmem-model", daemon=True)

    def __enter__(self) -> ModelThread:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def __iter__(self) -> Iterator[Run]:
        """The runs, in the order the model finishes them."""
        while True:
            item = self._runs.get()
            if isinstance(item, _Done):
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _embed(self) -> None:
        try:
            for run in self._embedder.embed_parts_by_run(self._texts, self._spans):
                if self._stop.is_set():
                    break
                self._runs.put(run)
        except BaseException as exc:  # handed to the reader's thread, raised there
            self._runs.put(exc)
        finally:
            self._runs.put(_Done())
