"""A large sync writes its complete records while the model reads on (index/model_thread.py):
the same records as written at once, written in steps, and a model failing midway loses
nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt
import pytest

from ogmem import Engine, Message, RequestContext
from ogmem.core.models import EventStatus
from ogmem.index import sync as sync_module
from ogmem.index.embedders import HashEmbedder, normalise

CTX = RequestContext("acme", "caroline", session_id="s1")
MEMORIES = "ctx://acme/users/caroline/memories/events"
MESSAGES = [
    Message(
        "user",
        f"Message {i} about topic {i % 17}. It goes on about thing {i % 5} for a while.",
        message_id=f"m{i}",
        name="Caroline" if i % 2 else "Melanie",
    )
    for i in range(300)
]
Vector = npt.NDArray[np.float32]


class _RunByRun(HashEmbedder):
    """Hashes each span's text, handed over RUN texts at a time, shortest first, as the
    MiniLM does; ``log`` says when each run is handed over, ``fail_after`` fails the call
    after that many runs."""

    RUN = 16

    def __init__(self, log: list[str], fail_after: int | None = None) -> None:
        super().__init__(64)
        self.log = log
        self.fail_after = fail_after

    def embed_parts(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> list[Vector]:
        return [self._pooled(text, spans_of) for text, spans_of in zip(texts, spans, strict=True)]

    def embed_parts_by_run(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> Iterator[tuple[list[int], list[Vector]]]:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for number, start in enumerate(range(0, len(order), self.RUN)):
            if self.fail_after is not None and number == self.fail_after:
                raise RuntimeError("the model fell over")
            rows = order[start : start + self.RUN]
            self.log.append("run")
            yield rows, [self._pooled(texts[i], spans[i]) for i in rows]

    def _pooled(self, text: str, spans: Sequence[tuple[int, int]]) -> Vector:
        return normalise(self.embed([text[start:end] for start, end in spans]))


def _remember(engine: Engine, log: list[str]) -> None:
    write = engine.index.replace_many

    def logged(*args: object, **kwargs: object) -> None:
        log.append("write")
        write(*args, **kwargs)  # type: ignore[arg-type]

    engine.index.replace_many = logged  # type: ignore[method-assign]
    engine.ingest(MESSAGES, CTX)
    engine.commit("s1", CTX, wait=True)
    engine.drain()


def _records(engine: Engine) -> dict[tuple[str, int], tuple[str, Vector]]:
    uris = [n.uri for n in engine.tree(MEMORIES, CTX) if n.uri != MEMORIES]
    assert len(uris) == len(MESSAGES)
    found = engine.index.records_of_many("acme", uris)
    return {(u, r.level): (r.text, r.vector) for u, records in found.items() for r in records}


def test_a_large_sync_writes_what_is_complete_while_the_model_reads_on() -> None:
    log: list[str] = []
    with Engine.open(":memory:", embedder=_RunByRun(log), worker=False) as engine:
        _remember(engine, log)
        assert len(_records(engine)) >= 2 * len(MESSAGES)
    runs = [i for i, what in enumerate(log) if what == "run"]
    writes_during = [i for i, what in enumerate(log) if what == "write" and i < runs[-1]]
    assert len(writes_during) >= 1, log  # a step was written before the model's last run
    assert log.count("write") >= 3  # 300 memories in steps of WRITE_STEP, and what is left


def test_records_written_run_by_run_equal_those_written_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    by_run: list[str] = []
    with Engine.open(":memory:", embedder=_RunByRun(by_run), worker=False) as engine:
        _remember(engine, by_run)
        stepwise = _records(engine)
    monkeypatch.setattr(sync_module, "WRITE_STEP", 10**9)  # every sync writes at once
    at_once: list[str] = []
    with Engine.open(":memory:", embedder=_RunByRun(at_once), worker=False) as engine:
        _remember(engine, at_once)
        whole = _records(engine)
    assert at_once.count("write") < by_run.count("write")
    assert stepwise.keys() == whole.keys()
    for key, (text, vector) in whole.items():
        assert stepwise[key][0] == text
        np.testing.assert_allclose(stepwise[key][1], vector, atol=1e-6)


def test_a_model_failing_midway_fails_the_sync_and_leaves_no_thread_behind() -> None:
    log: list[str] = []
    embedder = _RunByRun(log, fail_after=3)
    with Engine.open(":memory:", embedder=embedder, worker=False) as engine:
        engine.ingest(MESSAGES, CTX)
        engine.commit("s1", CTX, wait=True)
        uris = [n.uri for n in engine.tree(MEMORIES, CTX) if n.uri != MEMORIES]
        with pytest.raises(RuntimeError, match="fell over"):
            engine.sync.sync("acme", uris)
        assert not [t for t in threading.enumerate() if t.name == "ogmem-model"]
        # the worker's drain: the batch's sync fails, then each URI is synced alone (a sync
        # that small writes at once) and indexed; no event is lost or dead-lettered
        stats = engine.drain()
        assert stats.retried == 0 and stats.dead_lettered == 0
        assert len(_records(engine)) >= 2 * len(MESSAGES)
        assert engine.outbox_events(CTX, EventStatus.PENDING) == []
        assert engine.outbox_events(CTX, EventStatus.DLQ) == []
