from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ogmem.core import errors
from ogmem.core.models import CandidateMemory, Message, RequestContext
from ogmem.core.ports import ChatMessage, LLMResponse, TokenUsage, ToolCall
from ogmem.extraction import dedupe
from ogmem.extraction.base import ExtractionResult
from ogmem.extraction.llm_extractor import LLMExtractor
from ogmem.llm.scripted import ScriptedLLM, Step
from ogmem.schemas.registry import SchemaRegistry

REGISTRY = SchemaRegistry.load()
CTX = RequestContext(account_id="acme", user_id="caroline", agent_id="coder", session_id="s1")
MB = 1_000_000


def at(hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2023, 5, 8, hour, minute, tzinfo=dt.UTC)  # a Monday


TRANSCRIPT = [
    Message("user", "Hi! I'm Caroline, I work as a nurse in Hamburg.", at(10, 0), "m1", "Caroline"),
    Message("assistant", "Nice to meet you, Caroline!", at(10, 1), "m2", "Mel"),
    Message(
        "user",
        "Yesterday I went to an LGBTQ support group. It was really powerful.",
        at(10, 2),
        "m3",
        "Caroline",
    ),
    Message(
        "user", "Also, please always answer me in German from now on.", at(10, 3), "m4", "Caroline"
    ),
    Message(
        "user", "And always run the tests before you show me code.", at(10, 4), "m5", "Caroline"
    ),
    Message("assistant", "Natürlich, mache ich.", at(10, 5), "m6", "Mel"),
]


def spans_answer(*spans: tuple[int, int, list[str]]) -> str:
    entries = [{"start": s, "end": e, "reason": "worth it", "categories": c} for s, e, c in spans]
    return json.dumps({"spans": entries})


def tool_calls(*calls: tuple[str, Any], tokens: int = 0) -> LLMResponse:
    made = tuple(
        ToolCall(
            name=name,
            arguments=arguments,
            raw_arguments=json.dumps(arguments) if isinstance(arguments, dict) else "",
        )
        for name, arguments in calls
    )
    return LLMResponse(tool_calls=made, usage=TokenUsage(tokens, 0))


PROFILE: dict[str, Any] = {
    "abstract": "Caroline is a nurse in Hamburg",
    "content": "Caroline works as a nurse and lives in Hamburg.",
    "facts": ["Works as a nurse", "Lives in Hamburg"],
    "who": "Caroline",
    "evidence_quote": "I work as a nurse in Hamburg",
    "source_message_ids": ["m1"],
    "confidence": 0.95,
}
EVENT: dict[str, Any] = {
    "routing_key": "LGBTQ support group",
    "abstract": "Caroline went to an LGBTQ support group",
    "content": "Caroline went to an LGBTQ support group and found it really powerful.",
    "when": "yesterday",
    "who": "Caroline",
    "evidence_quote": "Yesterday I went to an LGBTQ support group.",
    "source_message_ids": ["m3"],
    "confidence": 0.9,
}
PREFERENCE: dict[str, Any] = {
    "routing_key": "answer-language",
    "abstract": "Caroline wants answers in German",
    "content": "Caroline asked to be answered in German from now on.",
    "topic": "answer language",
    "stance": "prefers",
    "who": "Caroline",
    "source_message_ids": ["m4"],
    "confidence": 0.9,
}
PATTERN: dict[str, Any] = {
    "routing_key": "test-before-showing-code",
    "abstract": "Run the tests before showing Caroline code",
    "content": "Caroline wants the tests run before any code is shown to her.",
    "trigger": "before showing code to Caroline",
    "source_message_ids": ["m5"],
}


def happy_script() -> list[Step]:
    return [
        spans_answer((0, 1, ["profile"]), (2, 2, ["event"]), (3, 4, ["preference", "pattern"])),
        tool_calls(("remember_profile", PROFILE)),
        tool_calls(("remember_event", EVENT)),
        tool_calls(("remember_preference", PREFERENCE), ("remember_pattern", PATTERN)),
    ]


