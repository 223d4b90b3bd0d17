"""Time in retrieval: what search returns and in which order, given when facts held, when
memories expire and (optionally) how they decay; and reading a node as it was ``as_of``.

Search (``arrange``), after the relevance ranking:
1. an expired memory (``expires_at`` passed) is never returned, even before the worker has
   archived it;
2. with decay on, each hit's ranking score (``rank_score``) is weighted (decay.py) and the
   hits re-sorted; their relevance (``score``) is left as it is;
3. facts valid at the moment asked (``as_of``, default now) come first, the others after them
   in score order, marked: ``superseded`` when their validity ended by then. By default only
   ended facts sink; with ``as_of``, facts that began after it sink too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from ogmem.core import errors
from ogmem.core.models import ContextNode
from ogmem.core.ports import Store
from ogmem.core.storage import IndexStore
from ogmem.retrieval.decay import Decay

if TYPE_CHECKING:
    from ogmem.retrieval.search import SearchHit

SUPERSEDES = "supersedes"
MAX_CHAIN = 50  # superseded facts followed by one read as_of


def widened(limit: int) -> int:
    """How many ranked hits to arrange for ``limit`` results: some may be expired or sink."""
    return min(1000, limit * 2)


def _sinks(node: ContextNode, as_of: datetime | None, now: datetime) -> bool:
    if as_of is None:
        return node.valid_to is not None and node.valid_to <= now
    return not node.valid_at(as_of)


def _marked(hit: SearchHit, node: ContextNode, moment: datetime) -> SearchHit:
    ended = node.valid_to is not None and node.valid_to <= moment
    return replace(hit, valid_from=node.valid_from, valid_to=node.valid_to, superseded=ended)


class Timeline:
    """Arranges ranked hits by time; ``decay`` None leaves scores as they are."""

    def __init__(self, index: IndexStore, decay: Decay | None = None) -> None:
        self._index = index
        self._decay = decay

    def arrange(
        self,
        account_id: str,
        hits: Sequence[SearchHit],
        nodes: Mapping[str, ContextNode],
        *,
        as_of: datetime | None,
        now: datetime,
        limit: int,
    ) -> list[SearchHit]:
        live = [h for h in hits if not nodes[h.uri].expired(now)]
        if self._decay is not None and live:
            live = self._decayed(account_id, live, nodes, now)
        live.sort(key=lambda h: _sinks(nodes[h.uri], as_of, now))  # stable: keeps score order
        moment = as_of or now
        return [_marked(h, nodes[h.uri], moment) for h in live[:limit]]

    def _decayed(
        self,
        account_id: str,
        hits: Sequence[SearchHit],
        nodes: Mapping[str, ContextNode],
        now: datetime,
    ) -> list[SearchHit]:
        assert self._decay is not None
        uris = [h.uri for h in hits]
        recalls = self._index.last_recalls(account_id, uris)
        weights = self._decay.weights({u: nodes[u] for u in uris}, recalls, now)
        # the ranking's own score is weighted; a hit's relevance (``score``) stays what it is
        weighted = [replace(h, rank_score=round(h.rank_score * weights[h.uri], 6)) for h in hits]
        return sorted(weighted, key=lambda h: -h.rank_score)


def _pointers(node: ContextNode) -> list[str]:
    value = node.metadata.get(SUPERSEDES)
    return [str(v) for v in reversed(value)] if isinstance(value, list) else []


def read_as_of(store: Store, account_id: str, uri: str, as_of: datetime) -> ContextNode:
    """The node at ``uri`` as it held at ``as_of``: itself if valid then; else the newest of
    the facts it superseded (followed back, kept apart by supersede.py) valid then; else the
    newest version of its history valid then.

    Raises:
        errors.NotFound: no node at ``uri``, or none of these was valid at ``as_of``.
    """
    node = store.read_node(account_id, uri)
    if node.valid_at(as_of):
        return node
    queue, seen = _pointers(node), {uri}
    while queue and len(seen) <= MAX_CHAIN:
        older_uri = queue.pop(0)
        older = None if older_uri in seen else store.find_node(account_id, older_uri)
        seen.add(older_uri)
        if older is not None and older.valid_at(as_of):
            return older
        queue += _pointers(older) if older is not None else []
    for version in reversed(store.history(account_id, uri)):
        if version.node.valid_at(as_of):
            return version.node
    raise errors.NotFound(f"nothing at {uri} was valid at {as_of.isoformat()}")
