"""Search and compose logic with the deterministic hashing embedder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ogmem import Engine, RequestContext
from ogmem.core import errors
from ogmem.core.storage import RecordHit
from ogmem.index.embedders import HashEmbedder
from ogmem.retrieval.search import fuse, owner_spaces
from tests.helpers import candidate

ALICE = RequestContext("acme", "alice", agent_id="coder", session_id="s1")
BOB = RequestContext("acme", "bob", session_id="s1")
EVIL = RequestContext("evil", "alice", agent_id="coder", session_id="s1")


@pytest.fixture
def engine() -> Iterator[Engine]:
    with Engine.open(":memory:", embedder=HashEmbedder(), worker=False) as opened:
        opened.remember(
            [
                candidate("preference", "Alice edits code in vim every day.", routing_key="editor"),
                candidate(
                    "preference", "Alice drinks green tea, never coffee.", routing_key="drinks"
                ),
                candidate("event", "Alice flew to Lisbon for a conference.", routing_key="trip"),
                candidate(
                    "case", "Tests failed with database is locked; fixed with one db per test."
                ),
            ],
            ALICE,
        )
        opened.remember(
            [candidate("preference", "Bob edits code in emacs.", routing_key="editor")], BOB
        )
        opened.remember(
            [candidate("preference", "Secret vim plans of evil.", routing_key="editor")], EVIL
        )
        opened.drain()
        yield opened


def test_finds_the_matching_memory_first(engine: Engine) -> None:
    result = engine.search("which editor for code: vim?", ALICE)
    assert result.hits[0].uri.endswith("/preferences/editor")
    assert result.hits[0].category == "preference"
    assert "vector" in result.hits[0].why or "bm25" in result.hits[0].why
    assert result.took_ms > 0


def test_filters_by_category_and_scope(engine: Engine) -> None:
    only_events = engine.search("Lisbon conference vim tea", ALICE, categories=["event"]).hits
    assert {h.category for h in only_events} == {"event"}
    agent_only = engine.search("database locked tests", ALICE, scopes=["agent"]).hits
    assert agent_only and all("/agents/coder/" in h.uri for h in agent_only)
    user_only = engine.search("database locked tests", ALICE, scopes=["user"]).hits
    assert all("/users/alice/" in h.uri for h in user_only)
    with pytest.raises(errors.InvalidInput, match="unknown scope"):
        engine.search("x", ALICE, scopes=["team"])


def test_other_users_and_accounts_stay_out(engine: Engine) -> None:
    for query in ("emacs", "vim code editor", "secret plans of evil"):
        uris = [h.uri for h in engine.search(query, ALICE, limit=50).hits]
        assert all(
            u.startswith("ctx://acme/users/alice/") or u.startswith("ctx://acme/agents/coder/")
            for u in uris
        )
    evil = engine.search("Alice vim Lisbon tea", EVIL, limit=50).hits
    assert evil and all(h.uri.startswith("ctx://evil/") for h in evil)
    block = engine.compose("Alice vim Lisbon tea emacs", EVIL, token_budget=500)
    assert "Lisbon" not in block.text and "tea" not in block.text and "emacs" not in block.text
    assert all(u.startswith("ctx://evil/") for u in block.uris)


def test_archived_memories_only_when_asked(engine: Engine) -> None:
    uri = engine.search("green tea", ALICE).hits[0].uri
    engine.archive(uri, ALICE)
    engine.drain()
    assert uri not in [h.uri for h in engine.search("green tea", ALICE).hits]
    assert uri in [h.uri for h in engine.search("green tea", ALICE, include_archived=True).hits]


def test_directory_summaries_steer_but_are_not_returned(engine: Engine) -> None:
    hits = engine.search("preference editor drinks", ALICE, limit=20).hits
    assert all(not h.uri.endswith("/preferences") for h in hits)
    assert any("directory" in h.why for h in hits)


def test_each_search_leaves_recall_signals(engine: Engine) -> None:
    hit = engine.search("green tea", ALICE).hits[0]
    engine.search("tea please", ALICE)
    engine.flush()  # signals are written in batches
    signals = engine.index.recall_signals("acme", hit.uri)
    assert len(signals) == 2 and signals[0]["rank"] == 1
    assert signals[0]["query_hash"] != signals[1]["query_hash"]
    assert engine.index.recall_signals("evil", hit.uri) == []


def test_bad_queries_are_refused(engine: Engine) -> None:
    with pytest.raises(errors.InvalidInput, match="empty"):
        engine.search("   ", ALICE)
    with pytest.raises(errors.InvalidInput, match="limit"):
        engine.search("tea", ALICE, limit=0)
    assert engine.search('"; DROP TABLE context_nodes; -- NEAR(', ALICE).hits is not None


def test_rrf_ranks_uris_by_their_best_record() -> None:
    fused = fuse(
        {
            "vector": [RecordHit("a", 0, 0.9), RecordHit("a", 2, 0.8), RecordHit("b", 2, 0.7)],
            "bm25": [RecordHit("b", 2, 5.0), RecordHit("c", 1, 3.0), RecordHit("a", 1, 2.0)],
        },
        k=60,
    )
    # a's second record takes no rank from b: b is #2 of the vector list, not #3
    assert fused["b"].score == pytest.approx(1 / 62 + 1 / 61) and fused["b"].level == 2
    assert fused["a"].score == pytest.approx(1 / 61 + 1 / 63) and fused["a"].level == 0
    assert fused["c"].score == pytest.approx(1 / 62)


def test_equal_scores_take_their_ranks_in_uri_order_whatever_order_they_came_in() -> None:
    tied = [RecordHit("c", 0, 2.0), RecordHit("a", 2, 2.0), RecordHit("b", 0, 2.0)]
    for hits in (tied, tied[::-1]):
        fused = fuse({"bm25": [RecordHit("z", 0, 9.0), *hits, RecordHit("y", 0, 1.0)]}, k=60)
        assert [fused[u].ranks[0][1] for u in "zabcy"] == [1, 2, 3, 4, 5]


def _written_in_order(texts: list[str]) -> Engine:
    engine = Engine.open(":memory:", embedder=HashEmbedder(), worker=False)
    for text in texts:  # one write each: the records' ids follow this order
        engine.remember([candidate("event", text, routing_key=text.split()[-1])], ALICE)
    engine.drain()
    return engine


def test_the_same_memories_rank_the_same_whatever_order_they_were_written_in() -> None:
    # one word each besides "kayak", all of one length: their keyword scores are equal
    texts = [f"kayak {word}" for word in ("amber", "basil", "cedar", "dune", "ember", "fjord")]
    rankings = []
    for order in (texts, texts[::-1]):
        with _written_in_order(order) as engine:
            hits = engine.search("kayak", ALICE, limit=6).hits
            rankings.append([hit.uri.rsplit("/", 1)[-1] for hit in hits])
    assert len(rankings[0]) == 6
    assert rankings[0] == rankings[1]


def test_owner_spaces() -> None:
    assert owner_spaces(ALICE, None) == ("user:alice", "agent:coder")
    assert owner_spaces(BOB, None) == ("user:bob",)
    assert owner_spaces(ALICE, ["agent"]) == ("agent:coder",)


@pytest.mark.parametrize("min_score", [0.0, 0.2, 0.4, 0.6, 0.8])
def test_min_score_keeps_exactly_the_hits_that_reach_it(engine: Engine, min_score: float) -> None:
    # relevance is computed lazily (only where the similarity alone does not decide, and for
    # the hits returned): the filtered list must be the unfiltered one cut at min_score
    for query in ("vim code editor", "green tea or coffee", "Lisbon conference tests failed"):
        everything = engine.search(query, ALICE, limit=20).hits
        kept = engine.search(query, ALICE, limit=20, min_score=min_score).hits
        expected = [(h.uri, h.score, h.why) for h in everything if h.score >= min_score]
        assert [(h.uri, h.score, h.why) for h in kept] == expected


def test_a_returned_hit_carries_its_relevance_and_why(engine: Engine) -> None:
    (hit, *_) = engine.search("green tea", ALICE).hits
    assert hit.uri.endswith("/preferences/drinks")
    assert hit.score >= 0.8 * 1.0 - 1e-9  # every keyword is in its text
    assert "bm25 #1" in hit.why