def run(script: list[Step], min_confidence: float = 0.5) -> tuple[ExtractionResult, ScriptedLLM]:
    llm = ScriptedLLM(script)
    result = LLMExtractor(llm, REGISTRY, min_confidence=min_confidence).extract(TRANSCRIPT, CTX)
    for candidate in result.candidates:
        REGISTRY.get(candidate.category).validate_candidate(candidate)
    return result, llm


# The whole flow ---------------------------------------------------------------------------


def test_transcript_gives_profile_event_preference_and_pattern() -> None:
    result, llm = run(happy_script())

    by_category = {candidate.category: candidate for candidate in result.candidates}
    assert list(by_category) == ["profile", "event", "preference", "pattern"]
    assert all(candidate.origin == "llm" for candidate in result.candidates)
    assert {c.category: c.owner_scope for c in result.candidates} == {
        "profile": "user",
        "event": "user",
        "preference": "user",
        "pattern": "agent",
    }
    assert by_category["event"].when == "2023-05-07"
    assert by_category["event"].routing_key == "lgbtq-support-group"
    assert by_category["event"].who == "Caroline"
    assert by_category["event"].source_message_ids == ("m3",)
    assert by_category["profile"].attributes == {"facts": ["Works as a nurse", "Lives in Hamburg"]}
    assert by_category["profile"].routing_key == ""
    assert by_category["preference"].attributes == {"topic": "answer language", "stance": "prefers"}
    assert by_category["pattern"].confidence == 1.0  # not given: the candidate default
    assert result.proposed == 4
    assert result.dropped == []
    assert len(llm.calls) == 4


def test_prompts_show_messages_times_speakers_and_tools() -> None:
    _, llm = run(happy_script())

    span_call, *structure_calls = llm.calls
    span_prompt = span_call.messages[-1]["content"]
    for index, message in enumerate(TRANSCRIPT):
        assert message.content in span_prompt
        assert f"[{index}] 2023-05-08 (Monday) {message.created_at:%H:%M} UTC" in span_prompt
    assert "Caroline (user)" in span_prompt and "Mel (assistant)" in span_prompt
    assert span_call.json_schema is not None and span_call.tools is None
    assert all(f"- {name} (" in span_prompt for name in REGISTRY.names())

    event_call = structure_calls[1]
    event_prompt = event_call.messages[-1]["content"]
    assert "[id m3] 2023-05-08 (Monday) 10:02 UTC | Caroline (user):" in event_prompt
    assert TRANSCRIPT[2].content in event_prompt
    assert TRANSCRIPT[0].content not in event_prompt  # only the span's messages
    assert "2023-05-08 (Monday) 10:05 UTC" in event_prompt  # the session's reference time
    assert '"caroline"' in event_prompt and '"coder"' in event_prompt
    assert event_call.tools is not None
    assert list(event_call.tools) == REGISTRY.tool_definitions(["event"])
    last_call = structure_calls[2]
    assert last_call.tools is not None
    names = [tool["function"]["name"] for tool in last_call.tools]
    assert names == ["remember_preference", "remember_pattern"]


def test_the_message_before_the_window_is_shown_as_context_only() -> None:
    before = Message("assistant", "Which city do you live in now?", TRANSCRIPT[0].created_at,
                     "m0", "Mel")  # fmt: skip
    llm = ScriptedLLM(happy_script())

    LLMExtractor(llm, REGISTRY).extract(TRANSCRIPT, CTX, before=before)

    span_prompt = llm.calls[0].messages[-1]["content"]
    assert "[before] 2023-05-08 (Monday)" in span_prompt
    assert before.content in span_prompt
    assert span_prompt.index(before.content) < span_prompt.index(TRANSCRIPT[0].content)
    assert "[0] 2023-05-08" in span_prompt  # indices still start at the window's first message
    assert "never put it in a span" in span_prompt


