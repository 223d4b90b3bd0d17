from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ogmem.index.embedders import PADDED_TOKENS_PER_ROW, RUN_OVERHEAD_TOKENS, _batches


def _cut(lengths: list[int], batch_size: int = 32) -> list[list[int]]:
    token_ids = [[1] * n for n in lengths]
    order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
    return _batches(order, token_ids, batch_size)


def _cost(lengths: list[int], batches: list[list[int]]) -> int:
    padded = sum(len(batch) * max(lengths[i] for i in batch) for batch in batches)
    return padded + RUN_OVERHEAD_TOKENS * len(batches)


def _filled(lengths: list[int], batch_size: int) -> list[list[int]]:
    """The former rule: fill each batch up to the row and token limits."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    for index in order:
        current = batches[-1] if batches else []
        full = len(current) >= batch_size
        over = (len(current) + 1) * lengths[index] > batch_size * PADDED_TOKENS_PER_ROW
        if not current or full or over:
            batches.append([index])
        else:
            current.append(index)
    return batches


def test_a_long_text_does_not_pad_a_batch_of_short_ones() -> None:
    batches = _cut([10] * 40 + [256])

    assert sorted(i for batch in batches for i in batch) == list(range(41))
    assert batches[-1] == [40]
    for batch in batches:
        assert len(batch) <= 32


def test_short_and_long_texts_are_not_padded_together() -> None:
    lengths = [5] * 16 + [40] * 16  # one batch of 32 would pad the short half eightfold

    assert _cut(lengths) == [list(range(16)), list(range(16, 32))]


@given(st.lists(st.integers(1, 256), max_size=150), st.sampled_from([1, 4, 32]))
def test_batches_keep_the_limits_and_pad_no_more_than_filling_them(
    lengths: list[int], batch_size: int
) -> None:
    batches = _cut(lengths, batch_size)

    assert sorted(i for batch in batches for i in batch) == list(range(len(lengths)))
    for batch in batches:
        longest = max(lengths[i] for i in batch)
        assert len(batch) <= batch_size
        assert len(batch) == 1 or len(batch) * longest <= batch_size * PADDED_TOKENS_PER_ROW
    assert _cost(lengths, batches) <= _cost(lengths, _filled(lengths, batch_size))
