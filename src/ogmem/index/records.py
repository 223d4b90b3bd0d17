"""Index records of a node: its non-empty, distinct levels (pure)."""

from __future__ import annotations

from ogmem.core.models import ContextNode, ContextType, IndexRecord

LEVELS = ("abstract", "overview", "content")


def records_for(node: ContextNode) -> list[IndexRecord]:
    """Up to three records (L0 abstract, L1 overview, L2 content).

    Empty levels are skipped, and so is a level whose text repeats a lower level's (a one-line
    memory has abstract == content): the same text embedded twice only costs time and crowds
    out other memories in the nearest-neighbour list.

    A directory summary gives only its abstract: its overview lists its children's abstracts,
    which are indexed as the children themselves, and re-embedding that long text on every
    refresh cost ~5 % of the embedder's time during a bulk ingest (bench: ingest).
    """
    records: list[IndexRecord] = []
    seen: set[str] = set()
    levels = LEVELS[:1] if node.context_type is ContextType.DIRECTORY else LEVELS
    for level, name in enumerate(levels):
        text = getattr(node, name).strip()
        if not text or text in seen:
            continue
        seen.add(text)
        records.append(
            IndexRecord(
                account_id=node.account_id,
                uri=node.uri,
                level=level,
                text=text,
                owner_space=node.owner_space,
                category=node.category,
                context_type=node.context_type,
                status=node.status,
                node_version=node.version,
            )
        )
    return records
