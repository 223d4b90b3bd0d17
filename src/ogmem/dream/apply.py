"""Applying planned steps through the write pipeline, and undoing applied ones.

Every node change goes through ``ContextWriter`` (a new version, its outbox events and an
idempotency record in one transaction); a step's changes and the run's record (``record``)
commit together, so a step is applied and recorded, or neither. A merge asks the LLM (when
one is configured) before that transaction: SQLite's write lock is not held over a model's
answer. The versions read before are checked by the writes, so a memory written meanwhile
fails the step (a conflict), it is not overwritten.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ogmem.commit import merge
from ogmem.commit.writer import ContextWriter
from ogmem.core import errors
from ogmem.core.models import (
    CandidateMemory,
    ContextNode,
    NodeStatus,
    RequestContext,
    WriteStatus,
    utcnow,
)
from ogmem.core.ports import LLMClient, Store
from ogmem.core.storage import UnitOfWork
from ogmem.dream import correct
from ogmem.dream.models import Change, Step, StepKind
from ogmem.schemas.registry import SchemaRegistry

Record = Callable[[Step], None]


def _union(first: Sequence[Any], second: Sequence[Any]) -> list[Any]:
    return list(dict.fromkeys([*first, *second]))


class Pipeline:
    """The writes of one run: each change is a new version, fingerprinted by run and node."""

    def __init__(
        self, writer: ContextWriter, store: Store, uow: UnitOfWork, ctx: RequestContext,
        run_id: str,
    ) -> None:  # fmt: skip
        self.writer, self.store, self.uow = writer, store, uow
        self.ctx, self.run_id = ctx, run_id

    def read(self, node_uri: str) -> ContextNode:
        return self.store.read_node(self.ctx.account_id, node_uri)

    def rewrite(self, current: ContextNode, changed: ContextNode, action: str) -> Change:
        fingerprint = f"dream:{self.run_id}:{action}:{current.uri}:{current.version}"
        written = self.writer.rewrite(
            changed, self.ctx, expected_version=current.version, fingerprint=fingerprint,
            action=action,
        )  # fmt: skip
        return Change(current.uri, current.version, written.version)

    def archive_into(self, node: ContextNode, pointer: str, target: str) -> Change:
        """Archive ``node`` with a pointer (``pointer``: ``target``) to what replaced it."""
        metadata = {**node.metadata, pointer: target, "archived_at": utcnow().isoformat(),
                    "dream_run": self.run_id}  # fmt: skip
        return self.rewrite(
            node, node.evolve(status=NodeStatus.ARCHIVED, metadata=metadata), f"dream-{pointer}"
        )


class Applier:
    """Applies each kind of step; returns the step with its changes and status."""

    def __init__(self, registry: SchemaRegistry, llm: LLMClient | None) -> None:
        self._registry = registry
        self._llm = llm

    def apply(self, pipeline: Pipeline, step: Step, record: Record) -> Step:
        """Apply ``step`` and ``record`` it in one transaction; the step as applied."""
        if step.kind is StepKind.MERGE:
            return self._merge(pipeline, step, record)
        if step.kind is StepKind.SUPERSEDE:
            older, newer = _active(pipeline, [step.absorbed[0], step.survivor])
            with pipeline.uow.transaction():
                changes = correct.resolve_contradiction(pipeline, older, newer, step.reason)
                return _recorded(step.evolve(changes=tuple(changes), status="applied"), record)
        with pipeline.uow.transaction():  # a pattern merged into an existing one asks the LLM
            return _recorded(self._pattern(pipeline, step), record)

    def _merge(self, pipeline: Pipeline, step: Step, record: Record) -> Step:
        survivor, *absorbed = _active(pipeline, [step.survivor, *step.absorbed])
        merged = survivor
        for node in absorbed:
            merged = self._merged(merged, node)
        metadata = {
            **merged.metadata,
            "absorbed": _union(survivor.metadata.get("absorbed", []), step.absorbed),
            "dream_run": pipeline.run_id,
        }
        with pipeline.uow.transaction():
            changes = [pipeline.rewrite(survivor, merged.evolve(metadata=metadata), "dream-merge")]
            changes += [pipeline.archive_into(n, "absorbed_into", survivor.uri) for n in absorbed]
            return _recorded(step.evolve(changes=tuple(changes), status="applied"), record)

    def _merged(self, survivor: ContextNode, node: ContextNode) -> ContextNode:
        """The survivor with ``node`` merged in (the LLM's merge if configured, else every
        distinct paragraph kept) and the provenance of both."""
        incoming = CandidateMemory(
            category=node.category, abstract=survivor.abstract, overview=node.overview,
            content=node.content,
        )  # fmt: skip
        fields = merge.merge(self._llm, self._registry.get(node.category), survivor, incoming)
        metadata = dict(survivor.metadata)
        for key in ("source_message_ids", "provenance_ids"):
            joined = _union(survivor.metadata.get(key, []), node.metadata.get(key, []))
            if joined:
                metadata[key] = joined
        return survivor.evolve(
            abstract=fields.abstract, overview=fields.overview, content=fields.content,
            metadata=metadata,
        )  # fmt: skip

    def _pattern(self, pipeline: Pipeline, step: Step) -> Step:
        proposal: Mapping[str, Any] = step.proposal
        candidate = CandidateMemory(
            category="pattern", routing_key=str(proposal["name"]),
            abstract=str(proposal["abstract"]), content=str(proposal["content"]),
            owner_scope="agent", attributes={"trigger": str(proposal["trigger"])},
            origin="dream", metadata={"cites": list(step.absorbed), "dream_run": pipeline.run_id},
        )  # fmt: skip
        result = pipeline.writer.write_candidate(candidate, pipeline.ctx)
        if result.status is not WriteStatus.WRITTEN or result.node is None:
            return step.evolve(status=result.status.value, error=result.error or result.reason)
        before = (result.plan.expected_version if result.plan else None) or 0
        change = Change(result.node.uri, before, result.node.version)
        return step.evolve(survivor=result.node.uri, changes=(change,), status="applied")


def _active(pipeline: Pipeline, uris: Sequence[str]) -> list[ContextNode]:
    """The memories of a step as they are now; each must still be active."""
    nodes = [pipeline.read(u) for u in uris]
    gone = [n.uri for n in nodes if n.status is not NodeStatus.ACTIVE]
    if gone:
        raise errors.Conflict(f"no longer active since the plan: {', '.join(gone)}")
    return nodes


def _recorded(step: Step, record: Record) -> Step:
    record(step)
    return step


def undo(pipeline: Pipeline, step: Step) -> list[Change]:
    """Put every node the step wrote back as it was (a new version each, through the
    writer); refused if one of them was written since the step."""
    changes = []
    for change in reversed(step.changes):
        current = pipeline.read(change.uri)
        if current.version != change.after:
            raise errors.ConcurrentModificationError(change.uri, change.after, current.version)
        if change.before == 0:  # the step created it: archive it
            changes.append(pipeline.archive_into(current, "undone_by", pipeline.run_id))
            continue
        previous = next(
            v.node for v in pipeline.store.history(pipeline.ctx.account_id, change.uri)
            if v.node.version == change.before
        )  # fmt: skip
        restored = current.evolve(
            abstract=previous.abstract, overview=previous.overview, content=previous.content,
            status=previous.status, metadata=previous.metadata,
            valid_from=previous.valid_from, valid_to=previous.valid_to,
            expires_at=previous.expires_at,
        )  # fmt: skip
        changes.append(pipeline.rewrite(current, restored, "dream-undo"))
    return changes
