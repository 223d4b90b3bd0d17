"""Sessions end to end: buffer, commit as a job, LLM extraction (scripted), failures, retries."""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ogmem import Engine, Message, RequestContext
from ogmem.core import errors
from ogmem.core.models import ContextType, EventType, SessionStatus
from ogmem.core.ports import LLMResponse, ToolCall
from ogmem.index.embedders import HashEmbedder
from ogmem.llm.scripted import ScriptedLLM

CTX = RequestContext("acme", "caroline", session_id="s1")
START = datetime(2023, 5, 8, 10, 0, tzinfo=UTC)


def _messages(*texts: str, first: int = 1, start: datetime = START) -> list[Message]:
    return [
        Message("user", text, start + timedelta(minutes=i), f"m{first + i}", "Caroline")
        for i, text in enumerate(texts)
    ]


def _engine(
    llm: ScriptedLLM | None = None,
    worker: bool = False,
    store: str = ":memory:",
    keep_messages: bool = True,
) -> Engine:
    return Engine.open(
        store, llm=llm, embedder=HashEmbedder(), worker=worker, keep_messages=keep_messages
    )


MakeEngine = Callable[..., Engine]


@pytest.fixture
def make_engine(engine_url: str) -> MakeEngine:
    """Engines on each backend (in-memory SQLite, PostgreSQL)."""
    return functools.partial(_engine, store=engine_url)


def _memories(engine: Engine, ctx: RequestContext = CTX) -> dict[str, Any]:
    return {
        n.uri.rsplit("/", 2)[-2]: n
        for n in engine.tree(f"ctx://{ctx.account_id}/users/{ctx.user_id}/memories", ctx)
        if n.context_type is ContextType.MEMORY
    }


def _by_message(engine: Engine) -> dict[str, Any]:
    """The raw memories, by the message they came from."""
    tree = engine.tree("ctx://acme/users/caroline/memories", CTX)
    return {
        n.metadata["source_message_ids"][0]: n for n in tree if n.context_type is ContextType.MEMORY
    }


# -- raw mode ---------------------------------------------------------------------------------


def test_ingest_is_idempotent_and_commit_runs_as_a_job(make_engine: MakeEngine) -> None:
    with make_engine() as engine:
        engine.ingest(_messages("I adopted a cat named Miso.", "She is very playful."), CTX)
        state = engine.ingest(_messages("I adopted a cat named Miso."), CTX)  # a retried call
        assert (state.messages, state.status) == (2, SessionStatus.OPEN)
        queued = engine.commit("s1", CTX)
        assert queued.status is SessionStatus.COMMITTING
        assert [e.type for e in engine.outbox_events(CTX)] == [EventType.COMMIT_SESSION]
        engine.drain()
        done = engine.session("s1", CTX)
        assert (done.status, done.written, done.proposed) == (SessionStatus.COMMITTED, 2, 2)
        assert "2 written" in str(done.last_reason)
        hits = engine.search("cat Miso", CTX, include_sessions=False).hits
        node = engine.read(hits[0].uri, CTX)
        assert node.metadata["extraction"] == "raw"
        assert node.metadata["source_message_ids"] == ["m1"]
        assert node.metadata["when"] == "2023-05-08" and node.metadata["who"] == "Caroline"
        archive = engine.read("ctx://acme/users/caroline/sessions/s1", CTX)
        assert archive.abstract.endswith("(2 messages)") and "Miso" in archive.overview
        (part,) = [e.node for e in engine.ls(archive.uri, CTX) if e.node]
        assert "I adopted a cat named Miso." in part.content and "playful" in part.content
        assert part.metadata["source_message_ids"] == ["m1", "m2"]


def test_a_later_commit_gives_its_first_message_the_context_of_the_last_committed(
    make_engine: MakeEngine,
) -> None:
    with make_engine() as engine:
        engine.ingest(_messages("Where did you go in May?"), CTX)
        engine.commit("s1", CTX, wait=True)
        engine.ingest(_messages("To Lisbon, with my sister.", first=2), CTX)
        engine.commit("s1", CTX, wait=True)
        memories = _by_message(engine)
        assert memories["m1"].overview == ""
        assert memories["m2"].overview == (
            "Caroline: Where did you go in May?\nCaroline: To Lisbon, with my sister."
        )
        other = RequestContext("acme", "caroline", session_id="s2")  # context stays per session
        engine.ingest(_messages("Lisbon again next year.", first=3), other)
        engine.commit("s2", other, wait=True)
        assert _by_message(engine)["m3"].overview == ""


