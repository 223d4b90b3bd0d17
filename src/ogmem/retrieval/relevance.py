"""A hit's relevance in [0, 1], comparable across queries (the fused rank order is not).

Rank fusion orders hits well but its scores only compare within one list: the right answer
and an unrelated memory both score ~0.03. Relevance instead rests on two absolute signals:

- the query's cosine similarity to the node's best-matching record, passed through a
  logistic curve centred where the embedder's related and unrelated pairs part. For the
  offline MiniLM, unrelated questions reach cosines of 0.05-0.19 against a memory and
  related ones 0.45-0.9; the midpoint 0.35 and spread 0.07 give the first 0.01-0.09 and the
  second 0.81-1.0. These are properties of the model (an embedder can say its own), not of
  any data set;
- the share of the query's keywords found in the node's text (a word starting with the
  keyword: "support" finds "supported"), worth at most KEYWORD_WEIGHT: a literal match of
  every keyword is strong evidence, but not that the node answers the question.

The relevance is the larger of the two, so either retriever can vouch for a hit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from functools import lru_cache

SIMILARITY_MIDPOINT = 0.35
SIMILARITY_SPREAD = 0.07
KEYWORD_WEIGHT = 0.8
COMPOSE_MIN_SCORE = 0.3  # compose leaves out what is less relevant than this by default


def similarity_relevance(
    cosine: float, midpoint: float = SIMILARITY_MIDPOINT, spread: float = SIMILARITY_SPREAD
) -> float:
    """The logistic curve of a cosine similarity: 0.5 at ``midpoint``."""
    return 1.0 / (1.0 + math.exp(-(cosine - midpoint) / spread))


@lru_cache(maxsize=4096)
def _keyword_pattern(term: str) -> re.Pattern[str]:
    if term.isascii():
        return re.compile(rf"\b{re.escape(term)}", re.IGNORECASE)
    return re.compile(re.escape(term), re.IGNORECASE)  # CJK pieces sit inside words


def keyword_coverage(terms: Sequence[str], text: str) -> float:
    """The share of ``terms`` that occur in ``text`` (at the start of a word for Latin text)."""
    if not terms:
        return 0.0
    found = sum(1 for term in terms if _keyword_pattern(term).search(text))
    return found / len(terms)


def relevance(similarity_score: float, coverage: float) -> float:
    """A hit's relevance from its similarity relevance and its keyword coverage."""
    return round(max(similarity_score, KEYWORD_WEIGHT * coverage), 4)
