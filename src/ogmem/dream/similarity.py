"""Near-duplicates: two memories are duplicates when their embeddings AND their words agree.

Either test alone is too loose. Embeddings call "I moved to Berlin" and "I moved to Munich"
close; shared words call two different trips to the same beach close. A paraphrase passes
both: its meaning is near (cosine) and it reuses most of the content words (Jaccard over
words without stop words, plurals folded). The thresholds are measured by ``make bench``
(``dream_dedupe_precision`` / ``_recall``, bench/dream_bench.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

EMBEDDING_THRESHOLD = 0.80
TEXT_THRESHOLD = 0.40
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


def text_similarity(first: frozenset[str], second: frozenset[str]) -> float:
    """Jaccard of two word sets; 0 when either is empty (nothing to compare)."""
    if not first or not second:
        return 0.0
    return len(first & second) / len(first | second)


def similar_pairs(
    vectors: npt.NDArray[np.float32], texts: Sequence[str], thresholds: Thresholds
) -> list[Pair]:
    """Every pair (i < j) similar by both measures, best first. ``vectors`` are
    L2-normalised rows (cosine = dot product), one per text."""
    words = [content_words(text) for text in texts]
    pairs: list[Pair] = []
    for start in range(0, len(texts), ROW_BLOCK):
        block = vectors[start : start + ROW_BLOCK] @ vectors.T
        rows, cols = np.nonzero(block >= thresholds.embedding)
        for row, col in zip(rows.tolist(), cols.tolist(), strict=True):
            first = start + row
            if col <= first:
                continue
            text = text_similarity(words[first], words[col])
            if text >= thresholds.text:
                pairs.append(Pair(first, col, float(block[row, col]), text))
    pairs.sort(key=lambda p: (-p.score, p.first, p.second))
    return pairs
