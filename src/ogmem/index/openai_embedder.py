"""OpenAIEmbedder: the Embedder for OpenAI and OpenAI-compatible ``/embeddings`` endpoints.

The ``openai`` SDK is imported lazily so that ogmem imports without it. Every SDK error is
translated here into an ``errors.LLMError`` subclass, the same way ``llm.openai_client`` does
for chat; retries are the SDK's own (``max_retries``, honouring ``Retry-After``).

Example::

    embedder = OpenAIEmbedder(base_url=None, model="text-embedding-3-small", dimensions=512)
    embedder.embed(["hello"]).shape  # (1, 512)
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ogmem.core import errors
from ogmem.index import embedders
from ogmem.llm import sdk_errors

if TYPE_CHECKING:
    import httpx2
    import openai

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
# OpenAI accepts up to 2048 inputs per request; smaller batches keep each request well inside
# the 300k-tokens-per-request limit and the timeout.
DEFAULT_BATCH_SIZE = 256


class OpenAIEmbedder:
    """Embeddings through the ``openai`` SDK, in batches of ``batch_size`` texts.

    Parameters:
        base_url: the endpoint (e.g. ``http://localhost:11434/v1``); None uses the SDK default.
        model: the embedding model name sent with every request.
        dimensions: the vector size; every returned vector is checked against it.
        api_key: None lets the SDK read ``OPENAI_API_KEY``; servers without auth accept any value.
        timeout: seconds per attempt.
        max_retries: retries after the first attempt, for connection errors, timeouts, 408, 409,
            429 and 5xx.
        batch_size: texts per request.
        send_dimensions: send ``dimensions`` in the request, so the model shortens its vectors
            (``text-embedding-3`` and later); turn off for models that refuse the parameter.
        http_client: an ``httpx2.Client`` to send requests through (tests pass a mock transport).

    ``model_id`` is ``"<model>@<dimensions>"``: shortened vectors are a space of their own.
    ``count_tokens`` is an estimate (about four characters per token), not the model's count.

    Raises:
        errors.ConfigurationError: invalid parameters, no SDK, or no API key could be found.
    """

    def __init__(
        self,
        *,
        base_url: str | None,
        model: str,
        dimensions: int,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        batch_size: int = DEFAULT_BATCH_SIZE,
        send_dimensions: bool = True,
        http_client: httpx2.Client | None = None,
    ) -> None:
        if dimensions < 1 or batch_size < 1:
            raise errors.ConfigurationError(
                f"dimensions and batch_size must be at least 1, got {dimensions} and {batch_size}"
            )
        self._client: openai.OpenAI = sdk_errors.make_client(
            "the OpenAI embedding client", base_url=base_url, api_key=api_key, timeout=timeout,
            max_retries=max_retries, http_client=http_client,
        )  # fmt: skip
        self._model = model
        self._dimensions = dimensions
        self._timeout = timeout
        self._batch_size = batch_size
        self._send_dimensions = send_dimensions

    @property
    def model_id(self) -> str:
        return f"{self._model}@{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def __repr__(self) -> str:
        return (
            f"OpenAIEmbedder(base_url={str(self._client.base_url)!r}, model={self._model!r}, "
            f"dimensions={self._dimensions})"
        )

    def close(self) -> None:
        """Release the HTTP connections (including those of a caller-supplied http_client)."""
        self._client.close()

    def embed(self, texts: Sequence[str]) -> embedders.Vectors:
        texts = embedders.text_list(texts)
        vectors = np.zeros((len(texts), self._dimensions), dtype=np.float32)
        for start in range(0, len(texts), self._batch_size):
            batch = texts[start : start + self._batch_size]
            vectors[start : start + len(batch)] = self._embed_batch(batch)
        return embedders.normalise(vectors)

    def count_tokens(self, text: str) -> int:
        """An estimate: about four characters per token for English text."""
        return len(text) // 4 + 1

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        request: dict[str, Any] = {
            "model": self._model,
            "input": batch,
            # The SDK asks for base64 unless told otherwise; plain floats are what every
            # OpenAI-compatible server supports.
            "encoding_format": "float",
        }
        if self._send_dimensions:
            request["dimensions"] = self._dimensions
        with self._translate_errors():
            response = self._client.embeddings.create(**request)
        return self._ordered_vectors(response, len(batch))

    def _ordered_vectors(self, response: object, expected: int) -> list[list[float]]:
        # Typed as object: with a non-JSON body the SDK hands back a plain string.
        data = getattr(response, "data", None)
        if not isinstance(data, list) or len(data) != expected:
            count = len(data) if isinstance(data, list) else "no"
            raise errors.LLMResponseError(
                f"embedding endpoint sent {count} vectors for {expected} texts"
            )
        by_index = {getattr(item, "index", None): item for item in data}
        if set(by_index) != set(range(expected)):
            raise errors.LLMResponseError(
                f"embedding endpoint sent indexes {sorted(map(str, by_index))}, "
                f"expected 0..{expected - 1}"
            )
        return [self._checked(by_index[i]) for i in range(expected)]

    def _checked(self, item: object) -> list[float]:
        vector = getattr(item, "embedding", None)
        if not isinstance(vector, list) or len(vector) != self._dimensions:
            got = len(vector) if isinstance(vector, list) else type(vector).__name__
            raise errors.LLMResponseError(
                f"embedding model {self._model!r} sent a vector of {got} dimensions, "
                f"expected {self._dimensions}"
            )
        return vector

    def _translate_errors(self) -> contextlib.AbstractContextManager[None]:
        return sdk_errors.translated(
            f"embedding model {self._model!r}", "embedding", self._client, self._timeout
        )
