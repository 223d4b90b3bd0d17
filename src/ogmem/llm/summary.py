"""Asking the LLM for an abstract + overview (directory summaries, session archives)."""

from __future__ import annotations

from dataclasses import dataclass

from ogmem.core import errors
from ogmem.core.ports import LLMClient
from ogmem.llm import jsonparse

ABSTRACT_LIMIT, OVERVIEW_LIMIT = 300, 1500
SUMMARY_SCHEMA = {
    "type": "object",
    "properties": {"abstract": {"type": "string"}, "overview": {"type": "string"}},
    "required": ["abstract", "overview"],
}


@dataclass(frozen=True, slots=True)
class Summary:
    abstract: str
    overview: str
    tokens: int = 0


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clipped(abstract: str, overview: str, tokens: int = 0) -> Summary:
    return Summary(clip(abstract, ABSTRACT_LIMIT), clip(overview, OVERVIEW_LIMIT), tokens)


def ask(llm: LLMClient, prompt: str) -> Summary:
    """One call; raises errors.LLMResponseError unless the answer has both strings."""
    response = llm.complete([{"role": "user", "content": prompt}], json_schema=SUMMARY_SCHEMA)
    answer = jsonparse.extract_json_object(response.text)
    abstract, overview = answer.get("abstract"), answer.get("overview")
    if not isinstance(abstract, str) or not abstract.strip() or not isinstance(overview, str):
        raise errors.LLMResponseError("summary answer lacks abstract/overview strings")
    return clipped(abstract.strip(), overview.strip(), response.usage.total_tokens)
