"""BulkCreator: the common case of a batch, new memories at new URIs, in a few statements.

``ContextWriter.write_candidates`` checks and addresses every candidate once, then hands
those that passed here first. The ones that are certainly creations (never applied, their
target free, no other candidate of the batch at the same target) are written together in
one savepoint: each kind of row (node, history, outbox event, idempotency record) in one
statement instead of one per candidate. A raw-mode commit or a bulk import is all
creations. Everything else (merges, duplicates, retractions) goes through the writer's
one-by-one path, and so does the whole bulk set when its insert fails for any reason (a
concurrent writer took a target, a fingerprint was applied meanwhile): that path then
reports each candidate on its own.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping

from ogmem.commit import events, supersede
from ogmem.commit.archive_builder import ArchiveBuilder
from ogmem.commit.identity import PreparedWrite
from ogmem.commit.router import PolicyRouter
from ogmem.core.models import (
    NewNode,
    RequestContext,
    WriteAction,
    WritePlan,
    WriteResult,
    WriteStatus,
)
from ogmem.core.ports import Store

logger = logging.getLogger(__name__)

MIN_BULK = 2  # one candidate gains nothing from the bulk statements


class BulkCreator:
    def __init__(self, store: Store, router: PolicyRouter, builder: ArchiveBuilder) -> None:
        self._store = store
        self._router = router
        self._builder = builder

    def create(
        self, ready: Mapping[int, PreparedWrite], ctx: RequestContext
    ) -> dict[int, WriteResult]:
        """Results of the candidates written here, by the index they were given in ``ready``
        (the candidates that passed their checks); the others are left to the caller (all of
        them when the bulk insert failed)."""
        planned = [
            (index, plan)
            for index in self._fresh(ready, ctx)
            if (plan := self._plan(ready[index])).action is WriteAction.CREATE
        ]
        if len(planned) < MIN_BULK:
            return {}
        try:
            new_nodes = [self._new_node(ready[index], plan, ctx) for index, plan in planned]
            stored = self._store.create_nodes_with_outbox(new_nodes)
        except Exception as exc:  # even a bug: one by one, it costs only its own candidate
            logger.info("bulk creation of %d fell back to one by one: %s", len(planned), exc)
            return {}
        return {
            index: WriteResult(
                candidate=ready[index].candidate,
                status=WriteStatus.WRITTEN,
                reason=plan.reason,
                plan=plan,
                node=node,
                attempts=1,
            )
            for (index, plan), node in zip(planned, stored, strict=True)
        }

    def _fresh(self, ready: Mapping[int, PreparedWrite], ctx: RequestContext) -> list[int]:
        """The writes never applied, whose target is free and addressed by no other candidate
        of the batch (retractions included: written first, a creation would change what an
        earlier retraction in the batch finds)."""
        writes = {i: p for i, p in ready.items() if p.candidate.operation == "write"}
        if len(writes) < MIN_BULK:
            return []
        applied = self._store.applied_fingerprints(
            ctx.account_id, [p.fingerprint for p in writes.values()]
        )
        taken = self._store.find_nodes(ctx.account_id, [p.target for p in writes.values()])
        wanted = Counter(p.target for p in ready.values())
        return [
            i
            for i, p in writes.items()
            if p.fingerprint not in applied
            and p.target not in taken
            and wanted[p.target] == 1
            and not supersede.may_replace_entry(p.candidate, p.memory_type)
        ]

    def _plan(self, prepared: PreparedWrite) -> WritePlan:
        policy = self._router.policy_for(prepared.memory_type)
        return policy.plan(prepared.candidate, prepared.target, None)

    def _new_node(self, prepared: PreparedWrite, plan: WritePlan, ctx: RequestContext) -> NewNode:
        node = self._builder.build(prepared.candidate, plan, ctx, prepared.memory_type)
        emitted = events.write_events(node, 1, prepared.memory_type)
        return NewNode(node, tuple(emitted), prepared.fingerprint, plan.action.value)
