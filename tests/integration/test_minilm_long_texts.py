"""Long texts with the real MiniLM tokenizer: a bounded prefix gives the whole text's tokens."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest

from ogmem.index import embedders, wordpiece

ROW_TOLERANCE = 1e-5  # as in test_minilm_embedder: the same tokens give the same row
MAX_TOKENS = embedders.MINILM_MAX_TOKENS
FIRST_WINDOW = MAX_TOKENS * wordpiece.CHARS_PER_TOKEN_READ
PROSE = "Caroline went to the LGBTQ support group yesterday; it was so powerful! "


def _cut_word_at_window_end() -> str:
    """253 one-token words in the first window, then a word the window's end cuts in two:
    the tokens kept reach the cut word, so the prefix alone would give other ids."""
    words = " ".join(["a"] * 253)
    padding = " " * (FIRST_WINDOW - len(words) - 3)  # the window ends after "tog"
    return words + padding + "together again " + PROSE * 20  # "tog" is "to ##g"


LONG_TEXTS = {
    "prose": PROSE * 3000,  # 216k characters, the tokens kept are in the first window
    "blank-start": " \n" * 4000 + PROSE * 200,  # the first window holds no token at all
    "long-words": " ".join(["x" * 150] * 2000),  # each word one [UNK]: 151 chars a token
    "cjk": "我们去了海边然后吃了晚饭" * 2000,  # no blanks; each character is a word
    "no-blanks": "a.b-c/d:e_f" * 4000,  # punctuation only separates
    "cut-word": _cut_word_at_window_end(),
}


@pytest.fixture(scope="module")
def reference() -> Any:
    """A tokenizer of our own, truncating, that reads each text whole (the old behaviour)."""
    truncating, _ = embedders._load_tokenizers(MAX_TOKENS)
    return truncating


@pytest.fixture(scope="module")
def counting() -> Any:
    _, counter = embedders._load_tokenizers(MAX_TOKENS)
    return counter


@pytest.mark.parametrize("name", list(LONG_TEXTS))
def test_a_prefix_gives_the_ids_of_the_whole_text(name: str, reference: Any) -> None:
    text = LONG_TEXTS[name]

    (ids,) = wordpiece.truncated_ids(reference, [text], MAX_TOKENS)

    assert ids == reference.encode(text).ids
    assert len(ids) == MAX_TOKENS


def test_the_cut_word_case_needs_the_wider_prefix(reference: Any) -> None:
    """Guards the test above: reading only the first window would give other ids."""
    text = LONG_TEXTS["cut-word"]

    first_window = reference.encode(text[:FIRST_WINDOW]).ids

    assert first_window != reference.encode(text).ids


def test_long_texts_embed_as_if_tokenised_whole(reference: Any) -> None:
    embedder = embedders.MiniLMEmbedder()
    texts = [*LONG_TEXTS.values(), "a short one", PROSE]

    vectors = embedder.embed(texts)

    session = embedder._loaded_session()
    for text, vector in zip(texts, vectors, strict=True):
        hidden, mask = embedders._hidden(session, [reference.encode(text).ids])
        expected = embedders.normalise(embedders._mean_pool(hidden, mask))[0]
        np.testing.assert_allclose(vector, expected, rtol=0, atol=ROW_TOLERANCE)


def test_beyond_the_widest_prefix_the_prefix_is_what_counts(reference: Any) -> None:
    """The documented exception: a text mostly blank for longer than MAX_PREFIX_CHARS."""
    text = "hello " + " " * wordpiece.MAX_PREFIX_CHARS + "world"

    (ids,) = wordpiece.truncated_ids(reference, [text], MAX_TOKENS)

    assert ids == reference.encode("hello").ids


@pytest.mark.parametrize("name", ["prose", "blank-start", "long-words", "cjk", "cut-word"])
def test_counting_in_chunks_is_exact_when_blanks_separate_them(name: str, counting: Any) -> None:
    text = LONG_TEXTS[name] * (wordpiece.COUNT_CHUNK_CHARS // len(LONG_TEXTS[name]) + 2)

    assert len(text) > wordpiece.COUNT_CHUNK_CHARS
    assert wordpiece.count(counting, text) == len(counting.encode(text).ids) - 2  # [CLS] [SEP]


def test_counting_many_gives_each_text_its_own_count(counting: Any) -> None:
    texts = ["", "hello world", LONG_TEXTS["prose"], "Hello, world!", LONG_TEXTS["cut-word"]]
    texts += [PROSE * 800 + f" number {i}" for i in range(12)]  # 58k characters each

    counts = wordpiece.count_many(counting, texts)

    assert counts == [wordpiece.count(counting, text) for text in texts]
    assert counts[:2] == [0, 2]


def test_counting_many_hands_the_tokenizer_a_bounded_number_of_characters_at_a_time(
    counting: Any,
) -> None:
    calls: list[list[int]] = []

    class CallSpy:
        def encode_batch(self, texts: Sequence[str], **options: Any) -> Any:
            calls.append([len(text) for text in texts])
            return counting.encode_batch(texts, **options)

    texts = [PROSE * 800] * 20 + [PROSE * 3000]  # 20 x 58k characters, then one of 216k

    counts = wordpiece.count_many(CallSpy(), texts)  # type: ignore[arg-type]

    assert counts == [wordpiece.count(counting, text) for text in texts]
    assert len(calls) > 3  # the short texts took more than one call
    assert all(sum(call) <= wordpiece.COUNT_BATCH_CHARS for call in calls)
    assert max(max(call) for call in calls) <= wordpiece.COUNT_CHUNK_CHARS


def test_counting_a_run_without_blanks_is_off_by_at_most_two_per_cut(counting: Any) -> None:
    text = LONG_TEXTS["no-blanks"] * 4  # 176k characters without a blank: two cuts
    exact = len(counting.encode(text, add_special_tokens=False).ids)

    counted = wordpiece.count(counting, text)

    cuts = len(text) // wordpiece.COUNT_CHUNK_CHARS
    assert abs(counted - exact) <= 2 * cuts


class _Spy:
    """Wraps a tokenizer and records how many characters each call is handed per text."""

    def __init__(self, tokenizer: Any, seen: list[int]) -> None:
        self._tokenizer = tokenizer
        self._seen = seen

    def encode(self, text: str, **options: Any) -> Any:
        self._seen.append(len(text))
        return self._tokenizer.encode(text, **options)

    def encode_batch(self, texts: Sequence[str], **options: Any) -> Any:
        self._seen.extend(len(text) for text in texts)
        return self._tokenizer.encode_batch(texts, **options)


@pytest.fixture
def spied(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[list[int], list[int]]]:
    """The lengths handed to the truncating and to the counting tokenizer."""
    load = embedders._load_tokenizers
    truncated: list[int] = []
    counted: list[int] = []

    def spying(max_tokens: int) -> tuple[Any, Any]:
        truncating, counting = load(max_tokens)
        return _Spy(truncating, truncated), _Spy(counting, counted)

    monkeypatch.setattr(embedders, "_load_tokenizers", spying)
    yield truncated, counted


def test_the_tokenizer_is_never_handed_the_whole_of_a_long_text(
    spied: tuple[list[int], list[int]],
) -> None:
    truncated, counted = spied
    embedder = embedders.MiniLMEmbedder()
    huge = PROSE * 70_000  # 5 MB
    blank = " " * 1_000_000 + "word"

    embedder.embed([huge, "short", blank])
    tokens = embedder.count_tokens(huge)
    many = embedder.count_tokens_many(["short", huge, blank])

    assert tokens > 1_000_000
    assert many == [1, tokens, 1]
    assert max(truncated) <= wordpiece.MAX_PREFIX_CHARS
    assert len(truncated) <= 3 + 7  # the first prefix of each, then doublings of the blank one
    assert max(counted) <= wordpiece.COUNT_CHUNK_CHARS
