"""Near-duplicates: two memories are duplicates when their embeddings AND their words agree.

Either test alone is too loose. Embeddings call "I moved to Berlin" and "I moved to Munich"
close; shared words call two different trips to the same beach close. A paraphrase passes
both: its meaning is near (cosine) and it reuses most of the content words. Words are
weighted by how rare they are among the memories compared (IDF): "thanks, Gina, your words
mean a lot" and "thanks, Melanie, your words mean a lot" share many words, but common ones;
the names, rare, tell them apart. PRIOR_DOCS smooths the weights, so that among a handful of
memories every word weighs about the same (plain Jaccard). The thresholds were chosen on
``make bench``'s set (``dream_dedupe_precision`` / ``_recall``, bench/dream_bench.py) and
checked on another part of LoCoMo (docs/decisions.md).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

EMBEDDING_THRESHOLD = 0.75
TEXT_THRESHOLD = 0.50
PRIOR_DOCS = 100  # as if the words were also absent from this many other memories
ROW_BLOCK = 512  # rows of the similarity matrix computed at once (memory stays ~ n * 512)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOP_WORDS = frozenset(
    "a an the and or but if then so of to in on at by for with from about as into over after "
    "before up down out off again i me my mine we us our you your he him his she her they them "
    "their it its is am are was were be been being have has had do does did will would can "
    "could should may might must this that these those there here what which who whom when "
    "where why how all any both each few more most other some such no not only own same than "
    "too very just also really s t don now".split()
)


@dataclass(frozen=True, slots=True)
class Thresholds:
    embedding: float = EMBEDDING_THRESHOLD
    text: float = TEXT_THRESHOLD


@dataclass(frozen=True, slots=True)
class Pair:
    """Two memories (indices into the caller's lists) found alike, with both scores."""

    first: int
    second: int
    embedding: float
    text: float

    @property
    def score(self) -> float:
        return self.embedding + self.text


def _fold(word: str) -> str:
    """A crude plural fold ("trips" -> "trip"): enough for paraphrases, no stemmer needed."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def content_words(text: str) -> frozenset[str]:
    words = (_fold(w) for w in _WORD.findall(text.lower()))
    return frozenset(w for w in words if w not in STOP_WORDS)


def rarity(word_sets: Sequence[frozenset[str]]) -> dict[str, float]:
    """word -> its IDF weight among ``word_sets``, smoothed by PRIOR_DOCS."""
    counts = Counter(word for words in word_sets for word in words)
    total = len(word_sets) + PRIOR_DOCS
    return {word: math.log(total / (count + 0.5)) for word, count in counts.items()}


def text_similarity(
    first: frozenset[str], second: frozenset[str], weights: Mapping[str, float] | None = None
) -> float:
    """Weighted Jaccard of two word sets (plain without ``weights``); 0 when either is
    empty (nothing to compare)."""
    if not first or not second:
        return 0.0
    if weights is None:
        return len(first & second) / len(first | second)
    shared = sum(weights.get(w, 1.0) for w in first & second)
    return shared / sum(weights.get(w, 1.0) for w in first | second)


def similar_pairs(
    vectors: npt.NDArray[np.float32], texts: Sequence[str], thresholds: Thresholds
) -> list[Pair]:
    """Every pair (i < j) similar by both measures, best first. ``vectors`` are
    L2-normalised rows (cosine = dot product), one per text."""
    words = [content_words(text) for text in texts]
    weights = rarity(words)
    pairs: list[Pair] = []
    for start in range(0, len(texts), ROW_BLOCK):
        block = vectors[start : start + ROW_BLOCK] @ vectors.T
        rows, cols = np.nonzero(block >= thresholds.embedding)
        for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
            first = start + row
            if col <= first:
                continue
            text = text_similarity(words[first], words[col], weights)
            if text >= thresholds.text:
                pairs.append(Pair(first, col, float(block[row, col]), text))
    pairs.sort(key=lambda p: (-p.score, p.first, p.second))
    return pairs
