"""Superseding: a newer fact replaces an older one, and the older one is closed, not lost.

A superseded node keeps status ACTIVE with ``valid_to`` set: it stays readable, its history
stays, and search still finds it (ranked after the facts valid now and marked superseded, or
first when asked ``as_of`` a moment it held). ``supersede`` is the one operation; the write
pipeline calls it for a merge that replaces (``replace_in_place``), dreaming for two stored
memories that contradict.

The deterministic rule (no LLM, see docs/decisions.md): a candidate that states
``valid_from`` replaces what it addresses when that began earlier: the node at its URI for an
upsert type, the newest active node with the same routing key for an add-only type. Without
``valid_from`` it adds (the ordinary merge): the time a fact was recorded is no evidence that
an earlier fact ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ogmem.commit import events
from ogmem.core import errors
from ogmem.core.models import (
    CandidateMemory,
    ContextNode,
    NodeStatus,
    WriteAction,
    WritePlan,
    as_utc,
    utcnow,
)
from ogmem.core.ports import Store
from ogmem.schemas.registry import MemoryType

SUPERSEDED_BY = "superseded_by"
SUPERSEDES = "supersedes"


@dataclass(frozen=True, slots=True)
class Superseded:
    """Both nodes as stored by ``supersede``."""

    older: ContextNode
    newer: ContextNode


def _expected(node: ContextNode) -> int | None:
    return None if node.version == 0 else node.version


def _write(store: Store, node: ContextNode, fingerprint: str | None, action: str) -> ContextNode:
    expected = _expected(node)
    emitted = events.upsert_events(node.evolve(version=node.version + 1), refresh_directory=True)
    return store.write_node_with_outbox(
        node, emitted, expected_version=expected, fingerprint=fingerprint, action=action
    )


def supersede(
    store: Store,
    older: ContextNode,
    newer: ContextNode,
    *,
    at: datetime | None = None,
    reason: str = "",
    fingerprint: str | None = None,
    action: str = "supersede",
) -> Superseded:
    """Close ``older``'s validity where ``newer``'s begins; both writes in one transaction.

    Parameters:
        older: the fact that stopped holding. Written with ``valid_to = at`` and
            ``metadata["superseded_by"] = newer.uri``; it stays ACTIVE (readable, searchable
            with ``as_of``). A node at version 0 is created (a snapshot, see
            ``replace_in_place``); a stored one is updated at its version.
        newer: the fact that holds from ``at`` on. Written with ``valid_from`` (its own, else
            ``at``) and ``older.uri`` added to ``metadata["supersedes"]``; version 0 creates.
        at: when ``older`` stopped holding; default ``newer.valid_from``, else now.
        reason: why (kept in both nodes' metadata, ``supersede_reason``).
        fingerprint: the idempotency record of ``newer``'s write (a candidate's).
        action: the history action of ``newer``'s write.

    Returns:
        Both nodes as stored (new versions).

    Raises:
        errors.ConcurrentModificationError: either node moved on since it was read.
        errors.InvalidInput: the nodes are the same, or ``at`` precedes ``older.valid_from``.
    """
    if older.uri == newer.uri:
        raise errors.InvalidInput(f"a node cannot supersede itself ({older.uri})")
    moment = at or newer.valid_from or utcnow()
    if older.valid_from is not None and moment < older.valid_from:
        raise errors.InvalidInput(
            f"{newer.uri} cannot supersede {older.uri} at {moment.isoformat()}: "
            f"that fact only holds from {older.valid_from.isoformat()}"
        )
    closed = older.evolve(
        valid_to=moment,
        metadata={**older.metadata, SUPERSEDED_BY: newer.uri, "supersede_reason": reason},
    )
    pointers = [*_listed(newer.metadata.get(SUPERSEDES)), older.uri]
    opened = newer.evolve(
        valid_from=newer.valid_from or moment,
        valid_to=None,
        status=NodeStatus.ACTIVE,
        metadata={**newer.metadata, SUPERSEDES: list(dict.fromkeys(pointers))},
    )
    if reason:
        opened = opened.evolve(metadata={**opened.metadata, "supersede_reason": reason})
    with store.transaction():
        stored_older = _write(store, closed, None, "superseded")
        stored_newer = _write(store, opened, fingerprint, action)
    return Superseded(stored_older, stored_newer)


def _listed(value: Any) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def snapshot_uri(node: ContextNode) -> str:
    """Where the superseded fact of a node replaced in place is kept: ``<uri>.v<version>``."""
    return f"{node.uri}.v{node.version}"


def replace_in_place(
    store: Store,
    existing: ContextNode,
    replacement: ContextNode,
    *,
    reason: str,
    fingerprint: str | None = None,
) -> Superseded:
    """An upsert node whose fact changed: its current fact is copied to ``snapshot_uri`` and
    closed there, and ``replacement`` (the node at the same URI and version as ``existing``)
    takes the URI with its validity open. One transaction; the URI's own history keeps every
    version as well."""
    snapshot = existing.evolve(
        uri=snapshot_uri(existing),
        version=0,
        metadata={**existing.metadata, "snapshot_of": existing.uri, "snapshot_version":
                  existing.version},
    )  # fmt: skip
    return supersede(
        store, snapshot, replacement, reason=reason, fingerprint=fingerprint, action="merge"
    )


def may_replace_entry(candidate: CandidateMemory, memory_type: MemoryType) -> bool:
    """An add-only candidate that states ``valid_from``: it may replace an earlier entry of
    the same routing key (so it is written on its own, not in a bulk insert)."""
    return memory_type.operation_mode == "add_only" and candidate.valid_from is not None


def replaced_entry(
    store: Store, candidate: CandidateMemory, built: ContextNode
) -> ContextNode | None:
    """The add-only rule: the entry of the same directory and routing key, active, open and
    begun before ``built``, that began last (None: nothing to replace). It reads the whole
    directory, which only a candidate stating ``valid_from`` pays for."""
    start = built.valid_from
    directory = built.uri.rstrip("/").rsplit("/", 1)[0]
    entries = [
        entry.node
        for entry in store.list_children(built.account_id, directory)
        if entry.node is not None and entry.node.uri != built.uri
    ]
    earlier = [
        node
        for node in entries
        if node.metadata.get("routing_key") == candidate.routing_key
        and node.status is NodeStatus.ACTIVE
        and node.valid_to is None
        and start is not None
        and (node.valid_from or node.created_at) < start
    ]
    return max(earlier, key=lambda n: n.valid_from or n.created_at, default=None)


def write_replacing(
    store: Store,
    candidate: CandidateMemory,
    memory_type: MemoryType,
    plan: WritePlan,
    built: ContextNode,
    fingerprint: str | None,
) -> ContextNode | None:
    """Write ``built`` as the fact that replaces another, when it does: a merge whose relation
    is "supersedes" (the old fact kept at ``snapshot_uri``), or an add-only entry that states
    ``valid_from`` after an entry of the same routing key. None: an ordinary write (the caller
    writes it)."""
    if plan.existing is not None and replaces(plan, built):
        return replace_in_place(
            store, plan.existing, built, reason=plan.reason, fingerprint=fingerprint
        ).newer
    creates = plan.action is WriteAction.CREATE and plan.existing is None
    if creates and may_replace_entry(candidate, memory_type):
        older = replaced_entry(store, candidate, built)
        if older is not None:
            reason = f"a later {memory_type.name} with the routing key {candidate.routing_key}"
            return supersede(
                store, older, built, reason=reason, fingerprint=fingerprint, action="create"
            ).newer
    return None


def replaces(plan: WritePlan, built: ContextNode) -> bool:
    """Whether a merge plan's built node replaces the fact instead of adding to it."""
    merged = built.metadata.get("merge")
    return (
        plan.action is WriteAction.MERGE
        and isinstance(merged, dict)
        and merged.get("relation") == "supersedes"
    )


def states_replacement(candidate: CandidateMemory, existing: ContextNode) -> bool:
    """The deterministic rule: the candidate states since when its fact holds, and that is
    later than the start of the fact it addresses (an unknown start counts as earlier)."""
    if candidate.valid_from is None:
        return False
    start = as_utc(candidate.valid_from, "valid_from")
    return existing.valid_from is None or existing.valid_from < start
