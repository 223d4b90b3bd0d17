"""Relevance in [0, 1]: a logistic curve of the cosine, and the share of keywords found."""

from __future__ import annotations

import pytest

from ogmem.retrieval import relevance as rel


def test_similarity_relevance_is_half_at_the_midpoint_and_monotonic() -> None:
    assert rel.similarity_relevance(rel.SIMILARITY_MIDPOINT) == pytest.approx(0.5)
    values = [rel.similarity_relevance(c / 10) for c in range(-10, 11)]
    assert values == sorted(values)
    assert values[0] > 0.0 and values[-1] < 1.0
    assert rel.similarity_relevance(0.1) < 0.05 < 0.95 < rel.similarity_relevance(0.6)


def test_keyword_coverage_counts_words_starting_with_a_term() -> None:
    text = "Alice supported the LGBTQ group on Friday."
    assert rel.keyword_coverage(["support", "group"], text) == 1.0
    assert rel.keyword_coverage(["alice", "dog"], text) == 0.5
    assert rel.keyword_coverage(["port"], text) == 0.0  # inside a word is not a match
    assert rel.keyword_coverage([], text) == 0.0


def test_keyword_coverage_finds_cjk_pieces_inside_words() -> None:
    assert rel.keyword_coverage(["北京", "上海"], "我住在北京市") == 0.5


def test_relevance_is_the_stronger_signal_with_keywords_capped() -> None:
    assert rel.relevance(0.2, 1.0) == pytest.approx(rel.KEYWORD_WEIGHT)
    assert rel.relevance(0.97, 1.0) == pytest.approx(0.97)
    assert rel.relevance(0.0, 0.0) == 0.0