def test_tokens_are_summed_over_every_call() -> None:
    script: list[Step] = [
        LLMResponse(text=spans_answer((2, 2, ["event"])), usage=TokenUsage(100, 20)),
        tool_calls(("remember_event", EVENT), tokens=50),
    ]
    result, _ = run(script)
    assert result.llm_tokens == 170


@pytest.mark.parametrize(
    "options", [{"min_confidence": 1.5}, {"min_confidence": -1}, {"max_spans": 0}]
)
def test_invalid_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(errors.ConfigurationError):
        LLMExtractor(ScriptedLLM(), REGISTRY, **options)


def test_no_messages_means_no_call() -> None:
    llm = ScriptedLLM()
    result = LLMExtractor(llm, REGISTRY).extract([], CTX)
    assert result == ExtractionResult(candidates=[])
    assert llm.calls == []


@pytest.mark.parametrize("answer", ['{"spans": []}', 'Here: ```json\n{"spans": []}\n```'])
def test_small_talk_gives_an_empty_result(answer: str) -> None:
    result, llm = run([answer])
    assert result.candidates == [] and result.dropped == [] and result.proposed == 0
    assert len(llm.calls) == 1


@pytest.mark.parametrize("answer", [LLMResponse(), LLMResponse(text="Nothing durable here.")])
def test_a_span_without_tool_calls_is_nothing_to_remember(answer: LLMResponse) -> None:
    result, llm = run([spans_answer((0, 0, ["profile"])), answer])
    assert result.candidates == [] and result.dropped == []
    assert len(llm.calls) == 2


def test_tool_calls_written_as_text_are_used() -> None:
    text = json.dumps(
        {"tool_calls": [{"function": {"name": "remember_event", "arguments": EVENT}}]}
    )
    result, _ = run([spans_answer((2, 2, ["event"])), LLMResponse(text=text)])
    assert [c.category for c in result.candidates] == ["event"]


# Provenance, dates, speakers --------------------------------------------------------------


def structure_one(arguments: dict[str, Any], tool: str = "remember_event") -> ExtractionResult:
    result, _ = run([spans_answer((2, 3, ["event"])), tool_calls((tool, arguments))])
    return result


def test_source_ids_default_to_the_span_and_invented_ones_are_removed() -> None:
    given_none = structure_one({**EVENT, "source_message_ids": []})
    invented = structure_one({**EVENT, "source_message_ids": ["m99", "m4", "m4"]})
    only_invented = structure_one({**EVENT, "source_message_ids": ["m1", "x"]})
    a_string = structure_one({**EVENT, "source_message_ids": "m3"})

    assert given_none.candidates[0].source_message_ids == ("m3", "m4")
    assert invented.candidates[0].source_message_ids == ("m4",)
    assert only_invented.candidates[0].source_message_ids == ("m3", "m4")  # m1 is outside
    assert a_string.candidates[0].source_message_ids == ("m3",)


def test_when_is_resolved_against_the_message_it_was_said_in() -> None:
    saturday = dt.datetime(2023, 5, 20, 9, 0, tzinfo=dt.UTC)
    late = [*TRANSCRIPT[:3], Message("user", "Last Friday I flew to Lisbon.", saturday, "m4")]
    llm = ScriptedLLM(
        [
            spans_answer((2, 3, ["event"])),
            tool_calls(
                ("remember_event", {**EVENT, "when": "last Friday", "source_message_ids": ["m4"]})
            ),
        ]
    )
    result = LLMExtractor(llm, REGISTRY).extract(late, CTX)
    assert result.candidates[0].when == "2023-05-19"  # m4 was sent on Saturday 20 May


def test_who_as_a_list_becomes_text() -> None:
    result = structure_one({**EVENT, "who": ["Caroline", "Melanie"]})
    assert result.candidates[0].who == "Caroline, Melanie"


