"""Neighbouring memories of a conversation lift each other, within one session only."""

from __future__ import annotations

from typing import Any

import pytest

from ogmem import Engine, Message, RequestContext
from ogmem.index.embedders import HashEmbedder
from ogmem.retrieval.neighbours import NEIGHBOUR_WEIGHT, neighbour_bonus
from tests.conftest import make_node


def _turn(name: str, message: str, before: str | None, session: str = "s1") -> Any:
    return make_node(
        path=f"users/alice/memories/events/{name}",
        metadata={"source_message_ids": [message], "session_ids": [session],
                  "context_message_ids": [before] if before else []},
    )  # fmt: skip


def test_the_message_before_and_after_lift_a_memory() -> None:
    question, answer, later = _turn("q", "m1", None), _turn("a", "m2", "m1"), _turn("l", "m3", "m2")
    nodes = {n.uri: n for n in (question, answer, later)}
    bonus = neighbour_bonus([(0.9, question.uri), (0.1, answer.uri), (0.2, later.uri)], nodes)
    assert bonus[answer.uri] == pytest.approx(NEIGHBOUR_WEIGHT * 0.9)  # the question before it
    assert bonus[question.uri] == pytest.approx(NEIGHBOUR_WEIGHT * 0.1)  # the answer after it
    assert bonus[later.uri] == pytest.approx(NEIGHBOUR_WEIGHT * 0.1)


def test_the_same_message_id_in_another_session_is_no_neighbour() -> None:
    question, other = _turn("q", "m1", None, "s1"), _turn("o", "m2", "m1", "s2")
    nodes = {n.uri: n for n in (question, other)}
    assert neighbour_bonus([(0.9, question.uri), (0.5, other.uri)], nodes) == {}


def test_an_answer_without_the_questions_words_is_found_through_its_question() -> None:
    ctx = RequestContext("acme", "alice", session_id="s1")
    talk = [
        Message("user", "What did you bring back from the Lisbon trip?", message_id="t1"),
        Message("user", "Ceramic tiles, painted blue and white.", message_id="t2"),
        *[Message("user", f"Unrelated chatter number {i} about weather.", message_id=f"u{i}")
          for i in range(20)],
    ]  # fmt: skip
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as engine:
        engine.after_turn(talk, ctx)
        engine.commit("s1", ctx, wait=True)
        engine.drain()
        found = engine.search("Lisbon trip", ctx, limit=3)
    answer = next(h for h in found.hits if "Ceramic" in h.abstract)
    assert "neighbour" in answer.why
