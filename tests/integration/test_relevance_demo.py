"""Scores a user can use, on the demo's memories with the offline model: the right answer
scores high, a question about something never mentioned scores low everywhere, and compose
returns nothing for it by default instead of filling its budget."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ogmem import Engine, RequestContext
from ogmem.core import errors
from ogmem.demo import ACCOUNT, AGENT, FIRST_SESSION, SECOND_SESSION, USER
from ogmem.index.embedders import MiniLMEmbedder
from ogmem.retrieval.relevance import COMPOSE_MIN_SCORE

UNRELATED = ("what is the capital of Peru?", "recipe for chocolate cake", "weather tomorrow")


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[Engine, RequestContext]]:
    ctx = RequestContext(account_id=ACCOUNT, user_id=USER, agent_id=AGENT, session_id="s1")
    with Engine.open(":memory:", embedder=MiniLMEmbedder(), worker=False) as engine:
        engine.remember(FIRST_SESSION, ctx)
        engine.remember(SECOND_SESSION, ctx)
        engine.drain()
        yield engine, ctx


def test_the_answer_scores_high_and_every_score_is_in_0_1(
    demo: tuple[Engine, RequestContext],
) -> None:
    engine, ctx = demo
    found = engine.search("tests fail with database is locked", ctx, limit=5)
    assert "/memories/cases/flaky-sqlite-tests" in found.hits[0].uri
    assert found.hits[0].score >= 0.9
    assert all(0.0 <= hit.score <= 1.0 for hit in found.hits)
    assert all(hit.score < COMPOSE_MIN_SCORE for hit in found.hits[1:])  # editor, billing...
    # the order stays the fusion's
    ranks = [hit.rank_score for hit in found.hits]
    assert ranks == sorted(ranks, reverse=True)


@pytest.mark.parametrize("question", UNRELATED)
def test_a_question_about_nothing_known_scores_low_and_composes_nothing(
    demo: tuple[Engine, RequestContext], question: str
) -> None:
    engine, ctx = demo
    found = engine.search(question, ctx, limit=10)
    assert found.hits, "search without min_score still ranks what there is"
    assert max(hit.score for hit in found.hits) < COMPOSE_MIN_SCORE
    block = engine.compose(question, ctx)
    assert block.uris == [] and block.text == ""
    assert engine.search(question, ctx, min_score=COMPOSE_MIN_SCORE).hits == []


def test_compose_keeps_what_is_related(demo: tuple[Engine, RequestContext]) -> None:
    engine, ctx = demo
    block = engine.compose("which code editor does Alice like?", ctx)
    assert "ctx://demo/users/alice/memories/preferences/editor" in block.uris
    assert "neovim" in block.text


def test_min_score_keeps_the_limit_of_relevant_hits(demo: tuple[Engine, RequestContext]) -> None:
    engine, ctx = demo
    everything = engine.search("Alice", ctx, limit=20)
    relevant = [hit.uri for hit in everything.hits if hit.score >= 0.5]
    assert relevant
    assert [h.uri for h in engine.search("Alice", ctx, limit=20, min_score=0.5).hits] == relevant
    assert len(engine.search("Alice", ctx, limit=1, min_score=0.5).hits) == 1


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_min_score_outside_0_1_is_refused(demo: tuple[Engine, RequestContext], bad: float) -> None:
    engine, ctx = demo
    with pytest.raises(errors.InvalidInput, match="min_score"):
        engine.search("Alice", ctx, min_score=bad)
