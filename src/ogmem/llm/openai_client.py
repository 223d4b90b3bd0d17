"""OpenAIClient: the LLMClient for OpenAI and OpenAI-compatible chat-completion endpoints.

The ``openai`` SDK is imported lazily so that ogmem imports without it. Every SDK error is
translated here into an ``errors.LLMError`` subclass; retries are the SDK's own (``max_retries``,
with backoff that honours the server's ``Retry-After`` headers).

Example::

    llm = OpenAIClient(base_url="http://localhost:11434/v1", model="qwen2.5", api_key="unused")
    llm.complete([{"role": "user", "content": "hello"}]).text
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ogmem.core import errors, ports
from ogmem.llm import sdk_errors

if TYPE_CHECKING:
    import httpx2
    import openai

DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2


class OpenAIClient:
    """Chat completion through the ``openai`` SDK.

    Parameters:
        base_url: the endpoint (e.g. ``http://localhost:8000/v1``); None uses the SDK default.
        model: the model name sent with every request.
        api_key: None lets the SDK read ``OPENAI_API_KEY``; servers without auth accept any value.
        timeout: seconds per attempt.
        max_retries: retries after the first attempt, for connection errors, timeouts, 408, 409,
            429 and 5xx.
        http_client: an ``httpx2.Client`` to send requests through (tests pass a mock transport).

    Raises:
        errors.ConfigurationError: the SDK is not installed, or no API key could be found.
    """

    def __init__(
        self,
        *,
        base_url: str | None,
        model: str,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx2.Client | None = None,
    ) -> None:
        self._client: openai.OpenAI = sdk_errors.make_client(
            "the OpenAI client", base_url=base_url, api_key=api_key, timeout=timeout,
            max_retries=max_retries, http_client=http_client,
        )  # fmt: skip
        self._model = model
        self._timeout = timeout

    @property
    def model(self) -> str:
        return self._model

    def __repr__(self) -> str:
        return f"OpenAIClient(base_url={str(self._client.base_url)!r}, model={self._model!r})"

    def close(self) -> None:
        """Release the HTTP connections (including those of a caller-supplied http_client)."""
        self._client.close()

    def complete(
        self,
        messages: Sequence[ports.ChatMessage],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        temperature: float = 0.0,
    ) -> ports.LLMResponse:
        request = self._request(messages, tools, json_schema, temperature)
        with self._translate_errors():
            completion = self._client.chat.completions.create(**request)
        return _to_response(completion)

    def _request(
        self,
        messages: Sequence[ports.ChatMessage],
        tools: Sequence[Mapping[str, Any]] | None,
        json_schema: Mapping[str, Any] | None,
        temperature: float,
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "model": self._model,
            "messages": [dict(message) for message in messages],
            "temperature": temperature,
        }
        if tools:
            request["tools"] = [dict(tool) for tool in tools]
        if json_schema is not None:
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "response", "schema": dict(json_schema)},
            }
        return request

    def _translate_errors(self) -> contextlib.AbstractContextManager[None]:
        return sdk_errors.translated(f"LLM {self._model!r}", "LLM", self._client, self._timeout)


def _to_response(completion: object) -> ports.LLMResponse:
    # Typed as object: with a non-JSON body the SDK hands back a plain string, not a completion.
    choices = getattr(completion, "choices", None)
    if not choices:
        raise errors.LLMResponseError("LLM response has no choices")
    message = getattr(choices[0], "message", None)
    if message is None:
        raise errors.LLMResponseError("LLM response choice has no message")
    tool_calls = getattr(message, "tool_calls", None) or ()
    return ports.LLMResponse(
        text=getattr(message, "content", None) or "",
        tool_calls=tuple(_to_tool_call(call) for call in tool_calls),
        usage=_to_usage(getattr(completion, "usage", None)),
    )


def _to_tool_call(call: Any) -> ports.ToolCall:
    # Function tools carry JSON arguments; custom tools carry free-form input.
    if getattr(call, "type", "function") == "custom":
        name, raw = call.custom.name, call.custom.input
    else:
        name, raw = call.function.name, call.function.arguments
    raw = raw or ""
    return ports.ToolCall(
        name=name, arguments=_parse_arguments(raw), raw_arguments=raw, id=call.id or ""
    )


def _parse_arguments(raw: str) -> dict[str, Any] | None:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _to_usage(usage: Any) -> ports.TokenUsage:
    if usage is None:
        return ports.TokenUsage()
    return ports.TokenUsage(
        prompt_tokens=getattr(usage, "prompt_tokens", None) or 0,
        completion_tokens=getattr(usage, "completion_tokens", None) or 0,
    )
