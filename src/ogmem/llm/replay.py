"""ReplayLLM: an LLMClient that answers the product's own calls from annotations of the sessions.

A corpus such as LoCoMo carries, per session, what a model would have drawn from it (facts with
the message they came from, dated events, a summary). Replayed as a model's answers, they run
the whole LLM path without a model: span finding (JSON), structuring (tool calls), validation,
dates, provenance, dedupe, merges, session and directory summaries. Every answer has the shape
a real model gives, so the product parses and validates it unchanged.

The calls are told apart as the product makes them: tools offered means structuring; the
response schema names ``spans`` (span finding), ``content`` (a merge) or only
abstract/overview (a session or directory summary). Messages are recognised in a prompt by
their transcript block (time, speaker, text), so one replay serves many conversations at once.

Example::

    session = ReplaySession(messages, (ReplayMemory("event", {...}),), summary="...")
    engine = Engine.open(path, llm=ReplayLLM([session]))
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ogmem.core import errors, ports
from ogmem.core.models import Message
from ogmem.extraction import prompting, spans
from ogmem.llm import replay_answers
from ogmem.schemas.registry import TOOL_PREFIX

# A transcript block's header as extraction prompts write it: "[label] 2023-05-08 (Monday) 13:56"
_HEADER = re.compile(r"^\[(?P<label>[^\]\n]+)\] (?P<rest>\d{4}-\d\d-\d\d \([A-Za-z]+\) .*)$")
_BODY_INDENT = "    "
# Enough of a message to tell it apart; the prompts clip long messages differently.
_KEY_CHARS = 300


@dataclass(frozen=True, slots=True)
class ReplayMemory:
    """One memory the annotations hold: its type and the tool arguments a model would send
    (``source_message_ids`` among them, in conversation order)."""

    category: str
    arguments: Mapping[str, Any]

    @property
    def source_ids(self) -> tuple[str, ...]:
        return tuple(self.arguments.get("source_message_ids", ()))


@dataclass(frozen=True, slots=True)
class ReplaySession:
    """A session's messages (with ids) and what the annotations say about it."""

    messages: tuple[Message, ...]
    memories: tuple[ReplayMemory, ...]
    summary: str = ""


@dataclass(frozen=True, slots=True)
class _Block:
    label: str
    session: int
    message_id: str


