"""Index records and what their vectors are made of: whole texts, or compositions of pieces."""

from __future__ import annotations

from typing import Any

from ogmem.core.models import ContextNode, ContextType
from ogmem.index.directories import deterministic_summary
from ogmem.index.records import Composed, Opening, Part, records_for

QUESTION = "Mel: How many times have you been to Paris?"
ANSWER = "Caroline: Twice last year! Loved it. We want to go back."
TEXT = ANSWER[len("Caroline: ") :]
FIRST, REST, WHOLE = Part(TEXT, 0, 16), Part(TEXT, 17, len(TEXT)), Part(TEXT, 0, len(TEXT))
MESSAGE = Composed(("Caroline", FIRST, REST, WHOLE))


def _node(context_type: ContextType = ContextType.MEMORY, **fields: Any) -> ContextNode:
    return ContextNode(
        account_id="acme",
        uri="ctx://acme/users/caroline/memories/events/x",
        context_type=context_type,
        category="event" if context_type is ContextType.MEMORY else "session",
        owner_space="user:caroline",
        version=1,
        **fields,
    )


def _raw(content: str, overview: str = "", abstract: str = "") -> ContextNode:
    abstract = abstract or content.split("! ")[0] + ("!" if "! " in content else "")
    return _node(
        abstract=abstract,
        overview=overview,
        content=content,
        metadata={"extraction": "raw", "who": "Caroline"},
    )


def _sources(node: ContextNode) -> dict[int, Any]:
    return {p.record.level: p.source for p in records_for(node)}


def test_a_raw_memory_is_made_of_its_speaker_first_sentence_rest_and_whole() -> None:
    sources = _sources(_raw(ANSWER, overview=f"{QUESTION}\n{ANSWER}"))

    assert (FIRST.text, REST.text) == ("Twice last year!", "Loved it. We want to go back.")
    assert sources[0] == Composed(("Caroline", FIRST))  # the abstract
    assert sources[2] == MESSAGE
    # the overview: the message it follows, split the same way, then the message itself
    assert sources[1] == Composed((Composed(("Mel", QUESTION[5:])), MESSAGE))


def test_a_raw_abstract_longer_than_its_first_sentence_is_indexed_as_its_opening() -> None:
    """The abstract shows the opening sentences (for lists); its record stays the speaker and
    the first sentence (text and vector), and the content keeps its own record."""
    node = _raw(ANSWER, abstract=ANSWER)

    planned = records_for(node)

    assert [(p.record.level, p.record.text) for p in planned] == [
        (0, "Caroline: Twice last year!"),
        (2, ANSWER),
    ]
    assert planned[0].source == Composed(("Caroline", FIRST))
    assert planned[1].source == MESSAGE


def test_records_keep_their_whole_text_for_full_text() -> None:
    planned = records_for(_raw(ANSWER, overview=f"{QUESTION}\n{ANSWER}"))

    assert [p.record.text for p in planned] == [
        "Caroline: Twice last year!",
        f"{QUESTION}\n{ANSWER}",
        ANSWER,
    ]


def test_the_pieces_of_a_memory_and_of_the_next_ones_overview_are_shared() -> None:
    first = _raw(ANSWER)
    reply = _raw("Caroline: Paris again?", overview=f"{ANSWER}\nCaroline: Paris again?")

    first_texts = {t for p in records_for(first) for t in p.texts()}
    reply_overview = next(p for p in records_for(reply) if p.record.level == 1)

    assert first_texts == {"Caroline", FIRST, REST, WHOLE}  # the model reads TEXT once
    assert set(reply_overview.texts()) == first_texts | {"Paris again?"}


def test_a_one_sentence_message_is_one_record_of_speaker_and_text() -> None:
    planned = records_for(_raw("Caroline: Yes.", abstract="Caroline: Yes."))

    assert [(p.record.level, p.source) for p in planned] == [(0, Composed(("Caroline", "Yes.")))]


def test_a_clipped_overview_is_embedded_whole() -> None:
    long_answer = ANSWER + " And more." * 300
    clipped = f"{QUESTION}\n{long_answer[:1500]}…"

    assert _sources(_raw(long_answer, overview=clipped))[1] == clipped


def test_a_message_without_a_speaker_is_its_first_sentence_rest_and_whole() -> None:
    text = "No speaker here. Just text."
    node = _raw(text, abstract="No speaker here.")

    first = Part(text, 0, 16)
    assert _sources(node)[2] == Composed((first, Part(text, 17, 27), Part(text, 0, 27)))
    assert _sources(node)[0] == first and first.text == "No speaker here."


def test_other_memories_are_embedded_whole() -> None:
    node = _node(abstract="Prefers vim.", content="Prefers vim. Uses it for everything.")

    assert _sources(node) == {0: "Prefers vim.", 2: "Prefers vim. Uses it for everything."}


