"""Raw mode: each chosen message becomes an event; its overview is the message in context."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import hypothesis
from hypothesis import strategies as st

from ogmem.core.models import Message, RequestContext
from ogmem.extraction.raw import (
    CONTENT_LIMIT,
    CONTEXT_LIMIT,
    OVERVIEW_LIMIT,
    RawExtractor,
    in_context,
)
from ogmem.schemas.registry import SchemaRegistry

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
    assert memory.abstract == "Caroline: Twice last year! Loved it."  # short: whole
    assert memory.overview == (
        "Mel: How many times have you been to Paris?\nCaroline: Twice last year! Loved it."
    )
    assert memory.source_message_ids == ("m2",)  # provenance: the message itself only
    assert memory.context_message_ids == ("m1",)  # search's neighbour: the message before
    assert memory.origin == "raw" and memory.when == "2023-05-08"


def test_the_first_message_takes_its_context_from_before_the_window() -> None:
    earlier = _message(0, "Did you find a new job?", "assistant", "Mel")
    first = _message(1, "Yes, at the hospital.")

    with_context = RawExtractor().extract([first], CTX, before=earlier).candidates[0]
    without = RawExtractor().extract([first], CTX).candidates[0]

    assert with_context.overview.startswith("Mel: Did you find a new job?\n")
    assert without.overview == ""  # nothing before it: no context level to index
    assert with_context.context_message_ids == ("m0",) and without.context_message_ids == ()


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


# -- every text within the event schema, whatever the lengths ---------------------------------

EVENT = SchemaRegistry.load().get("event")
_LENGTHS = st.sampled_from((1, 2, 299, 300, 301, 1999, 2000, 2001, 2044, 19999, 20000, 20001))


def _text_of(length: int, word: str) -> str:
    return ((word + " ") * (length // (len(word) + 1) + 1))[: length - 1] + "x"


@hypothesis.settings(max_examples=60, deadline=None)
@hypothesis.given(
    length=_LENGTHS | st.integers(1, 200_000),
    before=st.none() | _LENGTHS,
    word=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=9),
    name=st.text(min_size=0, max_size=300),
)
def test_every_raw_memory_fits_the_event_schema(
    length: int, before: int | None, word: str, name: str
) -> None:
    message = _message(2, _text_of(length, word), name=name)
    preceding = None if before is None else _message(1, _text_of(before, word), "assistant", name)
    hypothesis.assume(message.content.strip())

    (memory,) = RawExtractor().extract([message], CTX, before=preceding).candidates

    EVENT.validate_candidate(memory)  # raises InvalidCandidate naming the field
    assert memory.content.startswith(f"{name or 'caroline'}: {message.content.strip()}"[:50])
    if preceding is None:
        assert memory.overview == ""
    else:  # the overview keeps the preceding message's end and the message's beginning
        assert preceding.content.strip()[-20:] in memory.overview
        assert memory.content[:20] in memory.overview


def test_a_long_message_keeps_its_beginning_in_content_and_overview() -> None:
    long_text = "I finally ran the marathon. " + "and then " * 5000 + "the end."
    question = _message(1, "How did it go?", "assistant", "Mel")

    (memory,) = RawExtractor().extract([question, _message(2, long_text)], CTX).candidates

    assert len(memory.content) == CONTENT_LIMIT and memory.content.endswith("…")
    assert memory.content.startswith("Caroline: I finally ran the marathon. and then")
    assert len(memory.overview) <= OVERVIEW_LIMIT
    assert memory.overview.startswith("Mel: How did it go?\nCaroline: I finally ran the marathon.")
    assert memory.abstract.startswith("Caroline: I finally ran the marathon. and then")
    assert len(memory.abstract) <= len("Caroline: ") + 160 and memory.abstract.endswith("…")


def test_an_abstract_names_the_speaker_and_carries_the_messages_words() -> None:
    """Not "user: Slowly.": a list of such lines tells nothing apart."""
    ctx = RequestContext("acme", "alice", session_id="s1")
    reply = Message("user", "Slowly. I practise Portuguese every evening with an app.")

    (memory,) = RawExtractor().extract([reply], ctx).candidates

    assert memory.abstract == "alice: Slowly. I practise Portuguese every evening with an app."
    assert memory.content.startswith("alice: Slowly.") and memory.who == "alice"


def test_without_a_name_or_user_the_speaker_is_the_role_as_a_word() -> None:
    ctx = RequestContext("acme", "default", agent_id="coder", session_id="s1")
    turns = [Message("assistant", "How is it going?"), Message("user", "Fine, thanks.")]

    memories = RawExtractor(roles=("user", "assistant")).extract(turns, ctx).candidates

    assert [m.abstract for m in memories] == ["coder: How is it going?", "User: Fine, thanks."]
    assert memories[1].overview.startswith("coder: How is it going?\n")
