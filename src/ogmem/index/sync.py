"""IndexSync: brings the index records of a set of URIs in line with their nodes.

Every event about a URI means "the index of this URI may be behind its node", so a batch of
events reduces to a set of URIs (coalescing), each synced against the node as it is now:
missing node -> remove records; indexed version equal to the node's -> nothing (a stale or
duplicate event is dropped); otherwise rebuild the records, embedding only levels whose text
changed. All texts of a batch go to the embedder in one call (it batches internally).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ogmem.core.models import ContextNode, IndexRecord
from ogmem.core.ports import Embedder, Store
from ogmem.core.storage import IndexStore, StoredRecord
from ogmem.index.records import records_for


@dataclass
class SyncOutcome:
    indexed: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded_texts: int = 0


@dataclass
class _Pending:
    node: ContextNode
    records: list[IndexRecord]
    vectors: list[npt.NDArray[np.float32] | None] = field(default_factory=list)


class IndexSync:
    def __init__(self, store: Store, index: IndexStore, embedder: Embedder) -> None:
        self._store = store
        self._index = index
        self._embedder = embedder

    def sync(self, account_id: str, uris: Sequence[str], *, force: bool = False) -> SyncOutcome:
        """Sync the index of ``uris`` of one account; ``force`` re-embeds every level.

        Reads and writes are batched (one query for the nodes, one for their records, one
        transaction for the new records) so that the embedder stays the only real cost.
        """
        outcome = SyncOutcome()
        nodes = self._store.find_nodes(account_id, uris)
        stored = self._index.records_of_many(account_id, [u for u in uris if u in nodes])
        pending: list[_Pending] = []
        for uri in dict.fromkeys(uris):
            node = nodes.get(uri)
            if node is None:
                self._index.remove(account_id, uri)
                outcome.removed += 1
                continue
            work = self._plan(node, stored.get(uri, []), force)
            if work is None:
                outcome.unchanged += 1
            else:
                pending.append(work)
        outcome.embedded_texts = self._embed_missing(pending)
        items = [
            (work.node.uri, work.records, [v for v in work.vectors if v is not None])
            for work in pending
        ]
        if items:
            self._index.replace_many(account_id, items, self._embedder.model_id)
        outcome.indexed = len(items)
        return outcome

    def _plan(
        self, node: ContextNode, stored_records: list[StoredRecord], force: bool
    ) -> _Pending | None:
        records = records_for(node)
        stored = {r.level: r for r in stored_records}
        current = (
            stored
            and {r.level for r in records} == set(stored)
            and all(r.node_version >= node.version for r in stored.values())
            and all(r.status == node.status.value for r in stored.values())
        )
        if current and not force:
            return None
        vectors: list[npt.NDArray[np.float32] | None] = []
        for record in records:
            old = stored.get(record.level)
            reusable = old is not None and old.text == record.text and not force
            vectors.append(old.vector if reusable and old is not None else None)
        return _Pending(node, records, vectors)

    def _embed_missing(self, pending: list[_Pending]) -> int:
        slots = [(w, i) for w in pending for i, v in enumerate(w.vectors) if v is None]
        if not slots:
            return 0
        embedded = self._embedder.embed([w.records[i].text for w, i in slots])
        for (work, i), vector in zip(slots, embedded, strict=True):
            work.vectors[i] = vector
        return len(slots)
