"""Merge policies: pure functions from (candidate, target, existing node) to a WritePlan.

They read nothing and write nothing, so every case is a row in a table-driven test. The
PolicyRouter (router.py) does the one read they need (the node at the target URI).
"""

from __future__ import annotations

from typing import Protocol

from ogmem.core.models import (
    CandidateMemory,
    ContextNode,
    NodeStatus,
    WriteAction,
    WritePlan,
)


class MergePolicy(Protocol):
    def plan(
        self, candidate: CandidateMemory, target_uri: str, existing: ContextNode | None
    ) -> WritePlan: ...


def _retraction_plan(
    candidate: CandidateMemory, target_uri: str, existing: ContextNode | None
) -> WritePlan:
    """A candidate that asks to archive or delete what it addresses."""
    action = WriteAction.ARCHIVE if candidate.operation == "archive" else WriteAction.DELETE
    if existing is None:
        return WritePlan(
            WriteAction.SKIP, target_uri, reason=f"nothing to {action.value} at {target_uri}"
        )
    if action is WriteAction.ARCHIVE and existing.status is NodeStatus.ARCHIVED:
        return WritePlan(WriteAction.SKIP, target_uri, reason="already archived", existing=existing)
    return WritePlan(
        action,
        target_uri,
        reason=f"candidate asks to {action.value} the node",
        expected_version=existing.version,
        existing=existing,
    )


def _same_information(candidate: CandidateMemory, node: ContextNode) -> bool:
    return candidate.content.strip() in node.content and candidate.abstract.strip() in (
        node.abstract + "\n" + node.overview + "\n" + node.content
    )


def _upsert_plan(
    candidate: CandidateMemory, target_uri: str, existing: ContextNode | None, what: str
) -> WritePlan:
    if candidate.operation != "write":
        return _retraction_plan(candidate, target_uri, existing)
    if existing is None:
        return WritePlan(WriteAction.CREATE, target_uri, reason=f"no {what} node yet")
    if existing.status is NodeStatus.ARCHIVED:
        # the archived facts were judged no longer true: start afresh at the same URI
        return WritePlan(
            WriteAction.CREATE,
            target_uri,
            reason=f"replaces the archived {what} node",
            expected_version=existing.version,
            existing=existing,
        )
    if _same_information(candidate, existing):
        return WritePlan(
            WriteAction.SKIP, target_uri, reason="no new information", existing=existing
        )
    return WritePlan(
        WriteAction.MERGE,
        target_uri,
        reason=f"merge into the existing {what} node v{existing.version}",
        expected_version=existing.version,
        existing=existing,
    )


class ProfilePolicy:
    """One fixed node per owner; every candidate merges into it."""

    def plan(
        self, candidate: CandidateMemory, target_uri: str, existing: ContextNode | None
    ) -> WritePlan:
        return _upsert_plan(candidate, target_uri, existing, "profile")


class AggregateTopicPolicy:
    """One node per routing key (topic); candidates on the same topic merge into it."""

    def plan(
        self, candidate: CandidateMemory, target_uri: str, existing: ContextNode | None
    ) -> WritePlan:
        return _upsert_plan(candidate, target_uri, existing, "topic")


class AppendOnlyPolicy:
    """A new node per candidate; the target URI carries a content hash, so an existing node
    at the target is an exact duplicate and is skipped."""

    def plan(
        self, candidate: CandidateMemory, target_uri: str, existing: ContextNode | None
    ) -> WritePlan:
        if candidate.operation != "write":
            return _retraction_plan(candidate, target_uri, existing)
        if existing is None:
            return WritePlan(WriteAction.CREATE, target_uri, reason="new entry")
        if existing.status is NodeStatus.ARCHIVED:
            return WritePlan(
                WriteAction.CREATE,
                target_uri,
                reason="restates an archived entry",
                expected_version=existing.version,
                existing=existing,
            )
        return WritePlan(
            WriteAction.SKIP,
            target_uri,
            reason="exact duplicate of an existing entry",
            existing=existing,
        )
