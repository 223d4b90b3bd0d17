"""PolicyRouter: where a candidate goes (its target URI) and which policy decides what to do."""

from __future__ import annotations

import hashlib
import re

from ogmem.commit import policies
from ogmem.core import errors, uri
from ogmem.core.models import CandidateMemory, RequestContext, WritePlan
from ogmem.core.ports import Store
from ogmem.schemas.registry import MemoryType, SchemaRegistry

_WHITESPACE = re.compile(r"\s+")


def content_hash(candidate: CandidateMemory) -> str:
    """A short hash of the normalised content: equal for texts differing only in case/spacing."""
    normalised = _WHITESPACE.sub(" ", candidate.content).strip().lower()
    return hashlib.sha256(normalised.encode()).hexdigest()[:12]


def owner_space(memory_type: MemoryType, ctx: RequestContext) -> str:
    if memory_type.owner_scope == "agent":
        if not ctx.agent_id:
            raise errors.InvalidCandidate(
                f"{memory_type.name} memories belong to an agent; the request has no agent_id",
                field="agent_id",
            )
        return f"agent:{ctx.agent_id}"
    return f"user:{ctx.user_id}"


def owner_root(memory_type: MemoryType, ctx: RequestContext) -> uri.ContextURI:
    if memory_type.owner_scope == "agent":
        owner_space(memory_type, ctx)  # raises when the agent is missing
        return uri.agent_root(ctx.account_id, str(ctx.agent_id))
    return uri.user_root(ctx.account_id, ctx.user_id)


class PolicyRouter:
    """Maps a memory type to its policy and a candidate to its target URI."""

    def __init__(self, registry: SchemaRegistry, store: Store) -> None:
        self._registry = registry
        self._store = store
        self._profile = policies.ProfilePolicy()
        self._topic = policies.AggregateTopicPolicy()
        self._append = policies.AppendOnlyPolicy()

    def policy_for(self, memory_type: MemoryType) -> policies.MergePolicy:
        if memory_type.operation_mode == "add_only":
            return self._append
        return self._profile if memory_type.single_node else self._topic

    def target_uri(self, candidate: CandidateMemory, ctx: RequestContext) -> str:
        memory_type = self._registry.get(candidate.category)
        slug = uri.slugify(candidate.routing_key or candidate.abstract)
        filename = memory_type.render_filename(
            routing_key=slug, content_hash=content_hash(candidate), when=candidate.when
        )
        root = owner_root(memory_type, ctx)
        return str(root.child(*memory_type.directory_segments(), filename))

    def plan(
        self, candidate: CandidateMemory, ctx: RequestContext, target_uri: str | None = None
    ) -> WritePlan:
        """Read the node at the target and let the type's policy decide."""
        memory_type = self._registry.get(candidate.category)
        target = target_uri or self.target_uri(candidate, ctx)
        existing = self._store.find_node(ctx.account_id, target)
        return self.policy_for(memory_type).plan(candidate, target, existing)
