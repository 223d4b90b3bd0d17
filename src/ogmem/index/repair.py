"""Repair and reindex: bring the index back in line with the nodes after damage or a change
of embedding model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ogmem.core import uri
from ogmem.core.models import EventType, OutboxEvent
from ogmem.core.ports import Outbox, Store
from ogmem.core.storage import IndexStore
from ogmem.index.sync import IndexSync

REINDEX_CHUNK = 256


@dataclass
class RepairReport:
    requeued: int = 0
    removed: int = 0


def repair(outbox: Outbox, index: IndexStore, account_ids: list[str]) -> RepairReport:
    """Re-enqueue nodes whose index lags their version; drop records of vanished nodes."""
    report = RepairReport()
    for account_id in account_ids:
        lagging = index.lagging_nodes(account_id)
        events = [
            OutboxEvent(
                account_id,
                EventType.UPSERT_CONTEXT,
                node_uri,
                {"version": version, "reason": "repair"},
            )
            for node_uri, version in lagging
        ]
        if events:
            outbox.enqueue(events)
        report.requeued += len(events)
        for orphan in index.orphan_uris(account_id):
            index.remove(account_id, orphan)
            report.removed += 1
    return report


def reindex(
    store: Store,
    sync: IndexSync,
    account_ids: list[str],
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Re-embed every node of the accounts; ``progress(done, total)`` after each chunk."""
    uris = [
        (account_id, node.uri)
        for account_id in account_ids
        for node in store.tree(account_id, str(uri.build(account_id)))
    ]
    for start in range(0, len(uris), REINDEX_CHUNK):
        chunk = uris[start : start + REINDEX_CHUNK]
        by_account: dict[str, list[str]] = {}
        for account_id, node_uri in chunk:
            by_account.setdefault(account_id, []).append(node_uri)
        for account_id, node_uris in by_account.items():
            sync.sync(account_id, node_uris, force=True)
        if progress:
            progress(start + len(chunk), len(uris))
    return len(uris)
