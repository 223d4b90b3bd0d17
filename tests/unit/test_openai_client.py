"""OpenAIClient against canned chat-completion answers; no network (httpx2 MockTransport)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from ogmem.core import errors, ports
from ogmem.llm import openai_client
from tests.fake_openai import Endpoint, Handler

API_KEY = "sk-test-0123456789secret"
# A 1 ms server-directed delay keeps the SDK's retries fast; it ignores "retry-after-ms: 0" and
# falls back to its exponential backoff (0.5 s and up).
FAST_RETRY = {"retry-after-ms": "1"}

ClientFactory = Callable[..., tuple[openai_client.OpenAIClient, Endpoint]]


@pytest.fixture
def make_client() -> Iterator[ClientFactory]:
    opened: list[openai_client.OpenAIClient] = []

    def make(
        handler: Handler, *, max_retries: int = 0, **kwargs: Any
    ) -> tuple[openai_client.OpenAIClient, Endpoint]:
        endpoint = Endpoint(handler)
        client = openai_client.OpenAIClient(
            base_url="http://llm.test/v1",
            model="test-model",
            api_key=API_KEY,
            max_retries=max_retries,
            http_client=endpoint.http_client(),
            **kwargs,
        )
        opened.append(client)
        return client, endpoint

    yield make
    for client in opened:
        client.close()


def completion(message: dict[str, Any], usage: dict[str, int] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "test-model",
        "choices": [
            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", **message}}
        ],
    }
    if usage is not None:
        body["usage"] = {**usage, "total_tokens": sum(usage.values())}
    return body


def answer(body: dict[str, Any], status: int = 200, **headers: str) -> Handler:
    return lambda request: httpx2.Response(status, json=body, headers=headers)


def function_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def error_body(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error"}}


MESSAGES: list[ports.ChatMessage] = [
    {"role": "system", "content": "be brief"},
    {"role": "user", "content": "hello"},
]


def test_text_answer(make_client: ClientFactory) -> None:
    client, _ = make_client(answer(completion({"content": "hi there"})))

    response = client.complete(MESSAGES)

    assert response == ports.LLMResponse(text="hi there")


def test_request_body_carries_model_messages_and_temperature(make_client: ClientFactory) -> None:
    client, endpoint = make_client(answer(completion({"content": "ok"})))

    client.complete(MESSAGES, temperature=0.3)

    request = endpoint.requests[-1]
    assert (request.method, request.url.path) == ("POST", "/v1/chat/completions")
    assert endpoint.last_body == {"model": "test-model", "messages": MESSAGES, "temperature": 0.3}


def test_json_schema_is_sent_as_response_format(make_client: ClientFactory) -> None:
    client, endpoint = make_client(answer(completion({"content": '{"a": 1}'})))
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}

    client.complete(MESSAGES, json_schema=schema)

    assert endpoint.last_body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "response", "schema": schema},
    }
    assert "tools" not in endpoint.last_body


def test_tool_call_answers_parse_arguments(make_client: ClientFactory) -> None:
    calls = [
        function_call("call_1", "remember", '{"fact": "likes tea"}'),
        function_call("call_2", "broken", '{"fact": '),
        function_call("call_3", "not_object", "[1, 2]"),
        {"id": "call_4", "type": "custom", "custom": {"name": "free", "input": "raw text"}},
    ]
    client, endpoint = make_client(answer(completion({"content": None, "tool_calls": calls})))
    tools = [{"type": "function", "function": {"name": "remember", "parameters": {}}}]

    response = client.complete(MESSAGES, tools=tools)

    assert endpoint.last_body["tools"] == tools
    assert response.text == ""
    assert response.tool_calls == (
        ports.ToolCall("remember", {"fact": "likes tea"}, '{"fact": "likes tea"}', "call_1"),
        ports.ToolCall("broken", None, '{"fact": ', "call_2"),
        ports.ToolCall("not_object", None, "[1, 2]", "call_3"),
        ports.ToolCall("free", None, "raw text", "call_4"),
    )


def test_usage_is_mapped(make_client: ClientFactory) -> None:
    usage = {"prompt_tokens": 12, "completion_tokens": 5}
    client, _ = make_client(answer(completion({"content": "x"}, usage=usage)))

    response = client.complete(MESSAGES)

    assert response.usage == ports.TokenUsage(prompt_tokens=12, completion_tokens=5)
    assert response.usage.total_tokens == 17


def test_missing_usage_is_zero(make_client: ClientFactory) -> None:
    client, _ = make_client(answer(completion({"content": "x"})))

    assert client.complete(MESSAGES).usage == ports.TokenUsage()


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_retry_then_raise_unavailable(
    make_client: ClientFactory, status: int
) -> None:
    client, endpoint = make_client(
        answer(error_body("overloaded"), status=status, **FAST_RETRY), max_retries=2
    )

    with pytest.raises(errors.LLMUnavailable, match=f"HTTP {status}") as caught:
        client.complete(MESSAGES)

    assert len(endpoint.requests) == 3
    assert "overloaded" in str(caught.value)


def test_retry_succeeds_after_a_transient_error(make_client: ClientFactory) -> None:
    answers = iter(
        [
            httpx2.Response(502, json=error_body("bad gateway"), headers=FAST_RETRY),
            httpx2.Response(200, json=completion({"content": "recovered"})),
        ]
    )
    client, endpoint = make_client(lambda request: next(answers), max_retries=2)

    assert client.complete(MESSAGES).text == "recovered"
    assert len(endpoint.requests) == 2


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_raise_llm_error_naming_the_status(
    make_client: ClientFactory, status: int
) -> None:
    client, endpoint = make_client(
        answer(error_body("unknown parameter"), status=status), max_retries=2
    )

    with pytest.raises(errors.LLMError, match=f"HTTP {status}.*unknown parameter") as caught:
        client.complete(MESSAGES)

    assert type(caught.value) is errors.LLMError
    assert isinstance(caught.value.__cause__, Exception)
    assert len(endpoint.requests) == 1


def test_api_key_never_appears_in_errors(make_client: ClientFactory) -> None:
    message = f"Incorrect API key provided: {API_KEY}. Also sk-ab****cd."
    client, _ = make_client(answer(error_body(message), status=401))

    with pytest.raises(errors.LLMError) as caught:
        client.complete(MESSAGES)

    text = str(caught.value)
    assert "HTTP 401" in text
    assert API_KEY not in text
    assert "sk-ab" not in text
    assert API_KEY not in repr(client)


def test_timeout_raises_llm_timeout(make_client: ClientFactory) -> None:
    def slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    client, endpoint = make_client(slow, timeout=7.5)

    with pytest.raises(errors.LLMTimeout, match=r"7\.5s"):
        client.complete(MESSAGES)
    assert len(endpoint.requests) == 1


def test_connection_error_raises_unavailable(make_client: ClientFactory) -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    client, _ = make_client(refuse)

    with pytest.raises(errors.LLMUnavailable, match=r"llm\.test"):
        client.complete(MESSAGES)


@pytest.mark.parametrize(
    "body",
    [
        {"id": "chatcmpl-1", "object": "chat.completion", "model": "m", "choices": []},
        {"error": "the proxy swallowed it"},
    ],
)
def test_no_choices_raises_response_error(make_client: ClientFactory, body: Any) -> None:
    client, _ = make_client(answer(body))

    with pytest.raises(errors.LLMResponseError, match="no choices"):
        client.complete(MESSAGES)


def test_non_json_body_raises_response_error(make_client: ClientFactory) -> None:
    client, _ = make_client(lambda request: httpx2.Response(200, text="<html>gateway</html>"))

    with pytest.raises(errors.LLMResponseError):
        client.complete(MESSAGES)


def test_model_property_and_port(make_client: ClientFactory) -> None:
    client, _ = make_client(answer(completion({"content": "ok"})))
    port: ports.LLMClient = client

    assert client.model == "test-model"
    assert port.complete(MESSAGES).text == "ok"


def test_missing_api_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)

    with pytest.raises(errors.ConfigurationError, match="cannot configure the OpenAI client"):
        openai_client.OpenAIClient(base_url="http://llm.test/v1", model="m")


def test_missing_sdk_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openai", None)

    with pytest.raises(errors.ConfigurationError, match="pip install"):
        openai_client.OpenAIClient(base_url=None, model="m", api_key=API_KEY)
