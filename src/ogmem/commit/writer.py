"""ContextWriter: plan -> build -> write (node + outbox + version + idempotency, one transaction).

Kept from the seed: agent-scoped candidates without an agent are skipped; archive is a soft
delete, delete a removal; up to 3 attempts with backoff on ConcurrentModificationError; a
parallel writer. Mended: one transaction for everything (no non-atomic fallback), persisted and
thread-safe idempotency, a result for every candidate, version checks on archive and delete,
and a merge that never loses the candidate (see merge.py).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import partial
from typing import TypeVar

from ogmem.commit import events, supersede
from ogmem.commit.archive_builder import ArchiveBuilder
from ogmem.commit.bulk import Built, BulkWriter
from ogmem.commit.identity import PreparedWrite, operation_fingerprint
from ogmem.commit.outcomes import (
    StripedLocks,
    failed_result,
    reported,
    result_of,
    written_result,
)
from ogmem.commit.router import PolicyRouter
from ogmem.core import errors, uri
from ogmem.core.models import (
    CandidateMemory,
    ContextNode,
    NodeStatus,
    RequestContext,
    WriteAction,
    WritePlan,
    WriteResult,
    WriteStatus,
    utcnow,
)
from ogmem.core.ports import LLMClient, Store
from ogmem.schemas.registry import MemoryType, SchemaRegistry

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_DELAYS = (0.1, 0.2, 0.4)
PARALLEL_WORKERS = 4
T = TypeVar("T")


def _destination(text: str, node: ContextNode) -> str:
    """A move may rename a node inside its owner's tree, never hand it to another owner or
    put it at a root (where it would vanish from listings)."""
    parsed = uri.parse(text)
    kind, owner = node.owner_space.split(":", 1)
    root = ("users" if kind == "user" else "agents", owner)
    if parsed.account != node.account_id or parsed.segments[:2] != root or len(parsed.segments) < 4:
        space = f"ctx://{node.account_id}/{root[0]}/{root[1]}"
        raise errors.InvalidInput(f"destination must be {space}/<directory>/<name>, not {text}")
    return str(parsed)


def own_uri(text: str, ctx: RequestContext) -> str:
    """Validate a caller-supplied URI; another account's URI is reported as not found."""
    parsed = uri.parse(text)
    if parsed.account != ctx.account_id:
        raise errors.NotFound(f"no node at {text}")
    return str(parsed)


