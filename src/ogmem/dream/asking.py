"""Asking the LLM about a numbered list of memories, and reading its JSON answer safely."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from importlib import resources
from string import Template
from typing import Any

from ogmem.core import errors
from ogmem.core.models import ContextNode
from ogmem.core.ports import LLMClient
from ogmem.llm import jsonparse

logger = logging.getLogger(__name__)

BATCH = 60  # memories per question: the prompt stays a few thousand tokens
LINE_CHARS = 400  # of each memory's text in the list


@functools.cache
def _template(name: str) -> Template:
    return Template(resources.files("ogmem.dream").joinpath("prompts", f"{name}.md").read_text())


def numbered(nodes: Sequence[ContextNode]) -> str:
    """One line per memory: its number (from 1), category, date and text."""
    lines = []
    for number, node in enumerate(nodes, 1):
        text = " ".join((node.content or node.abstract).split())[:LINE_CHARS]
        lines.append(f"{number}. [{node.category}, {node.created_at.date()}] {text}")
    return "\n".join(lines)


def ask(llm: LLMClient, prompt: str, nodes: Sequence[ContextNode], key: str) -> list[Any]:
    """The list under ``key`` of the model's JSON answer about ``nodes``; an unusable answer
    or a failed call gives an empty list (a dream never fails on the model: it skips)."""
    text = _template(prompt).safe_substitute(memories=numbered(nodes))
    try:
        response = llm.complete([{"role": "user", "content": text}])
        found = jsonparse.extract_json_object(response.text).get(key)
    except errors.OgmemError as exc:
        logger.warning("dream: %s question unanswered: %s", prompt, exc)
        return []
    return found if isinstance(found, list) else []


def node_at(nodes: Sequence[ContextNode], number: object) -> ContextNode | None:
    """The memory a 1-based number of the answer names, or None if it names none."""
    if isinstance(number, bool) or not isinstance(number, int):
        return None
    return nodes[number - 1] if 1 <= number <= len(nodes) else None


def batches(nodes: Sequence[ContextNode]) -> list[Sequence[ContextNode]]:
    return [nodes[i : i + BATCH] for i in range(0, len(nodes), BATCH)]