@pytest.mark.parametrize(
    ("quote", "kept"),
    [
        ("Yesterday I went to an LGBTQ support group.", True),
        ('"yesterday I went to an  LGBTQ support group"', True),
        ("Yesterday I went ... really powerful", True),
        ("I love support groups", False),
    ],
)
def test_evidence_quote_must_be_verbatim(quote: str, kept: bool) -> None:
    candidate = structure_one({**EVENT, "evidence_quote": quote}).candidates[0]
    assert (candidate.evidence_quote is not None) is kept


# Malformed answers ------------------------------------------------------------------------

GOOD_SPAN = spans_answer((2, 3, ["preference"]))


@dataclass(frozen=True)
class Case:
    id: str
    script: list[Step]
    raises: bool = False
    calls: int = 2
    reason: str = ""  # a substring of a Dropped reason (or of the error)
    candidates: int = 0
    cause: type[BaseException] | None = None


def phase2(*calls: tuple[str, Any], repair: Step | None = None) -> list[Step]:
    """A good span answer, then one structuring answer (and the repair answer, if any)."""
    script: list[Step] = [GOOD_SPAN, tool_calls(*calls)]
    return script if repair is None else [*script, repair]


def pref(**changes: Any) -> tuple[str, dict[str, Any]]:
    arguments = {**PREFERENCE, **changes}
    return "remember_preference", {k: v for k, v in arguments.items() if v is not None}


def invalid(case_id: str, *calls: tuple[str, Any], reason: str) -> Case:
    """All calls invalid: one repair round that answers the same, then Dropped."""
    return Case(case_id, phase2(*calls, repair=tool_calls(*calls)), calls=3, reason=reason)


