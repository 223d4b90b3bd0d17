from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ogmem.core import errors, ports
from ogmem.llm import scripted


def user(text: str) -> list[ports.ChatMessage]:
    return [{"role": "system", "content": "be brief"}, {"role": "user", "content": text}]


def test_answers_in_script_order() -> None:
    response = ports.LLMResponse(text="two", tool_calls=(ports.ToolCall("f", {"a": 1}),))
    llm = scripted.ScriptedLLM(["one", response])

    assert llm.complete(user("a")).text == "one"
    assert llm.complete(user("b")) is response


def test_text_answers_estimate_usage_at_four_chars_per_token() -> None:
    llm = scripted.ScriptedLLM(["x" * 40])

    usage = llm.complete([{"role": "user", "content": "y" * 20}]).usage

    assert (usage.prompt_tokens, usage.completion_tokens) == (5, 10)


def test_exceptions_are_raised_as_they_are() -> None:
    timeout = errors.LLMTimeout()
    crash = RuntimeError("worker died")
    llm = scripted.ScriptedLLM([timeout, crash, KeyboardInterrupt()])

    with pytest.raises(errors.LLMTimeout) as caught:
        llm.complete(user("a"))
    assert caught.value is timeout
    with pytest.raises(RuntimeError, match="worker died"):
        llm.complete(user("b"))
    with pytest.raises(KeyboardInterrupt):
        llm.complete(user("c"))


def test_callable_steps_receive_the_messages() -> None:
    llm = scripted.ScriptedLLM([lambda messages: f"echo {messages[-1]['content']}"])

    assert llm.complete(user("hi")).text == "echo hi"


def test_callable_steps_may_raise_or_return_an_exception() -> None:
    def boom(messages: list[ports.ChatMessage]) -> scripted.Step:
        raise errors.LLMUnavailable("down")

    llm = scripted.ScriptedLLM([boom, lambda messages: errors.LLMTimeout()])

    with pytest.raises(errors.LLMUnavailable):
        llm.complete(user("a"))
    with pytest.raises(errors.LLMTimeout):
        llm.complete(user("b"))


def test_responder_answers_once_the_script_is_exhausted() -> None:
    llm = scripted.ScriptedLLM(["scripted"], responder=lambda messages: f"n={len(messages)}")

    assert [llm.complete(user("a")).text for _ in range(3)] == ["scripted", "n=2", "n=2"]


def test_exhausted_script_without_responder_raises_llm_response_error() -> None:
    llm = scripted.ScriptedLLM(["one", "two"])
    llm.complete(user("a"))
    llm.complete(user("b"))

    with pytest.raises(errors.LLMResponseError, match="exhausted after 2 calls"):
        llm.complete(user("c"))
    assert len(llm.calls) == 3


def test_empty_script_without_responder_raises() -> None:
    with pytest.raises(errors.LLMResponseError, match="exhausted after 0 calls"):
        scripted.ScriptedLLM().complete(user("a"))


def test_records_calls_with_a_snapshot_of_the_messages() -> None:
    llm = scripted.ScriptedLLM(["ok"])
    messages = [{"role": "user", "content": "before"}]
    tools = [{"type": "function", "function": {"name": "f"}}]
    schema = {"type": "object"}

    llm.complete(messages, tools=tools, json_schema=schema, temperature=0.7)
    messages[0]["content"] = "after"

    assert llm.calls == [
        scripted.ScriptedCall(
            messages=({"role": "user", "content": "before"},),
            tools=({"type": "function", "function": {"name": "f"}},),
            json_schema={"type": "object"},
            temperature=0.7,
        )
    ]


def test_prompts_are_the_last_user_message_of_each_call() -> None:
    llm = scripted.ScriptedLLM(responder=lambda messages: "ok")
    parts = [{"type": "text", "text": "part one, "}, {"type": "image_url"}, {"text": "two"}]

    llm.complete(user("first"))
    llm.complete([*user("old"), {"role": "assistant", "content": "x"}, *user("second")])
    llm.complete([{"role": "user", "content": parts}])
    llm.complete([{"role": "system", "content": "no user"}])

    assert llm.prompts == ["first", "second", "part one, two", ""]


def test_push_appends_and_reset_restores_the_script() -> None:
    llm = scripted.ScriptedLLM(["one"])
    llm.push("two", "three")

    assert [llm.complete(user("a")).text for _ in range(2)] == ["one", "two"]
    assert llm.remaining == 1

    llm.reset()

    assert llm.calls == []
    assert llm.remaining == 1
    assert llm.complete(user("a")).text == "one"
    with pytest.raises(errors.LLMResponseError, match="exhausted after 1 calls"):
        llm.complete(user("b"))


def test_delay_sleeps_before_answering() -> None:
    llm = scripted.ScriptedLLM(["slow"], delay=0.05)

    started = time.monotonic()
    llm.complete(user("a"))

    assert time.monotonic() - started >= 0.05


def test_bad_step_type_is_a_type_error() -> None:
    llm = scripted.ScriptedLLM([lambda messages: 42])  # type: ignore[list-item,return-value]

    with pytest.raises(TypeError, match="must be str, LLMResponse or an exception"):
        llm.complete(user("a"))


def test_concurrent_calls_consume_each_step_once() -> None:
    steps = [f"answer {i}" for i in range(200)]
    llm = scripted.ScriptedLLM(steps)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda i: llm.complete(user(str(i))).text, range(200)))

    assert sorted(answers) == sorted(steps)
    assert len(llm.calls) == 200
    assert sorted(llm.prompts, key=int) == [str(i) for i in range(200)]


def test_delay_and_callable_steps_do_not_hold_the_lock() -> None:
    # Both callers must be inside their step at once, which a held lock would prevent.
    both_inside = threading.Barrier(2, timeout=5)

    def meet(messages: list[ports.ChatMessage]) -> scripted.Step:
        both_inside.wait()
        return "met"

    llm = scripted.ScriptedLLM([meet, meet], delay=0.01)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: llm.complete(user("a")).text, range(2)))

    assert answers == ["met", "met"]


def test_satisfies_the_llm_client_port() -> None:
    client: ports.LLMClient = scripted.ScriptedLLM(["ok"])

    assert client.complete(user("a")).text == "ok"
