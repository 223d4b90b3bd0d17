"""What the writer reports for a candidate, and the in-process locks of its writers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

from ogmem.core import errors
from ogmem.core.models import (
    CandidateMemory,
    ContextNode,
    WriteAction,
    WritePlan,
    WriteResult,
    WriteStatus,
)

logger = logging.getLogger("ogmem.commit.writer")

LOCK_STRIPES = 256
T = TypeVar("T")


class StripedLocks:
    """Serialises writers of the same URI inside this process, so threads do not burn their
    retries on conflicts with each other; optimistic versions still guard other processes."""

    def __init__(self, stripes: int = LOCK_STRIPES) -> None:
        self._locks = [threading.Lock() for _ in range(stripes)]

    def for_key(self, account_id: str, target: str) -> threading.Lock:
        return self._locks[hash((account_id, target)) % len(self._locks)]


def result_of(
    candidate: CandidateMemory, status: WriteStatus, reason: str, **extra: object
) -> WriteResult:
    return WriteResult(candidate=candidate, status=status, reason=reason, **extra)  # type: ignore[arg-type]


def written_result(
    candidate: CandidateMemory, plan: WritePlan, node: ContextNode | None, *, attempts: int
) -> WriteResult:
    """A write that landed; a deterministic merge says why the model did not merge it."""
    reason = plan.reason
    merge_info = (node.metadata.get("merge") if node is not None else None) or {}
    if plan.action is WriteAction.MERGE and merge_info.get("method") == "deterministic":
        reason += f"; merged deterministically: {merge_info.get('reason')}"
    return result_of(
        candidate, WriteStatus.WRITTEN, reason, plan=plan, node=node, attempts=attempts
    )


def failed_result(candidate: CandidateMemory, exc: Exception, *, retryable: bool) -> WriteResult:
    """``retryable``: the same candidate may pass later (a store hiccup, a conflict); bad
    input never will."""
    error = f"{type(exc).__name__}: {exc}"
    return result_of(candidate, WriteStatus.FAILED, "failed", error=error, retryable=retryable)


def reported(candidate: CandidateMemory, work: Callable[[], T], *, bugs: bool) -> T | WriteResult:
    """Run ``work``; an ogmem error becomes the candidate's FAILED result (retryable unless
    the input is bad). With ``bugs``, any other exception too: in a batch a bug must cost one
    candidate, never the batch."""
    try:
        return work()
    except errors.OgmemError as exc:
        logger.warning("candidate %s/%s failed: %s", candidate.category, candidate.routing_key, exc)
        return failed_result(candidate, exc, retryable=not isinstance(exc, errors.InvalidInput))
    except Exception as exc:
        if not bugs:
            raise
        logger.exception(
            "unexpected error writing %s/%s", candidate.category, candidate.routing_key
        )
        return failed_result(candidate, exc, retryable=True)