TRUNCATED = '{"spans": [{"start": 2, "end": 3, "categories": ["pref'
MALFORMED = [
    # Phase 1: unusable JSON, twice -> ExtractionError after exactly one repair.
    Case("truncated JSON", [TRUNCATED, TRUNCATED], raises=True, reason="invalid JSON"),
    Case("empty answer", ["", ""], raises=True, reason="phase 1"),
    Case("prose", ["Nothing here.", "Still nothing."], raises=True, reason="no object"),
    Case("array", ["[1, 2]", "[1, 2]"], raises=True, reason="an array"),
    Case("string JSON", ['"spans"', '"spans"'], raises=True, reason="a string"),
    Case("spans missing", ['{"result": []}', '{"result": []}'], raises=True, reason="missing"),
    Case("spans null", ['{"spans": null}'] * 2, raises=True, reason="missing"),
    Case("spans a string", ['{"spans": "none"}'] * 2, raises=True, reason="a str"),
    Case("spans an object", ['{"spans": {"start": 1}}'] * 2, raises=True, reason="a dict"),
    Case("1 MB of garbage", ["x" * MB] * 2, raises=True, reason="phase 1"),
    Case("1 MB truncated", ['{"spans": [{"reason": "' + "x" * MB] * 2, raises=True),
    Case("deep nesting", ["[" * 100_000] * 2, raises=True, reason="phase 1"),
    # Phase 1: unusable spans, twice -> Dropped after one repair.
    Case("span out of range", [spans_answer((7, 9, ["event"]))] * 2, reason="outside the window"),
    Case("negative start", [spans_answer((-1, 2, ["event"]))] * 2, reason="outside the window"),
    Case("start after end", [spans_answer((3, 1, ["event"]))] * 2, reason="is after end"),
    Case("unknown category", [spans_answer((2, 3, ["hobby"]))] * 2, reason="unknown memory"),
    Case("no category", [spans_answer((2, 3, []))] * 2, reason="no known memory category"),
    Case("span not an object", ['{"spans": ["2-3"]}'] * 2, reason="is not an object"),
    Case("index not a number", ['{"spans": [{"start": "x", "end": 2}]}'] * 2, reason="indices"),
    Case("index a boolean", ['{"spans": [{"start": true, "end": 2}]}'] * 2, reason="indices"),
    Case(
        "categories a number",
        ['{"spans": [{"start": 2, "end": 3, "categories": 5}]}'] * 2,
        reason="must be a list",
    ),
    Case(
        "one bad category among good ones",
        [spans_answer((2, 3, ["hobby", "preference"])), tool_calls(pref())],
        reason="unknown memory",
        candidates=1,
    ),
    # LLM failures -> ExtractionError with the cause chained.
    Case("phase 1 timeout", [errors.LLMTimeout()], raises=True, calls=1, cause=errors.LLMTimeout),
    Case(
        "phase 1 unavailable",
        [errors.LLMUnavailable()],
        raises=True,
        calls=1,
        cause=errors.LLMUnavailable,
    ),
    Case("phase 1 crash", [RuntimeError("boom")], raises=True, calls=1, cause=RuntimeError),
    Case(
        "phase 1 response error",
        [errors.LLMResponseError("bad body")],
        raises=True,
        calls=1,
        cause=errors.LLMResponseError,
    ),
    Case(
        "phase 1 repair times out",
        [TRUNCATED, errors.LLMTimeout()],
        raises=True,
        cause=errors.LLMTimeout,
    ),
    Case("phase 2 timeout", [GOOD_SPAN, errors.LLMTimeout()], raises=True, cause=errors.LLMTimeout),
    Case("phase 2 crash", [GOOD_SPAN, ValueError("x" * MB)], raises=True, cause=ValueError),
    Case(
        "phase 2 repair unavailable",
        phase2(("remember_hobby", {}), repair=errors.LLMUnavailable()),
        raises=True,
        calls=3,
        cause=errors.LLMUnavailable,
    ),
    # Phase 2: every call invalid, twice -> Dropped after one repair.
    invalid("unknown tool", ("remember_hobby", PREFERENCE), reason="unknown memory category"),
    invalid("not a memory tool", ("save_memory", PREFERENCE), reason="unknown memory tool"),
    invalid("1 MB tool name", ("r" * MB, PREFERENCE), reason="unknown memory tool"),
    invalid("invalid JSON arguments", ("remember_preference", None), reason="not valid JSON"),
    invalid("arguments a list", ("remember_preference", ["a"]), reason="must be a JSON object"),
    invalid("arguments a string", ("remember_preference", "x"), reason="must be a JSON object"),
    invalid("non-string keys", ("remember_preference", {1: "x"}), reason="must be a JSON object"),
    invalid("abstract missing", pref(abstract=None), reason="'abstract' is required"),
    invalid("abstract blank", pref(abstract="   "), reason="'abstract' is required"),
    invalid("content missing", pref(content=None), reason="'content' is required"),
    invalid("routing key missing", pref(routing_key=None), reason="'routing_key' is required"),
    invalid("1 MB abstract", pref(abstract="x" * MB), reason="longer than 300"),
    invalid("1 MB content", pref(content="x" * MB), reason="longer than 20000"),
    invalid("overview a list", pref(overview=["x"] * 1000), reason="must be a string"),
    invalid("abstract a number", pref(abstract=42), reason="must be a string"),
    invalid("routing key a number", pref(routing_key=7), reason="must be a string"),
    invalid("who a number", pref(who=5), reason="must be a string"),
    invalid("when a number", pref(when=20230508), reason="must be a string"),
    invalid("confidence above 1", pref(confidence=1.5), reason="at most 1"),
    invalid("confidence below 0", pref(confidence=-0.1), reason="at least 0"),
    invalid("confidence a word", pref(confidence="high"), reason="must be a number"),
    invalid("confidence a boolean", pref(confidence=True), reason="must be a number"),
    invalid("stance not a choice", pref(stance="adores"), reason="must be one of"),
    invalid("unknown field", pref(mood="happy"), reason="is not a field"),
    invalid("event without when", ("remember_event", {**EVENT, "when": None}), reason="'when'"),
    invalid(
        "event with vague when",
        ("remember_event", {**EVENT, "when": "at some point"}),
        reason="absolute ISO",
    ),
    invalid(
        "entity without kind",
        ("remember_entity", {"routing_key": "x", "abstract": "x", "content": "x"}),
        reason="'kind' is required",
    ),
    invalid(
        "facts a string",
        ("remember_profile", {**PROFILE, "facts": "a nurse"}),
        reason="list of strings",
    ),
    Case(
        "invalid JSON arguments of 1 MB",
        [
            GOOD_SPAN,
            LLMResponse(tool_calls=(ToolCall("remember_preference", None, '{"a": "' + "x" * MB),)),
            LLMResponse(),
        ],
        calls=3,
        reason="not valid JSON",
    ),
    Case(
        "the repair answer is empty",
        phase2(pref(abstract=None), repair=LLMResponse()),
        calls=3,
        reason="(a repair was requested)",
    ),
    Case(
        "one invalid call among valid ones: no repair",
        phase2(pref(), ("remember_hobby", {})),
        reason="unknown memory category",
        candidates=1,
    ),
]


