"""Pooling stretches of a text from one run over it: which tokens each stretch takes."""

from __future__ import annotations

import numpy as np

from ogmem.index.late_chunks import pooled, span_weights

# "[CLS] hello world . bye [SEP]" over "hello world. bye", then one padded position
OFFSETS = [(0, 0), (0, 5), (6, 11), (11, 12), (13, 16), (0, 0)]
WIDTH = 7


def test_a_stretch_takes_the_tokens_it_overlaps_and_the_special_tokens() -> None:
    weights = span_weights(OFFSETS, [(0, 12), (13, 16), (3, 8)], WIDTH)

    assert weights.tolist() == [
        [1, 1, 1, 1, 0, 1, 0],  # "hello world."
        [1, 0, 0, 0, 1, 1, 0],  # "bye"
        [1, 1, 1, 0, 0, 1, 0],  # "lo wo": a token cut by the stretch counts
    ]


def test_the_whole_text_takes_every_token_it_read_and_no_padding() -> None:
    (row,) = span_weights(OFFSETS, [(0, 16)], WIDTH)

    assert row.tolist() == [1, 1, 1, 1, 1, 1, 0]


def test_a_stretch_the_model_did_not_read_gets_the_whole_texts_mean() -> None:
    """Cut off by truncation (past the last token kept), or only blanks."""
    weights = span_weights(OFFSETS, [(40, 50), (12, 13)], WIDTH)

    assert weights.tolist() == [[1, 1, 1, 1, 1, 1, 0]] * 2


def test_pooled_vectors_are_unit_means_of_their_tokens() -> None:
    hidden = np.array([[1, 0], [3, 0], [0, 2], [5, 5]], dtype=np.float32)  # last: padding
    weights = np.array([[1, 1, 0, 0], [0, 0, 1, 0]], dtype=np.float32)

    vectors = pooled(hidden, weights)

    np.testing.assert_allclose(vectors, [[1, 0], [0, 1]], atol=1e-6)
    assert vectors.dtype == np.float32
