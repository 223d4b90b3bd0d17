"""VectorLRU: bounded, least recently used out first, copies kept apart from their batch."""

from __future__ import annotations

import numpy as np
import pytest

from ogmem.index.records import Part
from ogmem.index.vector_lru import VectorLRU


def _vector(value: float) -> np.ndarray:
    return np.full(4, value, dtype=np.float32)


def test_the_least_recently_used_text_goes_first() -> None:
    recent = VectorLRU(2)
    recent.put("a", _vector(1))
    recent.put("b", _vector(2))
    assert recent.get("a") is not None  # "a" is now the most recent
    recent.put("c", _vector(3))

    assert len(recent) == 2
    assert recent.get("b") is None
    assert recent.get("a") is not None and recent.get("c") is not None


def test_a_text_past_the_limit_is_not_kept() -> None:
    recent = VectorLRU(8, max_text_chars=10)
    recent.put("x" * 11, _vector(1))
    recent.put("x" * 10, _vector(2))

    assert recent.get("x" * 11) is None
    assert recent.get("x" * 10) is not None


def test_a_kept_vector_is_a_read_only_copy_not_a_view_of_its_batch() -> None:
    batch = np.arange(12, dtype=np.float32).reshape(3, 4)
    recent = VectorLRU(8)
    recent.put("row", batch[1])
    batch[1] = 0

    kept = recent.get("row")
    assert kept is not None and kept.base is None  # holds nothing of the batch's matrix
    np.testing.assert_array_equal(kept, [4, 5, 6, 7])
    with pytest.raises(ValueError):
        kept[0] = 1


def test_capacity_zero_keeps_nothing() -> None:
    recent = VectorLRU(0)
    recent.put("a", _vector(1))
    assert recent.get("a") is None and len(recent) == 0


def test_a_part_is_kept_apart_from_its_text_and_bounded_by_the_whole() -> None:
    """A part's vector depends on the text it was read in: it is its own entry, and the
    limit counts that whole text."""
    recent = VectorLRU(8, max_text_chars=10)
    recent.put("Hi. There.", _vector(1))
    recent.put(Part("Hi. There.", 0, 3), _vector(2))
    recent.put(Part("Hi. There, you.", 0, 3), _vector(3))

    assert recent.get("Hi. There.") is not None and recent.get("Hi. There.")[0] == 1
    part = recent.get(Part("Hi. There.", 0, 3))
    assert part is not None and part[0] == 2
    assert recent.get(Part("Hi. There, you.", 0, 3)) is None  # its whole is past the limit