@pytest.mark.parametrize("case", MALFORMED, ids=[case.id for case in MALFORMED])
def test_malformed_answers_are_dropped_or_raise_extraction_error(case: Case) -> None:
    llm = ScriptedLLM(case.script)
    extractor = LLMExtractor(llm, REGISTRY)

    if case.raises:
        with pytest.raises(errors.ExtractionError) as raised:
            extractor.extract(TRANSCRIPT, CTX)
        message = str(raised.value)
        assert "phase 1" in message or "phase 2" in message
        assert case.reason in message
        assert len(message) < 1000
        if case.cause is not None:
            assert isinstance(raised.value.__cause__, case.cause)
    else:
        result = extractor.extract(TRANSCRIPT, CTX)
        assert len(result.candidates) == case.candidates
        for candidate in result.candidates:
            REGISTRY.get(candidate.category).validate_candidate(candidate)
        assert result.dropped, "nothing may be dropped silently"
        assert any(case.reason in entry.reason for entry in result.dropped)
        assert all(len(e.reason) < 1000 and len(e.what) < 200 for e in result.dropped)
    assert len(llm.calls) == case.calls
    assert llm.remaining == 0


def test_there_are_many_malformed_cases() -> None:
    assert len({case.id for case in MALFORMED}) == len(MALFORMED) >= 30


# Repairs ----------------------------------------------------------------------------------


def test_a_repaired_span_answer_is_used() -> None:
    result, llm = run([TRUNCATED, GOOD_SPAN, tool_calls(pref())])

    assert [c.category for c in result.candidates] == ["preference"]
    repair = llm.calls[1].messages
    assert [m["role"] for m in repair] == ["user", "assistant", "user"]
    assert repair[0] == llm.calls[0].messages[0]
    assert repair[1]["content"] == TRUNCATED
    assert "invalid JSON" in repair[2]["content"]
    assert TRUNCATED in repair[2]["content"]
    assert '{"spans": [{"start": 0' in repair[2]["content"]  # the expected shape
    assert llm.calls[1].json_schema == llm.calls[0].json_schema


def test_out_of_range_spans_are_repaired_once() -> None:
    # Models often count from 1; the repair tells them the valid range.
    result, llm = run([spans_answer((5, 6, ["preference"])), GOOD_SPAN, tool_calls(pref())])

    assert len(result.candidates) == 1
    assert "from 0 to 5" in llm.calls[1].messages[-1]["content"]
    assert [d.reason for d in result.dropped] == [
        "messages 5-6 are outside the window 0-5 (a repair was requested)"
    ]


def test_a_huge_span_reason_is_clipped_in_the_structuring_prompt() -> None:
    span = {"start": 2, "end": 3, "reason": "x" * MB, "categories": ["preference"]}
    result, llm = run([json.dumps({"spans": [span]}), tool_calls(pref())])
    assert len(result.candidates) == 1
    assert len(llm.calls[1].messages[0]["content"]) < 20_000


