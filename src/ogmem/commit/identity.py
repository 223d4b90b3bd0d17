"""The identity of a write operation, the key of its idempotency record."""

from __future__ import annotations

import hashlib

from ogmem.core.models import CandidateMemory, RequestContext


def operation_fingerprint(candidate: CandidateMemory, ctx: RequestContext) -> str:
    """Identity of 'this candidate, from this session, for this owner' (not of the plan, which
    changes from create to merge between two deliveries of the same candidate)."""
    parts = (
        ctx.account_id, ctx.user_id, ctx.agent_id or "", ctx.session_id or "",
        candidate.category, candidate.routing_key, candidate.operation,
        candidate.abstract, candidate.overview, candidate.content, candidate.when or "",
    )  # fmt: skip
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
