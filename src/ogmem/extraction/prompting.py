"""The prompt templates of extraction (files in ``extraction/prompts``) and the transcript format.

Templates are ``string.Template`` files: ``$name`` placeholders, filled with ``render``. Text
from the conversation or from a model answer only ever enters as a substituted value, so a
``$`` in a message is never read as a placeholder.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from importlib import resources
from string import Template

from ogmem.core.models import Message

# What of a model answer goes into an error, a Dropped reason or a log line: enough to see the
# problem, never a megabyte of garbage.
MAX_QUOTED_CHARS = 500


@functools.cache
def _template(name: str) -> Template:
    path = resources.files("ogmem.extraction").joinpath("prompts", f"{name}.md")
    return Template(path.read_text(encoding="utf-8"))


def render(name: str, **values: object) -> str:
    """Fill ``prompts/<name>.md``; a missing value raises KeyError (a bug, not a model error)."""
    return _template(name).substitute({key: str(value) for key, value in values.items()})


def clip(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [{len(text) - limit} more characters]"


def quoted(value: object, limit: int = 120) -> str:
    """A short JSON rendering of a value from a model answer, for a Dropped reason."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = f"<{type(value).__name__}>"
    return clip(text, limit)


def timestamp(moment: dt.datetime) -> str:
    """An absolute date and time with the weekday, which models need for "last Friday"."""
    text = moment.strftime("%Y-%m-%d (%A) %H:%M")
    zone = moment.tzname()
    return f"{text} {zone}" if zone else text


def speaker(message: Message) -> str:
    """The speaker's name with the role (``Caroline (user)``), or the role alone."""
    name = (message.name or "").strip()
    return f"{name} ({message.role})" if name else message.role


def transcript(lines: list[tuple[str, Message]], max_chars: int) -> str:
    """One block per message: ``[label] <time> | <speaker>:`` and the indented text."""
    blocks = []
    for label, message in lines:
        body = clip(message.content, max_chars).replace("\n", "\n    ")
        header = f"[{label}] {timestamp(message.created_at)} | {speaker(message)}:"
        blocks.append(f"{header}\n    {body}")
    return "\n".join(blocks)


def speakers(messages: list[Message]) -> str:
    """The distinct speakers in order of appearance, one per line."""
    seen: dict[str, None] = {}
    for message in messages:
        seen.setdefault(speaker(message), None)
    return "\n".join(f"- {name}" for name in seen)