def test_a_deterministic_session_has_one_vector_from_its_messages() -> None:
    node = _node(
        ContextType.SESSION,
        abstract="Conversation of 2023-05-08 between Mel, Caroline (2 messages)",
        overview=f"{QUESTION}\n{ANSWER}",
        content=f"[2023-05-08T10:00] {QUESTION}\n[2023-05-08T10:01] {ANSWER}",
        metadata={"summary": "deterministic"},
    )

    sources = _sources(node)

    expected = Composed((Composed(("Mel", QUESTION[5:])), MESSAGE))
    assert sources == {0: expected, 1: expected, 2: expected}
    assert [p.record.text for p in records_for(node)][2].startswith("[2023-05-08T10:00]")


def test_a_session_summarised_by_an_llm_is_embedded_whole() -> None:
    node = _node(
        ContextType.SESSION,
        abstract="Caroline plans a second trip to Paris",
        overview="Mel asked about Paris.\nCaroline went twice and wants to go back.",
        content=f"[2023-05-08T10:00] {QUESTION}\n[2023-05-08T10:01] {ANSWER}",
        metadata={"summary": "llm"},
    )

    assert _sources(node) == {
        0: "Caroline plans a second trip to Paris",
        1: "Mel asked about Paris.\nCaroline went twice and wants to go back.",
        2: f"[2023-05-08T10:00] {QUESTION}\n[2023-05-08T10:01] {ANSWER}",
    }


def test_a_directory_whose_abstract_lists_no_child_gives_its_abstract_whole() -> None:
    node = _node(
        ContextType.DIRECTORY,
        abstract="Caroline: 2 events",
        overview="a\nb",
        metadata={"summary": "deterministic"},
    )

    assert _sources(node) == {0: "Caroline: 2 events"}


def _directory(children: list[str], summary: str = "deterministic") -> ContextNode:
    listed = [_raw(text) for text in children]
    abstract, overview = deterministic_summary(
        "ctx://acme/users/caroline/memories/events", listed, 9
    )
    return _node(
        ContextType.DIRECTORY, abstract=abstract, overview=overview, metadata={"summary": summary}
    )


def test_a_deterministic_directory_is_made_of_the_children_its_abstract_shows() -> None:
    """Each child as its own abstract's vector is made, so no model run: the abstract shows
    the newest children until it is clipped at 300 characters, the clipped one included."""
    children = [
        ANSWER,
        "Notes kept. No speaker here.",
        f"Mel: {'Pottery again. ' * 20}",
        "Caroline: Not shown at all, past the clip.",
    ]
    node = _directory(children)
    assert node.abstract.endswith("…") and "Not shown" not in node.abstract

    assert _sources(node) == {
        0: Composed(
            (
                Composed(("Caroline", "Twice last year!")),
                "Notes kept. No speaker here.",  # no speaker: the abstract whole
                Composed(("Mel", Opening("Pottery again."))),  # as its message's run read it
            )
        )
    }
    assert records_for(node)[0].record.text == node.abstract  # full text: the abstract as is


def test_a_directory_summarised_by_an_llm_is_embedded_whole() -> None:
    node = _directory([ANSWER], summary="llm")

    assert _sources(node) == {0: node.abstract}


def test_an_extracted_memory_is_found_by_the_words_of_its_evidence_quote() -> None:
    quote = "Twice last year! Loved it."
    node = _node(
        abstract="Caroline visited Paris twice in 2022",
        content="Caroline visited Paris twice in 2022 and enjoyed it.",
        metadata={"extraction": "llm", "evidence_quote": quote},
    )
    content = records_for(node)[-1].record
    assert content.level == 2 and content.text.endswith(f"\n“{quote}”")
    assert content.text.startswith(node.content)


def test_a_quote_already_in_the_content_is_not_indexed_twice() -> None:
    node = _node(
        abstract="Caroline on Paris",
        content="Caroline said: Twice last year! Loved it.",
        metadata={"extraction": "llm", "evidence_quote": "Twice last year!"},
    )
    assert records_for(node)[-1].record.text == node.content


def test_a_session_archive_leaves_out_its_clipped_last_message() -> None:
    """No memory holds the clipped text, so the model would read it for this vector alone."""
    node = _node(
        ContextType.SESSION,
        abstract="Conversation of 2023-05-08 between Mel, Caroline (3 messages)",
        overview=f"{QUESTION}\n{ANSWER}\nMel: Lovely! Did you…",
        content="[2023-05-08T10:00] ...",
        metadata={"summary": "deterministic"},
    )

    expected = Composed((Composed(("Mel", QUESTION[5:])), MESSAGE))
    assert _sources(node) == {0: expected, 1: expected, 2: expected}


def test_a_transcript_parts_template_abstract_has_its_messages_vector() -> None:
    node = _node(
        ContextType.SESSION,
        abstract="Session s1, 2023-05-08 10:00-10:01, Mel, Caroline (2 messages)",
        content=f"[2023-05-08T10:00] Mel (user): {QUESTION[5:]}\n"
        f"[2023-05-08T10:01] Caroline (user): {TEXT}",
        metadata={"part_of": "ctx://acme/users/caroline/sessions/s1"},
    )

    planned = records_for(node)

    messages = Composed((Composed(("Mel", QUESTION[5:])), MESSAGE))
    assert [(p.record.level, p.source) for p in planned] == [(0, messages), (2, messages)]
    assert planned[0].record.text == node.abstract  # full text: the template as it is
