"""Dreaming's pure parts: word similarity, pair finding, merge planning, thresholds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from ogmem.core import errors
from ogmem.dream.consolidate import plan_merges
from ogmem.dream.similarity import Thresholds, content_words, similar_pairs, text_similarity
from ogmem.dream.trigger import parse_thresholds
from ogmem.settings import Settings
from tests.conftest import make_node

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_content_words_drop_stop_words_and_fold_plurals() -> None:
    assert content_words("I took the kids to the beaches") == {"took", "kid", "beache"}
    assert content_words("the a of") == frozenset()


def test_text_similarity_is_jaccard_and_zero_on_empty() -> None:
    assert text_similarity(frozenset({"a", "b"}), frozenset({"b", "c"})) == pytest.approx(1 / 3)
    assert text_similarity(frozenset(), frozenset({"a"})) == 0.0


def _unit(rows: list[list[float]]) -> np.ndarray:
    matrix = np.array(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_a_pair_needs_both_embedding_and_words() -> None:
    vectors = _unit([[1, 0], [1, 0.05], [1, 0.04], [0, 1]])
    texts = [
        "moved to Berlin with Anna",
        "moved with Anna to Berlin",
        "bought bread",
        "moved Berlin",
    ]
    pairs = similar_pairs(vectors, texts, Thresholds(embedding=0.9, text=0.4))
    assert [(p.first, p.second) for p in pairs] == [(0, 1)]  # 2: words differ; 3: far away


def _node(slug: str, minutes: int, category: str = "event", owner: str = "user:alice") -> object:
    user = owner.split(":", 1)[1]
    return make_node(
        path=f"users/{user}/memories/events/{slug}", category=category, owner_space=owner,
        content=slug, created_at=T0 + timedelta(minutes=minutes),
    )  # fmt: skip


def test_merges_keep_the_oldest_and_never_chain() -> None:
    nodes = [_node("b", 2), _node("a", 1), _node("c", 3)]
    # a~b and b~c are alike, a and c are not: b joins a; c stays (b is absorbed already)
    vectors = _unit([[1, 0.1], [1, 0], [1, 0.25]])
    similar = Thresholds(embedding=0.985, text=0.0)
    steps = plan_merges(nodes, vectors, similar)  # type: ignore[arg-type]
    assert [(s.survivor.rsplit("/", 1)[1], [u.rsplit("/", 1)[1] for u in s.absorbed])
            for s in steps] == [("a", ["b"])]  # fmt: skip


def test_a_survivor_never_absorbs_an_older_memory() -> None:
    nodes = [_node("b", 2), _node("a", 1), _node("c", 3)]
    # b~c is the best pair (b keeps c); a~b would make b absorb an older memory: left over
    vectors = _unit([[1, 0.1], [1, 0], [1, 0.15]])
    steps = plan_merges(nodes, vectors, Thresholds(embedding=0.99, text=0.0))  # type: ignore[arg-type]
    assert [(s.survivor.rsplit("/", 1)[1], [u.rsplit("/", 1)[1] for u in s.absorbed])
            for s in steps] == [("b", ["c"])]  # fmt: skip


def test_merges_stay_within_one_owner_and_category() -> None:
    nodes = [_node("a", 1), _node("b", 2, category="preference"), _node("c", 3, owner="user:bob")]
    steps = plan_merges(nodes, _unit([[1, 0]] * 3), Thresholds(0.5, 0.0))  # type: ignore[arg-type]
    assert steps == []


def test_thresholds_parse_per_type_with_a_default() -> None:
    assert parse_thresholds("200") == {"*": 200}
    assert parse_thresholds("event=50, *=300") == {"event": 50, "*": 300}
    assert parse_thresholds(None) == {} and parse_thresholds(" ") == {}
    for bad in ("event=0", "event=x", "-3"):
        with pytest.raises(errors.ConfigurationError, match="OGMEM_DREAM_AFTER"):
            parse_thresholds(bad)


def test_settings_read_the_dream_thresholds() -> None:
    env = {"OGMEM_DATA_DIR": "/tmp/x", "OGMEM_DREAM_AFTER": "event=20"}
    assert Settings.from_env(env).dream_after == {"event": 20}
    assert Settings.from_env({"OGMEM_DATA_DIR": "/tmp/x"}).dream_after == {}