class ContextWriter:
    """Writes candidate memories and the archive / delete / move operations on nodes."""

    def __init__(
        self,
        store: Store,
        registry: SchemaRegistry,
        llm: LLMClient | None = None,
        *,
        policy_router: PolicyRouter | None = None,
        archive_builder: ArchiveBuilder | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        retry_delays: Sequence[float] = RETRY_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise errors.ConfigurationError("max_attempts must be at least 1")
        self._store = store
        self._registry = registry
        self._router = policy_router or PolicyRouter(registry, store)
        self._builder = archive_builder or ArchiveBuilder(llm)
        self._max_attempts = max_attempts
        self._retry_delays = tuple(retry_delays) or (0.0,)
        self._sleep = sleep
        self._locks = StripedLocks()
        self._bulk = BulkWriter(store, self._router, self._builder)

    # -- candidates ---------------------------------------------------------------------------

    def write_candidate(self, candidate: CandidateMemory, ctx: RequestContext) -> WriteResult:
        """Write one candidate; errors come back in the result, they are not raised."""
        return reported(candidate, partial(self._write, candidate, ctx), bugs=False)

    def write_candidates(
        self, candidates: Sequence[CandidateMemory], ctx: RequestContext
    ) -> list[WriteResult]:
        """One result per candidate, in order; nothing is dropped, not even on a crash.

        The batch is group-committed: each candidate is still atomic on its own (a failed one
        leaves nothing), and the batch costs one commit. Its creations and merges are applied
        in memory and written in bulk first (see bulk.py); the rest one by one.
        """
        with self._store.group_commit():
            prepared = [reported(c, partial(self._prepare, c, ctx), bugs=True) for c in candidates]
            ready = {i: p for i, p in enumerate(prepared) if isinstance(p, PreparedWrite)}
            settled = self._bulk.write(ready, ctx)
            return [
                settled.results.get(index) or self._write_ready(item, ctx, settled.built.get(index))
                for index, item in enumerate(prepared)
            ]

    def _write_ready(
        self, item: PreparedWrite | WriteResult, ctx: RequestContext, built: Built | None
    ) -> WriteResult:
        if isinstance(item, WriteResult):  # skipped or failed while being prepared
            return item
        write = partial(self._write_prepared, item, ctx, built)
        return reported(item.candidate, write, bugs=True)

    def write_candidates_parallel(
        self,
        candidates: Sequence[CandidateMemory],
        ctx: RequestContext,
        max_workers: int = PARALLEL_WORKERS,
    ) -> list[WriteResult]:
        """Like write_candidates, on a thread pool; results keep the input order."""
        with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="ogmem-write") as pool:
            futures = [pool.submit(self._write_guarded, c, ctx) for c in candidates]
            return [future.result() for future in futures]

    def _write_guarded(self, candidate: CandidateMemory, ctx: RequestContext) -> WriteResult:
        return reported(candidate, partial(self._write, candidate, ctx), bugs=True)

    def _write(self, candidate: CandidateMemory, ctx: RequestContext) -> WriteResult:
        prepared = self._prepare(candidate, ctx)
        if isinstance(prepared, WriteResult):
            return prepared
        return self._write_prepared(prepared, ctx)

    def _prepare(
        self, candidate: CandidateMemory, ctx: RequestContext
    ) -> PreparedWrite | WriteResult:
        """Check the candidate against its type and address it; a skip comes back as a result,
        invalid input as an exception."""
        memory_type = self._registry.get(candidate.category)
        if memory_type.owner_scope == "agent" and not ctx.agent_id:
            reason = f"{memory_type.name} is agent-scoped and the request has no agent_id"
            logger.info("skipping %s/%s: %s", candidate.category, candidate.routing_key, reason)
            return result_of(candidate, WriteStatus.SKIPPED, reason)
        memory_type.validate_candidate(candidate)
        fingerprint = operation_fingerprint(candidate, ctx)
        target = self._router.target_uri(candidate, ctx)
        return PreparedWrite(candidate, memory_type, fingerprint, target)

    def _write_prepared(
        self, prepared: PreparedWrite, ctx: RequestContext, built: Built | None = None
    ) -> WriteResult:
        candidate, memory_type = prepared.candidate, prepared.memory_type
        fingerprint, target = prepared.fingerprint, prepared.target
        applied = self._store.find_applied(ctx.account_id, fingerprint)
        if applied is not None:
            reason = (
                f"duplicate: this candidate was already applied ({applied.action} of "
                f"{applied.uri} v{applied.version} at {applied.applied_at.isoformat()})"
            )
            return result_of(candidate, WriteStatus.SKIPPED, reason)

        def attempt(number: int) -> WriteResult:
            given = built if number == 1 else None  # a retry merges with what it reads
            return self._attempt(candidate, ctx, memory_type, target, fingerprint, number, given)

        def exhausted(exc: errors.ConcurrentModificationError, attempts: int) -> WriteResult:
            failed = failed_result(candidate, exc, retryable=True)
            return replace(
                failed, reason="gave up after concurrent modifications", attempts=attempts
            )

        with self._locks.for_key(ctx.account_id, target):
            return self._retrying(target, attempt, on_exhausted=exhausted)

    def _attempt(
        self,
        candidate: CandidateMemory,
        ctx: RequestContext,
        memory_type: MemoryType,
        target: str,
        fingerprint: str,
        attempt: int,
        built: Built | None = None,
    ) -> WriteResult:
        plan = self._router.plan(candidate, ctx, target)
        if plan.action is WriteAction.SKIP:
            return result_of(
                candidate, WriteStatus.SKIPPED, plan.reason, plan=plan, attempts=attempt
            )
        given = built.node if built is not None and built.fits(plan) else None
        try:
            node = self._apply(candidate, ctx, memory_type, plan, fingerprint, given)
        except errors.DuplicateOperation as exc:
            reason = f"duplicate: applied concurrently by another writer ({exc})"
            return result_of(candidate, WriteStatus.SKIPPED, reason, plan=plan, attempts=attempt)
        return written_result(candidate, plan, node, attempts=attempt)

    def _apply(
        self,
        candidate: CandidateMemory,
        ctx: RequestContext,
        memory_type: MemoryType,
        plan: WritePlan,
        fingerprint: str,
        built: ContextNode | None = None,
    ) -> ContextNode | None:
        """Apply ``plan``; ``built`` is the node it writes when the bulk path built it."""
        if plan.action is WriteAction.ARCHIVE:
            return self._archive_node(ctx, plan.target_uri, plan.existing, fingerprint)
        if plan.action is WriteAction.DELETE:
            self._delete_node(ctx, plan.target_uri, plan.existing, fingerprint)
            return None
        node = built or self._builder.build(candidate, plan, ctx, memory_type)
        replacing = supersede.write_replacing(
            self._store, candidate, memory_type, plan, node, fingerprint
        )
        if replacing is not None:
            return replacing
        emitted = events.write_events(node, (plan.expected_version or 0) + 1, memory_type)
        return self._store.write_node_with_outbox(
            node, emitted, expected_version=plan.expected_version,
            fingerprint=fingerprint, action=plan.action.value,
        )  # fmt: skip

    def _retrying(
        self,
        target: str,
        attempt_fn: Callable[[int], T],
        on_exhausted: Callable[[errors.ConcurrentModificationError, int], T] | None = None,
    ) -> T:
        """Run ``attempt_fn`` up to max_attempts times while the node keeps changing under us."""
        for attempt in range(1, self._max_attempts + 1):
            try:
                return attempt_fn(attempt)
            except errors.ConcurrentModificationError as exc:
                if attempt == self._max_attempts:
                    logger.error("giving up on %s after %d attempts: %s", target, attempt, exc)
                    if on_exhausted is None:
                        raise
                    return on_exhausted(exc, attempt)
                delay = self._retry_delays[min(attempt - 1, len(self._retry_delays) - 1)]
                logger.info(
                    "conflict on %s (attempt %d), retrying in %.2fs", target, attempt, delay
                )
                # jitter keeps competing processes from retrying in lock step
                self._sleep(delay * random.uniform(0.5, 1.5))
        raise AssertionError("unreachable")

    def target_uri(self, candidate: CandidateMemory, ctx: RequestContext) -> str:
        """Where ``candidate`` is (or would be) written."""
        return self._router.target_uri(candidate, ctx)

    # -- node operations ----------------------------------------------------------------------

    def archive(
        self, node_uri: str, ctx: RequestContext, expected_version: int | None = None
    ) -> ContextNode:
        """Soft-delete a node (status ARCHIVED, ``archived_at`` in metadata); checks the version."""
        target = own_uri(node_uri, ctx)

        def attempt(_: int) -> ContextNode:
            node = self._store.read_node(ctx.account_id, target)
            self._check_version(node, expected_version)
            return self._archive_node(ctx, target, node, None)

        with self._locks.for_key(ctx.account_id, target):
            return self._retrying(target, attempt) if expected_version is None else attempt(1)

    def delete(
        self, node_uri: str, ctx: RequestContext, expected_version: int | None = None
    ) -> None:
        """Remove a node and its history; checks the version."""
        target = own_uri(node_uri, ctx)

        def attempt(_: int) -> None:
            node = self._store.read_node(ctx.account_id, target)
            self._check_version(node, expected_version)
            self._delete_node(ctx, target, node, None)

        with self._locks.for_key(ctx.account_id, target):
            self._retrying(target, attempt) if expected_version is None else attempt(1)

    def move(
        self, src: str, dst: str, ctx: RequestContext, expected_version: int | None = None
    ) -> ContextNode:
        """Give a node a new URI (history follows it); the destination must be free and stay
        in the node's own space (its user's or agent's tree, below a directory)."""
        source = own_uri(src, ctx)
        with self._locks.for_key(ctx.account_id, source):
            node = self._store.read_node(ctx.account_id, source)
            self._check_version(node, expected_version)
            destination = _destination(dst, node)
            moved = node.evolve(uri=destination, version=node.version + 1)
            return self._store.move_node(
                ctx.account_id, source, destination,
                expected_version=node.version, events=events.move_events(moved, source),
            )  # fmt: skip

    def restore(
        self, node_uri: str, ctx: RequestContext, expected_version: int | None = None
    ) -> ContextNode:
        """Undo an archive: the node active again (a new version), indexed again."""
        target = own_uri(node_uri, ctx)
        with self._locks.for_key(ctx.account_id, target):
            node = self._store.read_node(ctx.account_id, target)
            self._check_version(node, expected_version)
            if node.status is not NodeStatus.ARCHIVED:
                return node
            metadata = {k: v for k, v in node.metadata.items() if k != "archived_at"}
            kept = None if node.expired(utcnow()) else node.expires_at  # restored: kept again
            active = node.evolve(status=NodeStatus.ACTIVE, metadata=metadata, expires_at=kept)
            return self._store.write_node_with_outbox(
                active, events.upsert_events(active.evolve(version=node.version + 1),
                                             refresh_directory=True),
                expected_version=node.version, action="restore",
            )  # fmt: skip

    def rewrite(
        self, node: ContextNode, ctx: RequestContext, *, expected_version: int,
        fingerprint: str | None = None, action: str = "rewrite",
    ) -> ContextNode:  # fmt: skip
        """Write ``node`` (an existing node with new fields, status or metadata) as the next
        version of the one at ``expected_version``: how maintenance (dreaming, its undo)
        changes nodes through the pipeline (version, outbox, idempotency in one transaction)."""
        target = own_uri(node.uri, ctx)
        version = expected_version + 1
        if node.status is NodeStatus.ARCHIVED:
            emitted = events.archive_events(ctx.account_id, target, version)
        else:
            emitted = events.upsert_events(node.evolve(version=version), refresh_directory=True)
        with self._locks.for_key(ctx.account_id, target):
            return self._store.write_node_with_outbox(
                node, emitted, expected_version=expected_version,
                fingerprint=fingerprint, action=action,
            )  # fmt: skip

    @staticmethod
    def _check_version(node: ContextNode, expected_version: int | None) -> None:
        if expected_version is not None and node.version != expected_version:
            raise errors.ConcurrentModificationError(node.uri, expected_version, node.version)

    def _archive_node(
        self, ctx: RequestContext, target: str, node: ContextNode | None, fingerprint: str | None
    ) -> ContextNode:
        if node is None:
            raise errors.NotFound(f"no node at {target}")
        if node.status is NodeStatus.ARCHIVED:
            return node
        return self._store.archive_node(
            ctx.account_id, target, expected_version=node.version,
            events=events.archive_events(ctx.account_id, target, node.version + 1),
            archived_at=utcnow(), fingerprint=fingerprint,
        )  # fmt: skip

    def _delete_node(
        self, ctx: RequestContext, target: str, node: ContextNode | None, fingerprint: str | None
    ) -> None:
        if node is None:
            raise errors.NotFound(f"no node at {target}")
        self._store.delete_node(
            ctx.account_id, target, expected_version=node.version,
            events=events.delete_events(ctx.account_id, target), fingerprint=fingerprint,
        )  # fmt: skip