def test_repair_quotes_at_most_a_bounded_part_of_a_huge_answer() -> None:
    with pytest.raises(errors.ExtractionError):
        run(["y" * MB, "y" * MB])
    llm = ScriptedLLM(["y" * MB, GOOD_SPAN, tool_calls(pref())])
    LLMExtractor(llm, REGISTRY).extract(TRANSCRIPT, CTX)
    assert all(len(m["content"]) < 20_000 for m in llm.calls[1].messages)


def test_all_invalid_tool_calls_get_one_repair_with_the_errors() -> None:
    result, llm = run(phase2(pref(abstract=None), repair=tool_calls(pref())))

    assert [c.routing_key for c in result.candidates] == ["answer-language"]
    assert result.proposed == 2  # the invalid call and the repaired one
    assert [(d.what, d.reason) for d in result.dropped] == [
        (
            "preference/answer-language",
            "preference: field 'abstract' is required (a repair was requested)",
        )
    ]
    repair = llm.calls[2]
    assert repair.tools == llm.calls[1].tools
    assert [m["role"] for m in repair.messages] == ["user", "assistant", "user"]
    assert '{"name": "remember_preference", "arguments": {' in repair.messages[1]["content"]
    assert "'abstract' is required" in repair.messages[2]["content"]
    assert (
        "remember_preference (required: routing_key, abstract, content)"
        in (repair.messages[2]["content"])
    )


# Confidence and duplicates ----------------------------------------------------------------


def test_candidates_below_min_confidence_are_dropped() -> None:
    script = phase2(pref(confidence=0.69), pref(routing_key="coffee", confidence=0.7))
    result, _ = run(script, min_confidence=0.7)

    assert [c.routing_key for c in result.candidates] == ["coffee"]
    assert [(d.what, d.reason) for d in result.dropped] == [
        ("preference/answer-language", "confidence 0.69 is below 0.7")
    ]


@pytest.mark.parametrize("empty", [None, "", [], {}])
def test_a_confidence_left_empty_is_the_default(empty: object) -> None:
    """Found by the property test below (a model answered "confidence": []): empty means not
    given, as the schema reads it, so the memory is kept at confidence 1, not a TypeError."""
    result, _ = run(phase2(pref(confidence=empty)), min_confidence=0.7)

    assert [(c.routing_key, c.confidence) for c in result.candidates] == [("answer-language", 1.0)]


def test_duplicates_across_spans_keep_the_most_confident() -> None:
    longer = PREFERENCE["content"] + " She means every conversation."
    script: list[Step] = [
        spans_answer((2, 3, ["preference"]), (3, 3, ["preference"])),
        tool_calls(pref(confidence=0.6)),
        tool_calls(pref(confidence=0.9, content=longer)),
    ]
    result, _ = run(script)

    assert [(c.confidence, c.content) for c in result.candidates] == [(0.9, longer)]
    assert len(result.dropped) == 1
    assert result.dropped[0].what == "preference/answer-language"
    assert "duplicate" in result.dropped[0].reason


def make(
    content: str, key: str = "editor", confidence: float = 1.0, category: str = "preference"
) -> CandidateMemory:
    return CandidateMemory(category, "abstract", content, routing_key=key, confidence=confidence)


@pytest.mark.parametrize(
    ("second", "duplicate"),
    [
        (make("Alice  edits in VIM.", confidence=0.5), True),
        (make("alice edits in vim. Always.", confidence=0.5), True),
        (make("Alice edits", confidence=0.5), True),
        (make("Alice edits in vim.", key="shell"), False),
        (make("Alice edits in vim.", category="entity"), False),
        (make("Bob edits in emacs.", confidence=0.5), False),
    ],
)
def test_dedupe(second: CandidateMemory, duplicate: bool) -> None:
    first = make("Alice edits in vim.", confidence=0.8)
    kept, dropped = dedupe.dedupe([first, second])
    assert kept == ([first] if duplicate else [first, second])
    assert len(dropped) == (1 if duplicate else 0)


def test_dedupe_keeps_the_first_on_a_tie_and_the_more_confident_otherwise() -> None:
    low, high, tie = make("Same.", confidence=0.5), make("same.", confidence=0.9), make("SAME.")
    assert dedupe.dedupe([low, high])[0] == [high]
    assert dedupe.dedupe([tie, make("same.")])[0] == [tie]


