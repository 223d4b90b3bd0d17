"""BulkCreator: the common case of a batch, new memories at new URIs, in a few statements.

``ContextWriter.write_candidates`` hands its batch here first. The candidates that are
certainly creations (valid, never applied, their target free, no other candidate of the batch
at the same target) are written together in one savepoint: each kind of row (node, history,
outbox event, idempotency record) in one statement instead of one per candidate. A raw-mode
commit or a bulk import is all creations. Everything else (merges, duplicates, retractions,
invalid input) goes through the writer's one-by-one path, and so does the whole bulk set when
its insert fails for any reason (a concurrent writer took a target, a fingerprint was applied
meanwhile): that path then reports each candidate on its own.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ogmem.commit import events
from ogmem.commit.archive_builder import ArchiveBuilder
from ogmem.commit.identity import operation_fingerprint
from ogmem.commit.router import PolicyRouter
from ogmem.core import errors
from ogmem.core.models import (
    CandidateMemory,
    NewNode,
    RequestContext,
    WriteAction,
    WritePlan,
    WriteResult,
    WriteStatus,
)
from ogmem.core.ports import Store
from ogmem.schemas.registry import MemoryType, SchemaRegistry

logger = logging.getLogger(__name__)

MIN_BULK = 2  # one candidate gains nothing from the bulk statements


@dataclass(frozen=True, slots=True)
class _Creatable:
    index: int  # position in the caller's batch
    candidate: CandidateMemory
    memory_type: MemoryType
    fingerprint: str
    target: str


class BulkCreator:
    def __init__(
        self,
        store: Store,
        registry: SchemaRegistry,
        router: PolicyRouter,
        builder: ArchiveBuilder,
    ) -> None:
        self._store = store
        self._registry = registry
        self._router = router
        self._builder = builder

    def create(
        self, candidates: Sequence[CandidateMemory], ctx: RequestContext
    ) -> dict[int, WriteResult]:
        """Results of the candidates written here, by their index in ``candidates``; the
        others are left to the caller (all of them when the bulk insert failed)."""
        creatable, wanted = self._creatable(candidates, ctx)
        planned = [
            (fresh, plan)
            for fresh in self._fresh(creatable, wanted, ctx)
            if (plan := self._plan(fresh)).action is WriteAction.CREATE
        ]
        if len(planned) < MIN_BULK:
            return {}
        try:
            new_nodes = [self._new_node(fresh, plan, ctx) for fresh, plan in planned]
            stored = self._store.create_nodes_with_outbox(new_nodes)
        except Exception as exc:  # even a bug: one by one, it costs only its own candidate
            logger.info("bulk creation of %d fell back to one by one: %s", len(planned), exc)
            return {}
        return {
            fresh.index: WriteResult(
                candidate=fresh.candidate,
                status=WriteStatus.WRITTEN,
                reason=plan.reason,
                plan=plan,
                node=node,
                attempts=1,
            )
            for (fresh, plan), node in zip(planned, stored, strict=True)
        }

    def _creatable(
        self, candidates: Sequence[CandidateMemory], ctx: RequestContext
    ) -> tuple[list[_Creatable], Counter[str]]:
        """Candidates that are valid writes, and how many candidates of the batch address
        each target (retractions included: written first, a creation would change what an
        earlier retraction in the batch finds). Any doubt leaves a candidate to the
        one-by-one path, which also gives the reason (skipped, invalid, ...)."""
        found: list[_Creatable] = []
        wanted: Counter[str] = Counter()
        for index, candidate in enumerate(candidates):
            try:
                memory_type = self._registry.get(candidate.category)
                if memory_type.owner_scope == "agent" and not ctx.agent_id:
                    continue
                memory_type.validate_candidate(candidate)
                target = self._router.target_uri(candidate, ctx)
            except errors.OgmemError:
                continue
            wanted[target] += 1
            if candidate.operation == "write":
                fingerprint = operation_fingerprint(candidate, ctx)
                found.append(_Creatable(index, candidate, memory_type, fingerprint, target))
        return found, wanted

    def _fresh(
        self, creatable: list[_Creatable], wanted: Counter[str], ctx: RequestContext
    ) -> list[_Creatable]:
        """Those never applied, whose target is free and addressed by no other candidate."""
        if len(creatable) < MIN_BULK:
            return []
        applied = self._store.applied_fingerprints(
            ctx.account_id, [c.fingerprint for c in creatable]
        )
        taken = self._store.find_nodes(ctx.account_id, [c.target for c in creatable])
        return [
            c
            for c in creatable
            if c.fingerprint not in applied and c.target not in taken and wanted[c.target] == 1
        ]

    def _plan(self, fresh: _Creatable) -> WritePlan:
        policy = self._router.policy_for(fresh.memory_type)
        return policy.plan(fresh.candidate, fresh.target, None)

    def _new_node(self, fresh: _Creatable, plan: WritePlan, ctx: RequestContext) -> NewNode:
        node = self._builder.build(fresh.candidate, plan, ctx, fresh.memory_type)
        emitted = events.upsert_events(
            node.evolve(version=1), refresh_directory=not fresh.memory_type.single_node
        )
        return NewNode(node, tuple(emitted), fresh.fingerprint, plan.action.value)