def test_after_turn_schedules_a_commit_past_the_threshold(make_engine: MakeEngine) -> None:
    with make_engine() as engine:
        small = engine.after_turn(_messages("Hello there."), CTX)
        assert not small.commit_scheduled and small.added == 1
        big = engine.after_turn(_messages("word " * 2100, first=2), CTX)
        assert big.commit_scheduled and big.session.status is SessionStatus.COMMITTING


def test_sessions_are_private_to_their_user_and_account(make_engine: MakeEngine) -> None:
    with make_engine() as engine:
        engine.ingest(_messages("secret"), CTX)
        for intruder in (RequestContext("acme", "mallory"), RequestContext("evil", "caroline")):
            with pytest.raises(errors.NotFound):
                engine.session("s1", intruder)
            with pytest.raises(errors.NotFound):
                engine.commit("s1", intruder)
            assert engine.list_sessions(intruder) == []
        with pytest.raises(errors.InvalidInput, match="another user"):
            engine.ingest(_messages("hijack"), RequestContext("acme", "mallory", session_id="s1"))


def test_a_turn_is_written_whole_or_not_at_all(
    make_engine: MakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening the session and buffering its messages are one transaction: a turn that
    fails leaves no empty session behind, and the next one starts clean."""

    def failing_append(*_: object, **__: object) -> None:
        raise errors.StoreError("disk gone")

    with make_engine() as engine:
        with monkeypatch.context() as patched:
            patched.setattr(engine.backend.sessions, "append", failing_append)
            with pytest.raises(errors.StoreError, match="disk gone"):
                engine.after_turn(_messages("first"), CTX)
        assert engine.list_sessions(CTX) == []
        done = engine.after_turn(_messages("first"), CTX)
        assert done.session.messages == 1


def test_bad_messages_are_refused_naming_the_field(make_engine: MakeEngine) -> None:
    with make_engine() as engine:
        with pytest.raises(errors.InvalidInput, match="session_id"):
            engine.ingest(_messages("x"), RequestContext("acme", "caroline"))
        with pytest.raises(errors.InvalidInput, match=r"messages\[0\].role"):
            engine.ingest([Message("", "x")], CTX)
        with pytest.raises(errors.InvalidInput, match=r"messages\[1\].content exceeds"):
            engine.ingest([Message("user", "ok"), Message("user", "x" * 300_000)], CTX)
        with pytest.raises(errors.InvalidInput, match="at least one message"):
            engine.after_turn([], CTX)
        assert engine.list_sessions(CTX) == []  # nothing half-written


# -- LLM extraction (scripted) ------------------------------------------------------------------

PROFILE = {
    "abstract": "Caroline is a nurse in Hamburg",
    "content": "Caroline works as a nurse in Hamburg.",
    "source_message_ids": ["m1"],
}
EVENT = {
    "routing_key": "support-group",
    "abstract": "Caroline went to an LGBTQ support group",
    "content": "Caroline went to an LGBTQ support group.",
    "when": "yesterday",
    "source_message_ids": ["m2"],
}
GERMAN = {
    "routing_key": "answer-language",
    "abstract": "Wants answers in German",
    "content": "Caroline wants answers in German.",
    "source_message_ids": ["m3"],
}
ENGLISH = {
    "routing_key": "answer-language",
    "abstract": "Wants answers in English now",
    "content": "Caroline now wants answers in English.",
    "source_message_ids": ["m5"],
}
CASE = {
    "routing_key": "tests-first",
    "abstract": "Run tests before showing code",
    "content": "Problem: code shown untested. Solution: run the tests first.",
    "problem": "untested code",
    "solution": "run the tests first",
    "source_message_ids": ["m4"],
}
TOOL_FOR = {"nurse": ("profile", PROFILE), "support group": ("event", EVENT),
            "German": ("preference", GERMAN), "English": ("preference", ENGLISH),
            "tests": ("case", CASE)}  # fmt: skip


def _tool_response(name: str, arguments: Mapping[str, Any]) -> LLMResponse:
    call = ToolCall(f"remember_{name}", dict(arguments), json.dumps(arguments), "call-1")
    return LLMResponse(tool_calls=(call,))


def scripted_model(messages: Sequence[Mapping[str, Any]]) -> str | LLMResponse:
    """Answers every kind of prompt ogmem sends, by what the prompt asks for."""
    prompt = str(messages[0]["content"])
    if "find the passages" in prompt:
        conversation = prompt.split("## Conversation")[-1]
        texts = re.findall(r"^\[(\d+)\] [^\n]*\n\s+(.*)$", conversation, re.MULTILINE)
        spans = [
            {"start": int(i), "end": int(i), "reason": "fact", "categories": [TOOL_FOR[key][0]]}
            for i, text in texts
            for key in TOOL_FOR
            if key in text
        ]
        return json.dumps({"spans": spans})
    if "remember_* tools" in prompt:
        passage = prompt.split("## The passage")[-1] if "## The passage" in prompt else prompt
        for key, (name, arguments) in TOOL_FOR.items():
            if key in passage:
                return _tool_response(name, arguments)
        return ""
    if "Merge the NEW information" in prompt:
        merged = {"abstract": "Wants answers in English (was German)", "overview": ""}
        return json.dumps({**merged, "content": "Answers in English; earlier German."})
    return json.dumps({"abstract": "summary", "overview": "summary of the talk"})


SESSION_ONE = (
    "I'm Caroline, I work as a nurse in Hamburg.",
    "Yesterday I went to an LGBTQ support group.",
    "Please always answer me in German.",
    "Tip: run the tests before you show me code.",
)


def test_conversation_to_typed_memories_and_a_later_merge(make_engine: MakeEngine) -> None:
    llm = ScriptedLLM(responder=scripted_model)
    with make_engine(llm, keep_messages=False) as engine:  # the model's memories alone
        engine.ingest(_messages(*SESSION_ONE), CTX)
        state = engine.commit("s1", CTX, wait=True)
        assert state.status is SessionStatus.COMMITTED, state.last_error
        memories = _memories(engine)
        assert set(memories) == {"profile", "events", "preferences"}
        assert memories["profile"].metadata["source_message_ids"] == ["m1"]
        assert memories["events"].metadata["when"] == "2023-05-07"  # "yesterday" of 8 May
        assert memories["preferences"].metadata["extraction"] == "llm"
        assert "agent-scoped and the request has no agent_id" in str(state.last_reason)
        assert state.llm_tokens > 0 and state.written == 3 and state.skipped == 1

        later = RequestContext("acme", "caroline", session_id="s2")
        engine.ingest(_messages("Actually, answer me in English from now on.", first=5), later)
        engine.commit("s2", later, wait=True)
        preference = _memories(engine)["preferences"]
        assert preference.version == 2
        assert preference.abstract == "Wants answers in English (was German)"
        assert preference.metadata["source_message_ids"] == ["m3", "m5"]


MALFORMED: list[Any] = [
    '{"spans": [{"start": 0, "end"',
    '{"spans": "all of them"}',
    '{"spans": [{"start": "zero", "end": []}]}',
    "[]",
    "",
    "I am sorry, I cannot help with that.",
    "x" * 1_000_000,
    '{"spans": [{"start": 99, "end": 120, "categories": ["event"]}]}',
    errors.LLMTimeout("no answer in 60s"),
    errors.LLMUnavailable("connection refused"),
    RuntimeError("the SDK crashed"),
    LLMResponse(tool_calls=(ToolCall("remember_nonsense", {"a": 1}, "{}", "c"),)),
    LLMResponse(tool_calls=(ToolCall("remember_event", None, "{oops", "c"),)),
    LLMResponse(tool_calls=(ToolCall("remember_event", {"abstract": 5}, "{}", "c"),)),
]


def _malformed(index: int) -> Any:
    """100 broken answers: the table above, varied (sizes, positions, exception texts)."""
    base = MALFORMED[index % len(MALFORMED)]
    if isinstance(base, str) and index >= len(MALFORMED):
        return base[: max(1, len(base) - index)] if base else " " * index
    return base


def _garbage_model(index: int, mended: threading.Event) -> ScriptedLLM:
    """A model answering ``MALFORMED[index]`` until ``mended`` is set, then as it should."""
    bad = _malformed(index)

    def respond(messages: Sequence[Mapping[str, Any]]) -> Any:
        if mended.is_set():
            return scripted_model(messages)
        prompt = str(messages[0]["content"])
        structure = "remember_* tools" in prompt
        if isinstance(bad, LLMResponse):  # a structuring failure: the spans are fine
            return (
                bad
                if structure
                else json.dumps({"spans": [{"start": 0, "end": 0, "categories": ["event"]}]})
            )
        return bad

    return ScriptedLLM(responder=respond)


def test_a_hundred_malformed_answers_fail_cleanly_and_a_retry_succeeds() -> None:
    for index in range(100):
        session = f"bad-{index}"
        ctx = RequestContext("acme", "caroline", session_id=session)
        mended = threading.Event()
        with _engine(_garbage_model(index, mended)) as engine:
            engine.ingest(_messages("Yesterday I went to an LGBTQ support group."), ctx)
            with pytest.raises(errors.CommitFailed):
                engine.commit(session, ctx, wait=True)
            state = engine.session(session, ctx)  # failed, and a retry job is queued
            assert state.status is SessionStatus.COMMITTING, (index, state.last_reason)
            assert state.last_error and state.attempts == 1
            assert _memories(engine, ctx) == {}  # no partial node
            assert state.uncommitted_tokens > 0  # the message is kept for the retry
            mended.set()
            retried = engine.commit(session, ctx, wait=True)
            assert retried.status is SessionStatus.COMMITTED and retried.last_error is None
            assert set(_memories(engine, ctx)) == {"events"}


def test_a_failing_job_retries_with_backoff_then_goes_to_the_dlq(make_engine: MakeEngine) -> None:
    llm = ScriptedLLM(responder=lambda _: '{"broken')
    with make_engine(llm) as engine:
        engine.ingest(_messages("Yesterday I went to an LGBTQ support group."), CTX)
        engine.commit("s1", CTX)
        engine.worker._max_attempts = 2
        engine.drain()
        assert engine.session("s1", CTX).status is SessionStatus.FAILED
        event = engine.outbox_events(CTX)[0]
        assert (event.status.value, event.attempts) == ("PENDING", 1)
        engine.worker._clock = lambda: datetime.now(UTC) + timedelta(hours=1)  # type: ignore[method-assign]
        engine.drain()
        dead = engine.outbox_events(CTX)[0]
        assert dead.status.value == "DLQ" and "ExtractionError" in str(dead.last_error)
        state = engine.session("s1", CTX)
        assert state.status is SessionStatus.FAILED and state.attempts == 2
        assert "ExtractionError" in str(state.last_error)


def test_after_turn_never_waits_for_the_llm(make_engine: MakeEngine) -> None:
    release = threading.Event()
    entered = threading.Event()

    def slow_model(messages: Sequence[Mapping[str, Any]]) -> Any:
        entered.set()
        release.wait(30)
        return scripted_model(messages)

    with make_engine(ScriptedLLM(responder=slow_model), worker=True) as engine:
        first = engine.after_turn(_messages("word " * 2100), CTX)
        assert first.commit_scheduled
        assert entered.wait(30)  # the worker is now inside the (blocked) LLM call...
        second = engine.after_turn(
            _messages("Yesterday I went to an LGBTQ support group.", first=2), CTX
        )
        assert second.added == 1  # ...and the agent's next turn was still taken
        assert second.session.status is SessionStatus.COMMITTING
        release.set()


def test_a_commit_that_waits_wakes_the_background_worker_for_what_it_wrote(tmp_path: Path) -> None:
    with Engine.open(tmp_path / "w.sqlite", embedder=HashEmbedder(), worker=False) as engine:
        engine.worker.poll_interval = 600  # asleep for ten minutes unless woken
        engine.start_worker()
        ctx = RequestContext("acme", "ann", session_id="s-wake")
        engine.ingest(_messages("I moved to Porto in May."), ctx)
        engine.commit("s-wake", ctx, wait=True)
        deadline = time.monotonic() + 30
        while not (found := engine.search("Porto", ctx).hits) and time.monotonic() < deadline:
            time.sleep(0.01)
    assert found and "Porto" in found[0].abstract