def test_the_kept_duplicate_carries_the_source_messages_of_the_dropped_one() -> None:
    first = dataclasses.replace(make("Same.", confidence=0.9), source_message_ids=("m1", "m2"))
    second = dataclasses.replace(make("same."), source_message_ids=("m2", "m7"))
    [kept], _ = dedupe.dedupe([first, second])
    assert kept.content == "same." and kept.source_message_ids == ("m2", "m7", "m1")


def test_spans_beyond_the_limit_are_dropped() -> None:
    llm = ScriptedLLM(
        [
            spans_answer((0, 0, ["profile"]), (2, 2, ["event"]), (3, 3, ["preference"])),
            LLMResponse(),
        ],
    )
    result = LLMExtractor(llm, REGISTRY, max_spans=1).extract(TRANSCRIPT, CTX)
    assert [d.what for d in result.dropped] == ["span 2-2", "span 3-3"]
    assert len(llm.calls) == 2


def test_identical_spans_are_structured_once_with_all_categories() -> None:
    llm = ScriptedLLM([spans_answer((3, 3, ["preference"]), (3, 3, ["event"])), LLMResponse()])
    LLMExtractor(llm, REGISTRY).extract(TRANSCRIPT, CTX)
    tools = llm.calls[1].tools
    assert tools is not None
    assert [t["function"]["name"] for t in tools] == ["remember_preference", "remember_event"]


# Whatever the model answers ---------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = sorted({spec.name for name in REGISTRY.names() for spec in REGISTRY.get(name).fields})
CATEGORIES = st.sampled_from([*REGISTRY.names(), "Preference", "remember_event", "hobby"])
SPAN = st.fixed_dictionaries(
    {"start": st.integers(-1, 7), "end": st.integers(-1, 7), "categories": st.lists(CATEGORIES)},
    optional={"reason": st.text(max_size=20)},
)
SPAN_ANSWERS = st.fixed_dictionaries({"spans": st.lists(SPAN | JSON, max_size=3)}) | JSON
VALID_CALLS = [
    ("remember_profile", PROFILE),
    ("remember_event", EVENT),
    ("remember_preference", PREFERENCE),
    ("remember_pattern", PATTERN),
]


@st.composite
def mutated_call(draw: st.DrawFn) -> tuple[str, Any]:
    """A valid call with a few fields removed or replaced by arbitrary JSON."""
    name, base = draw(st.sampled_from(VALID_CALLS))
    arguments = dict(base)
    for key in draw(st.lists(st.sampled_from([*FIELD_NAMES, "junk"]), max_size=3)):
        if draw(st.booleans()):
            arguments.pop(key, None)
        else:
            arguments[key] = draw(JSON)
    return name, arguments


ARBITRARY_CALL = st.tuples(
    st.sampled_from([name for name, _ in VALID_CALLS]) | st.text(max_size=20),
    st.dictionaries(st.sampled_from([*FIELD_NAMES, "junk"]), JSON, max_size=8) | JSON,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(SPAN_ANSWERS, st.lists(mutated_call() | ARBITRARY_CALL, max_size=3))
def test_any_answer_gives_valid_candidates_or_extraction_error(
    span_answer: Any, calls: list[tuple[str, Any]]
) -> None:
    answer = json.dumps(span_answer)

    def respond(messages: list[ChatMessage]) -> Step:
        # Span identification and its repair ask for the conversation; structuring for a passage.
        return answer if "## Conversation" in messages[0]["content"] else tool_calls(*calls)

    llm = ScriptedLLM(responder=respond)
    try:
        result = LLMExtractor(llm, REGISTRY).extract(TRANSCRIPT, CTX)
    except errors.ExtractionError:
        return
    for candidate in result.candidates:
        REGISTRY.get(candidate.category).validate_candidate(candidate)
        assert candidate.origin == "llm"
