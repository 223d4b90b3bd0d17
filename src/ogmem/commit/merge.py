"""Merging an incoming candidate into an existing node: by the LLM, else deterministically.

The LLM answer is validated (JSON object, three non-empty strings within the type's limits);
anything else falls back to the deterministic merge, which never loses the incoming text and
records why it was used.

Each merge also says how the new information relates to the old (``relation``): "adds" (the
merged node holds both) or "supersedes" (the old fact stopped holding: the writer keeps it as
a closed fact, see supersede.py). The LLM decides; without one, or when its answer lacks it,
the deterministic rule of ``supersede.states_replacement`` does.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from importlib import resources
from string import Template

from ogmem.commit import supersede
from ogmem.core import errors
from ogmem.core.models import CandidateMemory, ContextNode
from ogmem.core.ports import LLMClient
from ogmem.llm import jsonparse
from ogmem.schemas.registry import MemoryType

logger = logging.getLogger(__name__)

MERGE_JSON_SCHEMA = {
    "type": "object",
    "properties": {
        "abstract": {"type": "string"},
        "overview": {"type": "string"},
        "content": {"type": "string"},
        "relation": {"type": "string", "enum": ["adds", "supersedes"]},
    },
    "required": ["abstract", "overview", "content", "relation"],
    "additionalProperties": False,
}
DEFAULT_LIMITS = {"abstract": 300, "overview": 2000, "content": 20000}
ADDS, SUPERSEDES = "adds", "supersedes"


@dataclass(frozen=True, slots=True)
class MergedFields:
    abstract: str
    overview: str
    content: str
    method: str  # "llm" | "deterministic"
    reason: str = ""
    tokens: int = 0
    relation: str = ADDS  # ADDS | SUPERSEDES


def field_limits(memory_type: MemoryType) -> dict[str, int]:
    limits = dict(DEFAULT_LIMITS)
    for spec in memory_type.fields:
        if spec.name in limits and spec.max_length:
            limits[spec.name] = spec.max_length
    return limits


@functools.cache
def _template() -> Template:
    return Template(resources.files("ogmem.commit").joinpath("prompts", "merge.md").read_text())


def _prompt(memory_type: MemoryType, existing: ContextNode, incoming: CandidateMemory) -> str:
    limits = field_limits(memory_type)
    return _template().safe_substitute(
        category=memory_type.name,
        abstract_limit=limits["abstract"],
        overview_limit=limits["overview"],
        content_limit=limits["content"],
        old_abstract=existing.abstract,
        old_overview=existing.overview,
        old_content=existing.content,
        new_abstract=incoming.abstract,
        new_overview=incoming.overview,
        new_content=incoming.content,
    )


def _validated(answer: dict[str, object], limits: dict[str, int]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for name in ("abstract", "overview", "content"):
        value = answer.get(name)
        if not isinstance(value, str):
            raise errors.LLMResponseError(f"merge answer: {name} is missing or not a string")
        if name != "overview" and not value.strip():
            raise errors.LLMResponseError(f"merge answer: {name} is empty")
        if len(value) > limits[name]:
            raise errors.LLMResponseError(f"merge answer: {name} exceeds {limits[name]} characters")
        fields[name] = value.strip()
    return fields


def _relation(answer: dict[str, object], fallback: str) -> str:
    """The answer's relation; an answer without one gets the deterministic rule's."""
    value = answer.get("relation")
    if value is None:
        return fallback
    if value not in (ADDS, SUPERSEDES):
        raise errors.LLMResponseError(f"merge answer: relation must be adds or supersedes: {value}")
    return str(value)


def llm_merge(
    llm: LLMClient, memory_type: MemoryType, existing: ContextNode, incoming: CandidateMemory
) -> MergedFields:
    """Ask the LLM for the merged levels and the relation; raises errors.LLMError on any
    unusable answer."""
    response = llm.complete(
        [{"role": "user", "content": _prompt(memory_type, existing, incoming)}],
        json_schema=MERGE_JSON_SCHEMA,
    )
    answer = jsonparse.extract_json_object(response.text)
    fields = _validated(answer, field_limits(memory_type))
    relation = _relation(answer, _rule(existing, incoming))
    return MergedFields(
        **fields, method="llm", tokens=response.usage.total_tokens, relation=relation
    )


def _rule(existing: ContextNode, incoming: CandidateMemory) -> str:
    return SUPERSEDES if supersede.states_replacement(incoming, existing) else ADDS


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def _union_text(old: str, new: str, limit: int) -> str:
    """Old paragraphs then the new ones not already present; the oldest give way at the limit."""
    seen = set()
    merged = []
    for paragraph in [*_paragraphs(old), *_paragraphs(new)]:
        if paragraph not in seen:
            seen.add(paragraph)
            merged.append(paragraph)
    while len(merged) > 1 and len("\n".join(merged)) > limit:
        merged.pop(0)
    return "\n".join(merged)[-limit:]


def deterministic_merge(
    memory_type: MemoryType, existing: ContextNode, incoming: CandidateMemory, reason: str
) -> MergedFields:
    """Newest abstract; overview and content keep every distinct paragraph, old first. A
    candidate that replaces the fact (the rule of ``supersede.states_replacement``) keeps its
    own text only: the old one stays in the closed fact."""
    limits = field_limits(memory_type)
    if _rule(existing, incoming) == SUPERSEDES:
        return MergedFields(
            abstract=(incoming.abstract.strip() or existing.abstract)[: limits["abstract"]],
            overview=(incoming.overview.strip() or incoming.abstract.strip())[: limits["overview"]],
            content=incoming.content.strip()[: limits["content"]],
            method="deterministic",
            reason=reason,
            relation=SUPERSEDES,
        )
    return MergedFields(
        abstract=(incoming.abstract.strip() or existing.abstract)[: limits["abstract"]],
        overview=_union_text(existing.overview, incoming.overview, limits["overview"]),
        content=_union_text(existing.content, incoming.content, limits["content"]),
        method="deterministic",
        reason=reason,
    )


def merge(
    llm: LLMClient | None, memory_type: MemoryType, existing: ContextNode, incoming: CandidateMemory
) -> MergedFields:
    if llm is None:
        return deterministic_merge(memory_type, existing, incoming, "no LLM configured")
    try:
        return llm_merge(llm, memory_type, existing, incoming)
    except Exception as exc:  # any failure of the model must not cost the incoming memory
        logger.warning(
            "LLM merge of %s failed, merging deterministically: %s", existing.uri, exc,
            exc_info=not isinstance(exc, errors.LLMError),
        )  # fmt: skip
        reason = f"LLM merge failed ({type(exc).__name__}: {str(exc)[:300]})"
        return deterministic_merge(memory_type, existing, incoming, reason)
