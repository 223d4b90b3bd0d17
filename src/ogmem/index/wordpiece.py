"""Tokenising texts of any length in bounded memory, for a WordPiece (BERT) tokenizer.

A ``tokenizers.Tokenizer`` reads the whole text even when it truncates, and keeps every
token with its offsets: a 50 MB string cost 6.7 GB and 58 s, for a model that reads 256
tokens. Both functions here hand the tokenizer a bounded number of characters and give the
result of tokenising the whole text (the exceptions are stated where they apply).

Why a prefix gives the same tokens: the BERT pre-tokenizer splits at whitespace and
punctuation, and its normaliser works character by character, so cutting a text can only
change the last word before the cut; every token of an earlier word is the same as in the
whole text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Encoding, Tokenizer

# The first prefix read: max_tokens * 16 characters. English prose runs 4-5 characters per
# token, so the first prefix nearly always holds the tokens kept, with room to spare.
CHARS_PER_TOKEN_READ = 16
# The widest prefix read (prefixes double until then): 262,144 characters, ~35 MB of tokenizer
# memory. A text whose prefix this long yields fewer tokens than are kept is mostly blanks,
# control characters or words of over 100 characters (each a single [UNK]); it is embedded
# from that prefix, which is the only case where the result differs from the whole text's.
MAX_PREFIX_CHARS = 2**18
# count_tokens reads long texts in chunks of at most this many characters, cut at whitespace,
# COUNT_BATCH chunks per call (the tokenizer encodes a batch on all cores): at most 512k
# characters, ~70 MB of tokenizer memory, at a time.
COUNT_CHUNK_CHARS = 2**16
COUNT_BATCH = 8
# count_many hands the tokenizer short texts together, at most this many characters at a time
# (as many as ``count`` reads of a long text at once)
COUNT_BATCH_CHARS = COUNT_CHUNK_CHARS * COUNT_BATCH
_BLANKS = (" ", "\n", "\t", "\r")


def truncated_ids(tokenizer: Tokenizer, texts: Sequence[str], max_tokens: int) -> list[list[int]]:
    """The ids ``tokenizer`` (truncating to ``max_tokens``) gives each text, read from a prefix
    (``truncated_encodings``)."""
    return [encoding.ids for encoding in truncated_encodings(tokenizer, texts, max_tokens)]


def truncated_encodings(
    tokenizer: Tokenizer, texts: Sequence[str], max_tokens: int
) -> list[Encoding]:
    """The encoding ``tokenizer`` (truncating to ``max_tokens``) gives each text, read from a
    prefix; its offsets are the whole text's, since every prefix starts where the text does.

    Each text is read from its first ``max_tokens * 16`` characters; in the rare case that
    prefix is shorter than the text and yields too few tokens to be sure of the kept ones, the
    prefix doubles (up to MAX_PREFIX_CHARS). Texts are tokenised in batches, as given.
    """
    found: list[Encoding | None] = [None for _ in texts]
    pending = list(range(len(texts)))
    window = max_tokens * CHARS_PER_TOKEN_READ
    while pending:
        # a slice that covers the whole str is that str: short texts are not copied
        encodings = tokenizer.encode_batch([texts[i][:window] for i in pending])
        unsure: list[int] = []
        for index, encoding in zip(pending, encodings, strict=True):
            whole = len(texts[index]) <= window
            if whole or window >= MAX_PREFIX_CHARS or _kept_before_cut(encoding):
                found[index] = encoding
            else:
                unsure.append(index)
        pending, window = unsure, window * 2
    return [encoding for encoding in found if encoding is not None]


def _kept_before_cut(encoding: Encoding) -> bool:
    """True when the kept tokens all come from words before the prefix's last word, the only
    word the cut may have shortened; False if the prefix yields no more tokens than are kept."""
    if not encoding.overflowing:
        return False
    kept = [word for word in encoding.word_ids if word is not None]
    rest = [word for word in encoding.overflowing[-1].word_ids if word is not None]
    return bool(kept and rest) and kept[-1] < rest[-1]


def count(tokenizer: Tokenizer, text: str) -> int:
    """Tokens in ``text`` (no special tokens, no truncation), counted chunk by chunk.

    A text longer than COUNT_CHUNK_CHARS is cut at the last blank (space, newline, tab,
    carriage return) before each chunk's end, so no word is cut and the count is exact. Only a
    run of COUNT_CHUNK_CHARS characters without any blank is cut where the chunk ends, and
    the one word that cut splits is counted as two: a token or two more for an ordinary word
    (punctuation separates words too), up to ~200 for a word of over 100 characters (one
    [UNK] whole, its two parts tokenised). Memory: at most COUNT_BATCH chunks at a time.
    """
    if len(text) <= COUNT_CHUNK_CHARS:
        # encode_batch, even for one text: unlike encode, it lets go of the GIL while it
        # tokenises (~0.6 ms for 600 characters here), so a server's other threads run on;
        # counting held it for 7 % of the server's GIL time under the stress load
        (encoding,) = tokenizer.encode_batch([text], add_special_tokens=False)
        return len(encoding.ids)
    bounds = _chunks(text, COUNT_CHUNK_CHARS)
    total = 0
    for first in range(0, len(bounds), COUNT_BATCH):
        chunks = [text[start:end] for start, end in bounds[first : first + COUNT_BATCH]]
        encodings = tokenizer.encode_batch(chunks, add_special_tokens=False)
        total += sum(len(encoding.ids) for encoding in encodings)
    return total


def count_many(tokenizer: Tokenizer, texts: Sequence[str]) -> list[int]:
    """``count`` of each text: the short ones together, up to COUNT_BATCH_CHARS characters a
    call (on all cores, and without a call's own cost for each), each long one as ``count``
    reads it."""
    counts = [0] * len(texts)
    for batch in _short_batches(texts):
        encodings = tokenizer.encode_batch([texts[i] for i in batch], add_special_tokens=False)
        for index, encoding in zip(batch, encodings, strict=True):
            counts[index] = len(encoding.ids)
    for index, text in enumerate(texts):
        if len(text) > COUNT_CHUNK_CHARS:
            counts[index] = count(tokenizer, text)
    return counts


def _short_batches(texts: Sequence[str]) -> list[list[int]]:
    """The indexes of the texts of at most COUNT_CHUNK_CHARS characters, in order, cut into
    batches of at most COUNT_BATCH_CHARS characters."""
    batches: list[list[int]] = []
    batch: list[int] = []
    size = 0
    for index, text in enumerate(texts):
        if len(text) > COUNT_CHUNK_CHARS:
            continue
        if batch and size + len(text) > COUNT_BATCH_CHARS:
            batches.append(batch)
            batch, size = [], 0
        batch.append(index)
        size += len(text)
    if batch:
        batches.append(batch)
    return batches


def _chunks(text: str, size: int) -> list[tuple[int, int]]:
    bounds: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > size:
        blank = max(text.rfind(blank, start + 1, start + size) for blank in _BLANKS)
        end = blank if blank > start else start + size
        bounds.append((start, end))
        start = end
    bounds.append((start, len(text)))
    return bounds
