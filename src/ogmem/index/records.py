"""Index records of a node: its non-empty, distinct levels (pure)."""

from __future__ import annotations

from ogmem.core.models import ContextNode, IndexRecord

LEVELS = ("abstract", "overview", "content")


def records_for(node: ContextNode) -> list[IndexRecord]:
    """Up to three records (L0 abstract, L1 overview, L2 content).

    Empty levels are skipped, and so is a level whose text repeats a lower level's (a one-line
    memory has abstract == content): the same text embedded twice only costs time and crowds
    out other memories in the nearest-neighbour list.
    """
    records: list[IndexRecord] = []
    seen: set[str] = set()
    for level, name in enumerate(LEVELS):
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
