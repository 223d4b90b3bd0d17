"""ArchiveBuilder: turns a candidate and its WritePlan into the ContextNode to store."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ogmem.commit import lifetimes, merge, router
from ogmem.core.models import (
    CandidateMemory,
    ContextNode,
    NodeStatus,
    RequestContext,
    WriteAction,
    WritePlan,
    utcnow,
)
from ogmem.core.ports import LLMClient
from ogmem.schemas.registry import MemoryType

_OPTIONAL_FACTS = ("when", "who", "where", "evidence_quote")


def _union(old: Iterable[Any], new: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys([*old, *new]))


def candidate_metadata(candidate: CandidateMemory, ctx: RequestContext) -> dict[str, Any]:
    """What a node remembers about where its content came from."""
    metadata: dict[str, Any] = {
        "routing_key": candidate.routing_key,
        "confidence": candidate.confidence,
        "content_hash": router.content_hash(candidate),
        "source_message_ids": list(candidate.source_message_ids),
        "context_message_ids": list(candidate.context_message_ids),
        "provenance_ids": list(candidate.provenance_ids),
        "session_ids": [ctx.session_id] if ctx.session_id else [],
        "user_id": ctx.user_id,
        "extraction": candidate.origin,
    }
    if ctx.agent_id:
        metadata["agent_id"] = ctx.agent_id
    for name in _OPTIONAL_FACTS:
        value = getattr(candidate, name)
        if value:
            metadata[name] = value
    if candidate.tool_stats:
        metadata["tool_stats"] = dict(candidate.tool_stats)
    if candidate.attributes:
        metadata["attributes"] = dict(candidate.attributes)
    if candidate.metadata:
        metadata["custom"] = dict(candidate.metadata)
    return metadata


def merged_metadata(old: Mapping[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Provenance accumulates; the newest value wins for single facts."""
    merged = {**old, **new}
    for key in ("source_message_ids", "context_message_ids", "provenance_ids", "session_ids"):
        merged[key] = _union(old.get(key, []), new.get(key, []))
    merged["confidence"] = max(float(old.get("confidence", 0.0)), float(new.get("confidence", 0.0)))
    merged["attributes"] = {**old.get("attributes", {}), **new.get("attributes", {})}
    if "custom" in old or "custom" in new:
        merged["custom"] = {**old.get("custom", {}), **new.get("custom", {})}
    merged.pop("archived_at", None)
    return merged


class ArchiveBuilder:
    """Builds the node for CREATE and MERGE plans; merging asks the LLM when there is one."""

    def __init__(self, llm: LLMClient | None = None) -> None:
        self._llm = llm

    def build(
        self,
        candidate: CandidateMemory,
        plan: WritePlan,
        ctx: RequestContext,
        memory_type: MemoryType,
    ) -> ContextNode:
        if plan.action is WriteAction.MERGE and plan.existing is not None:
            return self._merged(candidate, plan.existing, ctx, memory_type)
        return self._created(candidate, plan, ctx, memory_type)

    def _created(
        self,
        candidate: CandidateMemory,
        plan: WritePlan,
        ctx: RequestContext,
        memory_type: MemoryType,
    ) -> ContextNode:
        now = utcnow()
        metadata = candidate_metadata(candidate, ctx)
        if plan.existing is not None:
            metadata["replaced_version"] = plan.existing.version
        return ContextNode(
            account_id=ctx.account_id,
            uri=plan.target_uri,
            context_type=memory_type.context_type,
            category=memory_type.name,
            owner_space=router.owner_space(memory_type, ctx),
            abstract=candidate.abstract.strip(),
            overview=candidate.overview.strip(),
            content=candidate.content.strip(),
            metadata=metadata,
            status=NodeStatus.ACTIVE,
            created_at=plan.existing.created_at if plan.existing else now,
            updated_at=now,
            valid_from=lifetimes.valid_from(candidate, memory_type),
            expires_at=lifetimes.expires_at(candidate, memory_type, now),
        )

    def _merged(
        self,
        candidate: CandidateMemory,
        existing: ContextNode,
        ctx: RequestContext,
        memory_type: MemoryType,
    ) -> ContextNode:
        fields = merge.merge(self._llm, memory_type, existing, candidate)
        metadata = merged_metadata(existing.metadata, candidate_metadata(candidate, ctx))
        metadata["merge"] = {
            "method": fields.method,
            "reason": fields.reason,
            "llm_tokens": fields.tokens,
            "relation": fields.relation,
        }
        metadata["merge_count"] = int(existing.metadata.get("merge_count", 0)) + 1
        replaces = fields.relation == merge.SUPERSEDES
        return existing.evolve(
            abstract=fields.abstract,
            overview=fields.overview,
            content=fields.content,
            metadata=metadata,
            status=NodeStatus.ACTIVE,
            # a replacing fact starts anew (supersede.py opens it); an added one keeps the start
            valid_from=lifetimes.valid_from(candidate, memory_type)
            if replaces
            else existing.valid_from,
            expires_at=lifetimes.expires_at(candidate, memory_type, utcnow())
            or existing.expires_at,
        )
