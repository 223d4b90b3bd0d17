"""One commit of a session at a time: a second one (commit?wait=true, or the worker's job)
waits for the running one instead of extracting the same messages again."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import pytest

from ogmem import Engine, Message, RequestContext
from ogmem.core.models import EventStatus, SessionStatus
from ogmem.extraction.base import ExtractionResult
from ogmem.extraction.raw import RawExtractor
from ogmem.index.embedders import HashEmbedder

CTX = RequestContext("acme", "alice", session_id="s1")
START = datetime(2023, 5, 8, 10, 0, tzinfo=UTC)


class GatedExtractor(RawExtractor):
    """Raw extraction that holds its first call until released (a slow LLM)."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.calls = 0

    def extract(
        self, messages: Sequence[Message], ctx: RequestContext, *, before: Message | None = None
    ) -> ExtractionResult:
        self.calls += 1
        self.entered.set()
        assert self.release.wait(20)
        return super().extract(messages, ctx, before=before)


@pytest.fixture
def gated(engine_url: str) -> Iterator[tuple[Engine, GatedExtractor]]:
    with Engine.open(engine_url, embedder=HashEmbedder(), worker=False) as engine:
        extractor = GatedExtractor()
        engine.committer._extractor = extractor
        messages = [Message("user", f"Fact number {n}.", START, f"m{n}") for n in range(5)]
        engine.ingest(messages, CTX)
        yield engine, extractor


def test_a_second_wait_commit_waits_for_the_running_one(
    gated: tuple[Engine, GatedExtractor],
) -> None:
    engine, extractor = gated
    first = threading.Thread(target=engine.commit, args=("s1", CTX), kwargs={"wait": True})
    first.start()
    assert extractor.entered.wait(10)
    assert engine.session("s1", CTX).status is SessionStatus.COMMITTING
    second: list[SessionStatus] = []
    waiting = threading.Thread(
        target=lambda: second.append(engine.commit("s1", CTX, wait=True).status)
    )
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive()  # it waits; it does not extract the same messages again
    extractor.release.set()
    first.join(10)
    waiting.join(10)
    state = engine.session("s1", CTX)
    assert second == [SessionStatus.COMMITTED]
    assert (state.proposed, state.written, state.skipped) == (5, 5, 0)
    assert extractor.calls == 1


def test_the_job_of_a_session_being_committed_waits_without_an_attempt(
    gated: tuple[Engine, GatedExtractor],
) -> None:
    engine, extractor = gated
    first = threading.Thread(target=engine.commit, args=("s1", CTX), kwargs={"wait": True})
    first.start()
    assert extractor.entered.wait(10)
    engine.commit("s1", CTX)  # a job for the worker, while the wait=true commit runs
    stats = engine.worker.run_once(eager=True)
    (job,) = [e for e in engine.outbox_events(CTX) if e.type.value == "COMMIT_SESSION"]
    assert stats.deferred == 1 and job.status is EventStatus.PENDING and job.attempts == 0
    assert "being committed by another worker" in str(job.last_error)
    extractor.release.set()
    first.join(10)
    assert engine.session("s1", CTX).written == 5 and extractor.calls == 1
