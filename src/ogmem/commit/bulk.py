"""BulkWriter: the common cases of a batch, new memories and merges into them or into
existing nodes, in a few statements for the whole batch.

``ContextWriter.write_candidates`` checks and addresses every candidate once, then hands
those that passed here first. Their writes are grouped by target node and each group is
applied in memory, in the batch's order, as the one-by-one path would apply it: the type's
policy plans each candidate against the node as the group's earlier writes left it (a
creation, a merge, or a skip for no new information), and each write is still a version of
its own in the node's history with its own events and idempotency record. Every group is
then stored in one transaction (``Store.write_chains``): each kind of row in one statement,
one version check per existing node.

Left to the one-by-one path, which runs after this one and reads the store as these writes
left it:
- every candidate of a target that a retraction (archive, delete) or an add-only candidate
  stating ``valid_from`` (it may replace another entry) addresses, or that holds a candidate
  applied already or twice in the batch: their order or their reads reach beyond the group;
- the rest of a group from a candidate whose merge replaces the fact (supersede.py keeps the
  old one at a snapshot; the node merged here is handed over, so an LLM is not asked twice)
  or whose build failed (the one-by-one path reports its failure);
- the whole batch when the store refuses it (a concurrent writer took a target or moved a
  node on, a fingerprint was applied meanwhile): everything is rolled back and each
  candidate is then reported on its own (merges asked of an LLM are asked again).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from ogmem.commit import events, supersede
from ogmem.commit.archive_builder import ArchiveBuilder
from ogmem.commit.identity import PreparedWrite
from ogmem.commit.outcomes import result_of, written_result
from ogmem.commit.router import PolicyRouter
from ogmem.core.models import (
    ContextNode,
    NewNode,
    NodeChain,
    RequestContext,
    WriteAction,
    WritePlan,
    WriteResult,
    WriteStatus,
)
from ogmem.core.ports import Store

logger = logging.getLogger(__name__)

_WRITES = (WriteAction.CREATE, WriteAction.MERGE)


@dataclass(frozen=True, slots=True)
class _Step:
    index: int
    plan: WritePlan
    write: NewNode


@dataclass(frozen=True, slots=True)
class Built:
    """A merge built here but written one by one: usable while the node is still at
    ``expected_version`` (the version it was merged with)."""

    expected_version: int | None
    node: ContextNode

    def fits(self, plan: WritePlan) -> bool:
        return plan.action is WriteAction.MERGE and plan.expected_version == self.expected_version


@dataclass(frozen=True, slots=True)
class Settled:
    """What the bulk path settled (results by index) and the merges it handed over."""

    results: dict[int, WriteResult] = field(default_factory=dict)
    built: dict[int, Built] = field(default_factory=dict)


@dataclass(slots=True)
class _Group:
    """One target's candidates applied in memory: the writes, and the skips among them."""

    existing: ContextNode | None
    steps: list[_Step] = field(default_factory=list)
    skipped: dict[int, WriteResult] = field(default_factory=dict)
    handed_over: dict[int, Built] = field(default_factory=dict)

    def chain(self) -> NodeChain:
        expected = None if self.existing is None else self.existing.version
        return NodeChain(expected, tuple(step.write for step in self.steps))


class BulkWriter:
    def __init__(self, store: Store, router: PolicyRouter, builder: ArchiveBuilder) -> None:
        self._store = store
        self._router = router
        self._builder = builder

    def write(self, ready: Mapping[int, PreparedWrite], ctx: RequestContext) -> Settled:
        """Results of the candidates settled here, by the index they were given in
        ``ready`` (the candidates that passed their checks); the others are left to the
        caller (all of them when the store refused the batch), with the merges built here
        for them."""
        groups = self._groups(ready, ctx)
        writing = [g for g in groups if g.steps]
        built = {i: b for g in groups for i, b in g.handed_over.items()}
        try:
            stored = self._store.write_chains([g.chain() for g in writing]) if writing else []
        except Exception as exc:  # even a bug: one by one, it costs only its own candidate
            logger.info("bulk write of %d groups fell back to one by one: %s", len(writing), exc)
            return Settled(built=built)
        results: dict[int, WriteResult] = {}
        for group in groups:
            results.update(group.skipped)
        for group, nodes in zip(writing, stored, strict=True):
            for step, node in zip(group.steps, nodes, strict=True):
                candidate = ready[step.index].candidate
                results[step.index] = written_result(candidate, step.plan, node, attempts=1)
        return Settled(results, built)

    def _groups(self, ready: Mapping[int, PreparedWrite], ctx: RequestContext) -> list[_Group]:
        if not ready:
            return []
        by_target: dict[str, list[int]] = {}
        for index, prepared in ready.items():
            by_target.setdefault(prepared.target, []).append(index)
        eligible = self._eligible(ready, by_target, ctx)
        existing = self._store.find_nodes(ctx.account_id, list(eligible))
        return [
            self._applied(ready, eligible[target], existing.get(target), ctx) for target in eligible
        ]

    def _eligible(
        self, ready: Mapping[int, PreparedWrite], by_target: dict[str, list[int]],
        ctx: RequestContext,
    ) -> dict[str, list[int]]:  # fmt: skip
        """The targets whose candidates may all be applied in memory, with their indexes."""
        fingerprints = Counter(p.fingerprint for p in ready.values())
        applied = self._store.applied_fingerprints(ctx.account_id, list(fingerprints))

        def plain(prepared: PreparedWrite) -> bool:
            return (
                prepared.candidate.operation == "write"
                and not supersede.may_replace_entry(prepared.candidate, prepared.memory_type)
                and prepared.fingerprint not in applied
                and fingerprints[prepared.fingerprint] == 1
            )

        return {
            target: indexes
            for target, indexes in by_target.items()
            if all(plain(ready[index]) for index in indexes)
        }

    def _applied(
        self, ready: Mapping[int, PreparedWrite], indexes: list[int],
        current: ContextNode | None, ctx: RequestContext,
    ) -> _Group:  # fmt: skip
        """The group's candidates planned and built one after the other, each against the
        node as the ones before left it; stops at the first that must go one by one."""
        group = _Group(existing=current)
        for index in indexes:
            prepared = ready[index]
            policy = self._router.policy_for(prepared.memory_type)
            plan = policy.plan(prepared.candidate, prepared.target, current)
            if plan.action is WriteAction.SKIP:
                group.skipped[index] = result_of(
                    prepared.candidate, WriteStatus.SKIPPED, plan.reason, plan=plan, attempts=1
                )
                continue
            built = self._built(prepared, plan, ctx)
            if built is None or supersede.replaces(plan, built):
                if built is not None:  # the one-by-one path writes it, as it replaces
                    group.handed_over[index] = Built(plan.expected_version, built)
                break
            version = (current.version if current else 0) + 1
            emitted = events.write_events(built, version, prepared.memory_type)
            write = NewNode(built, tuple(emitted), prepared.fingerprint, plan.action.value)
            group.steps.append(_Step(index, plan, write))
            current = built.evolve(version=version)
        return group

    def _built(
        self, prepared: PreparedWrite, plan: WritePlan, ctx: RequestContext
    ) -> ContextNode | None:
        """The node ``plan`` writes, or None when it must be written one by one."""
        if plan.action not in _WRITES:
            return None
        try:
            return self._builder.build(prepared.candidate, plan, ctx, prepared.memory_type)
        except Exception as exc:  # the one-by-one path builds it again and reports it
            logger.info("%s goes one by one: %s", prepared.target, exc)
            return None
