from __future__ import annotations

from ogmem.index.embedders import PADDED_TOKENS_PER_ROW, _batches


def test_a_long_text_does_not_pad_a_batch_of_short_ones() -> None:
    token_ids = [[1] * 10 for _ in range(40)] + [[1] * 256]
    order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
    batches = _batches(order, token_ids, batch_size=32)
    assert sorted(i for batch in batches for i in batch) == list(range(41))
    assert batches[-1] == [40]
    for batch in batches:
        assert len(batch) <= 32
        longest = max(len(token_ids[i]) for i in batch)
        assert len(batch) == 1 or len(batch) * longest <= 32 * PADDED_TOKENS_PER_ROW