class ReplayLLM:
    """The ``LLMClient`` that replays annotations (see the module docstring).

    Parameters:
        sessions: every session the replay may be asked about.

    ``calls`` counts the answered calls by kind (spans, structure, merge, summary, directory).
    A call it cannot place raises ``errors.LLMResponseError``, as an unusable model would.
    """

    def __init__(self, sessions: Sequence[ReplaySession]) -> None:
        self._sessions = tuple(sessions)
        self._blocks: dict[str, tuple[int, str]] = {}
        self._lines: dict[str, int] = {}
        for number, session in enumerate(self._sessions):
            for message in session.messages:
                self._index(number, message)
        self._planned: dict[tuple[int, str, str], list[ReplayMemory]] = {}
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def _index(self, number: int, message: Message) -> None:
        if not message.message_id:
            return
        block = prompting.transcript([("x", message)], spans.MESSAGE_CHARS)
        for _, key in _parse_blocks(block):
            self._blocks[key] = (number, message.message_id)
        self._lines[replay_answers.line_key(message)] = number

    def complete(
        self,
        messages: Sequence[ports.ChatMessage],
        *,
        tools: Sequence[Mapping[str, Any]] | None = None,
        json_schema: Mapping[str, Any] | None = None,
        temperature: float = 0.0,
    ) -> ports.LLMResponse:
        prompt = _last_user_text(messages)
        properties = set((json_schema or {}).get("properties", {}))
        if tools:
            return self._count("structure", self._structure(prompt, tools))
        if "spans" in properties:
            return self._count("spans", self._text(json.dumps(self._spans(prompt))))
        if "content" in properties:
            return self._count("merge", self._text(replay_answers.merge(prompt)))
        if properties == {"abstract", "overview"}:
            return self._count(*self._summary(prompt))
        raise errors.LLMResponseError("the replay has no answer for this call")

    def _count(self, kind: str, response: ports.LLMResponse) -> ports.LLMResponse:
        with self._lock:
            self.calls[kind] += 1
        return response

    # Span finding ---------------------------------------------------------------------------

    def _spans(self, prompt: str) -> dict[str, list[dict[str, Any]]]:
        window = [block for block in self._locate(prompt) if block.label.isdigit()]
        position = {(b.session, b.message_id): int(b.label) for b in window}
        found: dict[tuple[int, int, int], list[ReplayMemory]] = {}
        for session in dict.fromkeys(block.session for block in window):
            for memory in self._sessions[session].memories:
                ids = [i for i in memory.source_ids if (session, i) in position]
                # A memory is proposed in the window holding its first source message.
                if ids and ids[0] == memory.source_ids[0]:
                    places = [position[(session, i)] for i in ids]
                    found.setdefault((min(places), max(places), session), []).append(memory)
        answer = []
        for (start, end, session), memories in sorted(found.items()):
            first, last = window_ids(window, start, end)
            with self._lock:
                # assigned, not added to: a window asked again (a retried commit) replans it
                self._planned[(session, first, last)] = memories
            categories = list(dict.fromkeys(memory.category for memory in memories))
            reason = replay_answers.clip(str(memories[0].arguments.get("abstract", "")), 200)
            answer.append({"start": start, "end": end, "reason": reason, "categories": categories})
        return {"spans": answer}

    # Structuring ----------------------------------------------------------------------------

    def _structure(self, prompt: str, tools: Sequence[Mapping[str, Any]]) -> ports.LLMResponse:
        blocks = self._locate(prompt)
        offered = {tool["function"]["name"] for tool in tools}
        if not blocks:
            return self._text("")
        with self._lock:
            memories = self._planned.pop(
                (blocks[0].session, blocks[0].message_id, blocks[-1].message_id), []
            )
        calls = [
            ports.ToolCall(
                name=TOOL_PREFIX + memory.category,
                arguments=dict(memory.arguments),
                raw_arguments=json.dumps(memory.arguments),
                id=f"call_{number}",
            )
            for number, memory in enumerate(memories)
            if TOOL_PREFIX + memory.category in offered
        ]
        usage = _usage(prompt, "".join(call.raw_arguments for call in calls))
        return ports.LLMResponse(text="", tool_calls=tuple(calls), usage=usage)

    # Summaries ------------------------------------------------------------------------------

    def _summary(self, prompt: str) -> tuple[str, ports.LLMResponse]:
        if "\nNEW MESSAGES\n" in prompt:
            sessions = self._sessions_of_lines(prompt.split("\nNEW MESSAGES\n", 1)[1])
            texts = [self._sessions[number].summary for number in sessions]
            answer = replay_answers.session_summary(texts, prompt)
            return "summary", self._text(answer)
        if "\nMEMORIES\n" in prompt:
            return "directory", self._text(replay_answers.directory_summary(prompt))
        raise errors.LLMResponseError("the replay has no answer for this summary request")

    def _sessions_of_lines(self, conversation: str) -> list[int]:
        found = (self._lines.get(text) for text in conversation.splitlines())
        return list(dict.fromkeys(number for number in found if number is not None))

    # Helpers --------------------------------------------------------------------------------

    def _locate(self, prompt: str) -> list[_Block]:
        located = []
        for label, key in _parse_blocks(prompt):
            place = self._blocks.get(key)
            if place is not None:
                # span prompts label a message by its index, structuring prompts "id <id>"
                located.append(_Block(label.removeprefix("id "), place[0], place[1]))
        return located

    def _text(self, text: str) -> ports.LLMResponse:
        return ports.LLMResponse(text=text, usage=_usage("", text))


def window_ids(window: Sequence[_Block], start: int, end: int) -> tuple[str, str]:
    """The message ids at window positions ``start`` and ``end``."""
    by_position = {int(block.label): block.message_id for block in window}
    return by_position[start], by_position[end]


def _parse_blocks(prompt: str) -> list[tuple[str, str]]:
    """(label, key) of each transcript block; the key is the header after the label and the
    start of the text, which identify a message whatever label the prompt gives it."""
    blocks: list[tuple[str, str]] = []
    label, rest, body = "", "", []
    for text_line in [*prompt.splitlines(), "[end]"]:
        header = _HEADER.match(text_line)
        if header is None and not text_line.startswith("[end]"):
            if label and text_line.startswith(_BODY_INDENT):
                body.append(text_line[len(_BODY_INDENT) :])
            continue
        if label:
            blocks.append((label, f"{rest}\n" + "\n".join(body)[:_KEY_CHARS]))
        label, rest, body = (
            ("", "", []) if header is None else (header["label"], header["rest"], [])
        )
    return blocks


def _last_user_text(messages: Sequence[ports.ChatMessage]) -> str:
    for message in reversed(messages):
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, str):
            return content
    return ""


def _usage(prompt: str, answer: str) -> ports.TokenUsage:
    # About four characters per token, as a model's bill would roughly say.
    return ports.TokenUsage(prompt_tokens=len(prompt) // 4, completion_tokens=len(answer) // 4)
