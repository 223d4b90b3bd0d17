"""Raw mode: each chosen message becomes an event; its overview is the message in context."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ogmem.core.models import Message, RequestContext
from ogmem.extraction.raw import CONTEXT_LIMIT, RawExtractor, in_context

CTX = RequestContext("acme", "caroline", session_id="s1")
START = datetime(2023, 5, 8, 10, 0, tzinfo=UTC)


def _message(index: int, text: str, role: str = "user", name: str = "Caroline") -> Message:
    return Message(role, text, START + timedelta(minutes=index), f"m{index}", name)


def test_a_message_is_remembered_with_the_one_it_answers_as_overview() -> None:
    question = _message(1, "How many times have you been to Paris?", "assistant", "Mel")
    answer = _message(2, "Twice last year! Loved it.")

    result = RawExtractor().extract([question, answer], CTX)

    (memory,) = result.candidates  # the assistant's question is context, not a memory
    assert memory.content == "Caroline: Twice last year! Loved it."
    assert memory.abstract == "Caroline: Twice last year!"
    assert memory.overview == (
        "Mel: How many times have you been to Paris?\nCaroline: Twice last year! Loved it."
    )
    assert memory.source_message_ids == ("m2",)  # provenance: the message itself only
    assert memory.origin == "raw" and memory.when == "2023-05-08"


def test_the_first_message_takes_its_context_from_before_the_window() -> None:
    earlier = _message(0, "Did you find a new job?", "assistant", "Mel")
    first = _message(1, "Yes, at the hospital.")

    with_context = RawExtractor().extract([first], CTX, before=earlier).candidates[0]
    without = RawExtractor().extract([first], CTX).candidates[0]

    assert with_context.overview.startswith("Mel: Did you find a new job?\n")
    assert without.overview == ""  # nothing before it: no context level to index


def test_empty_messages_give_no_context_and_are_dropped_with_a_reason() -> None:
    empty = _message(1, "   ")
    reply = _message(2, "Anyway, I moved to Hamburg.")

    result = RawExtractor().extract([empty, reply], CTX)

    assert [d.reason for d in result.dropped] == ["empty message"]
    assert result.candidates[0].overview == ""
    assert result.proposed == 2


def test_a_long_preceding_message_keeps_its_end() -> None:
    long_text = "start " + "x" * (CONTEXT_LIMIT * 2) + " the question?"

    overview = in_context("Caroline: Yes.", _message(0, long_text, "assistant", "Mel"))

    context = overview.split("\n")[0]
    assert context.startswith("Mel: …") and context.endswith("the question?")
    assert len(context) <= len("Mel: ") + CONTEXT_LIMIT
    assert "start" not in context
