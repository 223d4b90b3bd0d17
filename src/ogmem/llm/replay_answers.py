"""The text answers of the ReplayLLM: merges and summaries, written as a careful model would.

A merge is the union of the facts: every line of the existing memory, then each new line not
already in it; a level over its limit gives up its oldest lines (a model condenses; the replay
cannot, so it keeps the newest). Summaries come from the annotations when they have one.
"""

from __future__ import annotations

import json
import re

from ogmem.core.models import Message

_MERGE = re.compile(
    r"EXISTING\nabstract: (?P<old_abstract>.*?)\noverview: (?P<old_overview>.*?)\ncontent:\n"
    r"(?P<old_content>.*?)\n\nNEW\nabstract: (?P<new_abstract>.*?)\noverview: "
    r"(?P<new_overview>.*?)\ncontent:\n(?P<new_content>.*)\Z",
    re.DOTALL,
)
_LIMIT = re.compile(r"- (?P<level>abstract|overview|content): .*?at most (?P<limit>\d+) characters")
_DEFAULT_LIMITS = {"abstract": 300, "overview": 2000, "content": 20000}
SUMMARY_ABSTRACT, SUMMARY_OVERVIEW = 300, 1500


def clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to at most ``limit`` characters."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return cut + "…"


def line_key(message: Message) -> str:
    """A message as the session archive's transcript writes it (see session/archive.py)."""
    stamp = message.created_at.isoformat(timespec="minutes")
    return f"[{stamp}] {message.name or message.role} ({message.role}): {message.content}"


def merge(prompt: str) -> str:
    """The merge answer (JSON) for a merge prompt; "{}" when the prompt is not one, which the
    product rejects and merges deterministically (as with an unusable model)."""
    found = _MERGE.search(prompt)
    if found is None:
        return "{}"
    limits = {**_DEFAULT_LIMITS, **{m["level"]: int(m["limit"]) for m in _LIMIT.finditer(prompt)}}
    old_abstract, new_abstract = found["old_abstract"].strip(), found["new_abstract"].strip()
    abstract = new_abstract if old_abstract in new_abstract else f"{new_abstract}; {old_abstract}"
    answer = {
        "abstract": clip(abstract, limits["abstract"]),
        "overview": union(found["old_overview"], found["new_overview"], limits["overview"]),
        "content": union(found["old_content"], found["new_content"], limits["content"]),
    }
    return json.dumps(answer)


def union(old: str, new: str, limit: int) -> str:
    """Old lines, then the new ones not already present; the oldest give way at the limit."""
    lines = list(dict.fromkeys(line.strip() for line in [*old.splitlines(), *new.splitlines()]))
    lines = [line for line in lines if line]
    while len(lines) > 1 and len("\n".join(lines)) > limit:
        lines.pop(0)
    return clip("\n".join(lines), limit)


def session_summary(summaries: list[str], prompt: str) -> str:
    """The annotated summaries of the sessions in the prompt; without one, the first lines of
    the new messages (a model would summarise what it sees)."""
    text = " ".join(summary.strip() for summary in summaries if summary.strip())
    if not text:
        conversation = prompt.split("\nNEW MESSAGES\n", 1)[-1]
        text = " ".join(conversation.split())
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
    answer = {
        "abstract": clip(sentence, SUMMARY_ABSTRACT),
        "overview": clip(text, SUMMARY_OVERVIEW),
    }
    return json.dumps(answer)


def directory_summary(prompt: str) -> str:
    """What a directory holds, from the abstracts listed in the prompt."""
    listed = prompt.split("\nMEMORIES\n", 1)[1]
    abstracts = [line.strip().lstrip("- ").strip() for line in listed.splitlines() if line.strip()]
    directory = re.search(r'directory "(?P<name>[^"]*)"', prompt)
    name = directory["name"].rstrip("/").rsplit("/", 1)[-1] if directory else "this directory"
    answer = {
        "abstract": clip(f"{name}: " + "; ".join(abstracts[:5]), SUMMARY_ABSTRACT),
        "overview": clip("\n".join(f"- {a}" for a in abstracts), SUMMARY_OVERVIEW),
    }
    return json.dumps(answer)
