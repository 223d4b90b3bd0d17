"""What a candidate write is before it runs: its type, its identity (the key of its
idempotency record) and its address. Both write paths (bulk and one by one) start from it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ogmem.core.models import CandidateMemory, RequestContext
from ogmem.schemas.registry import MemoryType


def operation_fingerprint(candidate: CandidateMemory, ctx: RequestContext) -> str:
    """Identity of 'this candidate, from this session, for this owner' (not of the plan, which
    changes from create to merge between two deliveries of the same candidate)."""
    parts = (
        ctx.account_id, ctx.user_id, ctx.agent_id or "", ctx.session_id or "",
        candidate.category, candidate.routing_key, candidate.operation,
        candidate.abstract, candidate.overview, candidate.content, candidate.when or "",
    )  # fmt: skip
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class PreparedWrite:
    """A candidate that passed its type's checks, with its fingerprint and target URI."""

    candidate: CandidateMemory
    memory_type: MemoryType
    fingerprint: str
    target: str
