"""ScriptedLLM: an in-process LLMClient that answers from a script, for tests and demos.

Example::

    llm = ScriptedLLM(["first answer", errors.LLMTimeout(), lambda messages: "third"])
    llm.complete([{"role": "user", "content": "hi"}]).text  # "first answer"
    llm.prompts  # ["hi"]
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from ogmem.core import errors, ports

Step: TypeAlias = (
    "str | ports.LLMResponse | BaseException | Callable[[list[ports.ChatMessage]], Step]"
)
"""One scripted answer: text, a full response, an exception to raise, or a callable that
receives the call's messages and returns one of those."""

Responder: TypeAlias = Callable[[list[ports.ChatMessage]], Step]


@dataclass(frozen=True, slots=True)
class ScriptedCall:
    """One recorded ``complete()`` call; messages are snapshotted at call time."""

    messages: tuple[ports.ChatMessage, ...]
    tools: tuple[Mapping[str, Any], ...] | None
    json_schema: Mapping[str, Any] | None
    temperature: float


class ScriptedLLM:
    """An ``LLMClient`` fake that consumes ``script`` in order, then asks ``responder``.

    Parameters:
        script: steps answered one per call, in order.
        responder: answers every call once the script is exhausted.
        delay: seconds to sleep before answering, to simulate a slow model.

    Exceptions in the script are raised as they are, so a test can simulate both LLM errors
    (``errors.LLMTimeout()``) and crashes (``RuntimeError()``). With the script exhausted and no
    responder, ``complete()`` raises ``errors.LLMResponseError``. Safe to share between threads.
    """

    def __init__(
        self,
        script: Iterable[Step] = (),
        *,
        responder: Responder | None = None,
        delay: float = 0.0,
    ) -> None:
        self._initial: tuple[Step, ...] = tuple(script)
        self._pending: deque[Step] = deque(self._initial)
        self._responder = responder
        self._delay = delay
        self._lock = threading.Lock()
        self._consumed = 0
        self.calls: list[ScriptedCall] = []

    @property
    def prompts(self) -> list[str]:
        """The text of the last user message of each call ("" when a call had none)."""
        with self._lock:
            calls = list(self.calls)
        return [_last_user_text(call.messages) for call in calls]

    @property
    def remaining(self) -> int:
        """How many scripted steps are left."""
        with self._lock:
            return len(self._pending)

    def push(self, *steps: Step) -> None:
        """Append steps to the end of the script."""
        with self._lock:
            self._pending.extend(steps)

    def reset(self) -> None:
        """Forget recorded calls and restore the constructor's script (pushed steps are dropped)."""
        with self._lock:
            self.calls.clear()
            self._pending = deque(self._initial)
            self._consumed = 0

    def complete(
        self,
        messages: Sequence[ports.ChatMessage],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        temperature: float = 0.0,
    ) -> ports.LLMResponse:
        call = ScriptedCall(
            messages=tuple(dict(message) for message in messages),
            tools=None if tools is None else tuple(tools),
            json_schema=json_schema,
            temperature=temperature,
        )
        step = self._record_and_take(call)
        # Sleeping and running callable steps happen outside the lock so that concurrent calls
        # overlap the way they would against a real endpoint.
        if self._delay > 0:
            time.sleep(self._delay)
        return _answer(_resolve(step, list(call.messages)), call.messages)

    def _record_and_take(self, call: ScriptedCall) -> Step:
        with self._lock:
            self.calls.append(call)
            if self._pending:
                self._consumed += 1
                return self._pending.popleft()
            consumed = self._consumed
        if self._responder is None:
            raise errors.LLMResponseError(f"ScriptedLLM script exhausted after {consumed} calls")
        return self._responder


def _resolve(step: Step, messages: list[ports.ChatMessage]) -> Step:
    # A callable may itself return a callable (for instance a responder that delegates).
    while callable(step) and not isinstance(step, BaseException):
        step = step(messages)
    return step


def _answer(step: Step, messages: Sequence[ports.ChatMessage]) -> ports.LLMResponse:
    if isinstance(step, BaseException):
        raise step
    if isinstance(step, ports.LLMResponse):
        return step
    if isinstance(step, str):
        return ports.LLMResponse(text=step, usage=_estimate_usage(messages, step))
    raise TypeError(f"ScriptedLLM step must be str, LLMResponse or an exception, not {step!r}")


def _estimate_usage(messages: Sequence[ports.ChatMessage], answer: str) -> ports.TokenUsage:
    # A rough estimate (about four characters per token), enough for budget and accounting tests;
    # it is not a tokenizer.
    prompt_chars = sum(len(_content_text(message.get("content"))) for message in messages)
    return ports.TokenUsage(prompt_tokens=prompt_chars // 4, completion_tokens=len(answer) // 4)


def _last_user_text(messages: Sequence[ports.ChatMessage]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _content_text(message.get("content"))
    return ""


def _content_text(content: object) -> str:
    # Content is a string, or a list of parts such as {"type": "text", "text": "..."}.
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    return ""
