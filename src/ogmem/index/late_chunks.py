"""Pooling stretches of a text out of one model run over the whole text (late chunking).

A transformer's last hidden states hold each token as read in its context; a sentence model's
vector of a text is their mean. The mean of only the tokens of a stretch gives that stretch's
vector as read within the text, so a message's first sentence and its rest, each indexed as a
component of the message's vector (index/records.py), cost one run of the message instead of
one run each: the model reads ~1,900 fewer rows for LoCoMo's 2,654 messages (docs/decisions.md,
"A message's parts from one run").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


def span_weights(
    offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]], width: int
) -> npt.NDArray[np.float32]:
    """One row per span over ``width`` token positions: 1 where a token's characters overlap
    the span, and for the special tokens ([CLS], [SEP]: empty offsets), which every span
    shares as every text's vector holds them: a span over the whole text gives the text's own
    vector. A span none of whose tokens the model kept (cut off by truncation, or only
    blanks) gets every token the model read, the whole text's mean, the best it knows of it."""
    weights = np.zeros((len(spans), width), dtype=np.float32)
    starts = np.array([start for start, _ in offsets], dtype=np.int64)
    ends = np.array([end for _, end in offsets], dtype=np.int64)
    real = ends > starts
    for row, (start, end) in enumerate(spans):
        inside = real & (starts < end) & (ends > start)
        weights[row, : len(offsets)] = (inside | ~real) if inside.any() else 1.0
    return weights


def pooled(hidden: npt.NDArray[np.float32], weights: npt.NDArray[np.float32]) -> Vectors:
    """The L2-normalised weighted means of one text's token states (``hidden``: tokens x
    dimensions) for each row of ``weights`` (spans x tokens)."""
    sums = weights @ hidden[: weights.shape[1]]
    means = sums / weights.sum(axis=1, keepdims=True)
    norms = np.linalg.norm(means, axis=1, keepdims=True)
    unit: Vectors = (means / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def pooled_rows(
    hidden: npt.NDArray[np.float32],
    offsets: Sequence[Sequence[tuple[int, int]]],
    spans: Sequence[Sequence[tuple[int, int]]],
) -> list[Vectors]:
    """For each row of a padded batch's token states, its spans' vectors (``pooled``)."""
    return [
        pooled(hidden[row], span_weights(row_offsets, row_spans, len(row_offsets)))
        for row, (row_offsets, row_spans) in enumerate(zip(offsets, spans, strict=True))
    ]
