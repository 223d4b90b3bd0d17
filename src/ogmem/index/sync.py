"""IndexSync: brings the index records of a set of URIs in line with their nodes.

Every event about a URI means "the index of this URI may be behind its node", so a batch of
events reduces to a set of URIs (coalescing), each synced against the node as it is now:
missing node -> remove records; indexed version equal to the node's -> nothing (a stale or
duplicate event is dropped); otherwise rebuild the records, embedding only levels whose text
changed. All texts of a batch go to the embedder in one call (it batches internally), each
distinct text once; a level composed of pieces (``records.Composed``) gets the normalised sum
of its pieces' vectors. Parts of a text (``records.Part``: a message's first sentence and
rest) are pooled from one run over the text by an embedder that can (``PartEmbedder``), and
embedded alone by one that cannot. The vectors of recent texts are remembered across
batches (a bounded ``VectorLRU``): a message is a piece of its own memory and of the next
memory's overview, and the two often land in different batches (an agent's turns arrive one
or two at a time). A large sync (a drain, a reindex) writes what is complete while the model
reads on, where the embedder hands its runs over one by one (``RunByRunPartEmbedder``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from ogmem.core.models import ContextNode, IndexRecord
from ogmem.core.ports import Embedder, PartEmbedder, RunByRunPartEmbedder, Store
from ogmem.core.storage import IndexStore, StoredRecord
from ogmem.index.model_thread import ModelThread
from ogmem.index.records import (
    Composed,
    Opening,
    Part,
    Piece,
    PlannedRecord,
    Readable,
    Source,
    records_for,
)
from ogmem.index.vector_lru import VectorLRU

Vector = npt.NDArray[np.float32]
_TINY = 1e-12  # a composition of zero vectors (texts without words) stays zero
# ~6 MB of 384-d vectors plus at most 8 MB of texts: a few sessions' messages and speakers
RECENT_TEXTS = 4096
RECENT_TEXT_CHARS = 2000
# works written together while the model reads on (a sync of more embeds in a thread of its
# own, index/model_thread.py): a LoCoMo conversation's drain writes in ~5 steps, not 1
WRITE_STEP = 128


@dataclass
class SyncOutcome:
    indexed: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded_texts: int = 0


@dataclass
class _Pending:
    node: ContextNode
    planned: list[PlannedRecord]
    vectors: list[Vector | None] = field(default_factory=list)

    @property
    def records(self) -> list[IndexRecord]:
        return [p.record for p in self.planned]


def vector_of(source: Source, known: dict[Source, Vector]) -> Vector:
    """The vector ``source`` describes: a text's embedding, or for a composition the
    normalised sum of its parts' vectors (``records.Composed``).

    ``known`` holds the embedded texts and keeps each composition computed, so a message that
    several records share (its memory's content, its place in the next one's overview) is
    composed once.
    """
    vector = known.get(source)
    if vector is None:
        assert isinstance(source, Composed), f"text not embedded: {str(source)[:80]!r}"
        parts = [vector_of(part, known) for part in source.parts]
        total = sum(parts[1:], start=parts[0])
        vector = total / max(math.sqrt(float(total @ total)), _TINY)
        known[source] = vector
    return vector


@dataclass
class _EmbeddingPlan:
    """What a sync's embedding call reads (``missing``) and knows: the vectors found or
    embedded so far, and the openings waiting for the first sentence that gives theirs."""

    known: dict[Source, Vector]
    missing: list[Readable]
    pieces_of: list[list[Piece]]  # per work (as pending lists them): its missing vectors' pieces
    openings_of: dict[Readable, list[Opening]] = field(default_factory=dict)


class _Waiting:
    """Which works wait for which pieces, while the model hands its vectors over run by run:
    a work is ready once every piece its missing vectors are made of is known."""

    def __init__(self, pending: list[_Pending], plan: _EmbeddingPlan) -> None:
        self._pending = pending
        self._needs: list[set[Readable]] = []
        self._works_of: dict[Readable, list[int]] = {}
        self.ready: list[int] = []
        stand_in = {o: s for s, openings in plan.openings_of.items() for o in openings}
        for index, pieces in enumerate(plan.pieces_of):
            needs = {
                stand_in[piece] if isinstance(piece, Opening) else piece
                for piece in pieces if piece not in plan.known
            }  # fmt: skip
            self._needs.append(needs)
            for piece in needs:
                self._works_of.setdefault(piece, []).append(index)
            if not needs:
                self.ready.append(index)

    def known(self, piece: Readable) -> None:
        for index in self._works_of.pop(piece, ()):
            self._needs[index].discard(piece)
            if not self._needs[index]:
                self.ready.append(index)

    def take(self) -> list[_Pending]:
        """The ready works, in the order they were asked for: records get their ids in that
        order within a step, and equal scores in search fall back on the ids (LoCoMo dev,
        written in the order they came ready: R@10 0.710, R@50 0.870; in order within each
        step: 0.711, 0.871; all at once: 0.713, 0.875)."""
        taken, self.ready = [self._pending[i] for i in sorted(self.ready)], []
        return taken


class IndexSync:
    def __init__(self, store: Store, index: IndexStore, embedder: Embedder) -> None:
        self._store = store
        self._index = index
        self._embedder = embedder
        self._recent = VectorLRU(RECENT_TEXTS, max_text_chars=RECENT_TEXT_CHARS)
        # the first sentences the runs over messages read, by their text (records.Opening)
        self._openings = VectorLRU(RECENT_TEXTS, max_text_chars=RECENT_TEXT_CHARS)

    def sync(self, account_id: str, uris: Sequence[str], *, force: bool = False) -> SyncOutcome:
        """Sync the index of ``uris`` of one account; ``force`` re-embeds every level.

        Reads and writes are batched (one query for the nodes, one for their records, one
        transaction for the new records, or one per WRITE_STEP works written while the model
        reads on) so that the embedder stays the only real cost.
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
        plan = self._embedding_plan(pending, reuse=not force)
        outcome.embedded_texts = len(
            {piece.whole if isinstance(piece, Part) else piece for piece in plan.missing}
        )
        if isinstance(self._embedder, RunByRunPartEmbedder) and len(pending) > WRITE_STEP:
            outcome.indexed = self._embed_and_write_by_run(
                self._embedder, account_id, plan, pending
            )
        else:
            for piece, vector in self._embed(plan.missing).items():
                self._learn(plan, piece, vector)
            outcome.indexed = self._write(account_id, plan, pending)
        return outcome

    def _write(self, account_id: str, plan: _EmbeddingPlan, works: list[_Pending]) -> int:
        """Compose the works' missing vectors and write their records in one transaction."""
        for work in works:
            for i, vector in enumerate(work.vectors):
                if vector is None:
                    work.vectors[i] = vector_of(work.planned[i].source, plan.known)
        items = [
            (work.node.uri, work.records, [v for v in work.vectors if v is not None])
            for work in works
        ]
        if items:
            self._index.replace_many(account_id, items, self._embedder.model_id)
        return len(items)

    def _embed_and_write_by_run(
        self,
        embedder: RunByRunPartEmbedder,
        account_id: str,
        plan: _EmbeddingPlan,
        pending: list[_Pending],
    ) -> int:
        """Embed the missing pieces in one call in a thread of its own and write the works
        whose pieces are all known, WRITE_STEP at a time, while the model reads on: a drain's
        writes overlap its model runs instead of following them (one call still, so the
        texts are sorted and batched as one)."""
        waiting = _Waiting(pending, plan)
        indexed = 0
        reads = _Reads.of(plan.missing)
        with ModelThread(embedder, reads.texts, reads.spans) as runs:
            for rows, pooled in runs:
                for row, vectors in zip(rows, pooled, strict=True):
                    for piece, vector in zip(reads.pieces[row], vectors, strict=True):
                        self._learn(plan, piece, vector)
                        waiting.known(piece)
                if len(waiting.ready) >= WRITE_STEP:
                    indexed += self._write(account_id, plan, waiting.take())
        indexed += self._write(account_id, plan, waiting.take())
        if indexed != len(pending):  # a piece the call never gave: fail, the worker retries
            raise RuntimeError(f"{len(pending) - indexed} of {len(pending)} URIs got no vectors")
        return indexed

    def _plan(
        self, node: ContextNode, stored_records: list[StoredRecord], force: bool
    ) -> _Pending | None:
        planned = records_for(node)
        stored = {r.level: r for r in stored_records}
        current = (
            stored
            and {p.record.level for p in planned} == set(stored)
            and all(r.node_version >= node.version for r in stored.values())
            and all(r.status == node.status.value for r in stored.values())
        )
        if current and not force:
            return None
        vectors: list[Vector | None] = []
        for record in (p.record for p in planned):
            old = stored.get(record.level)
            reusable = old is not None and old.text == record.text and not force
            vectors.append(old.vector if reusable and old is not None else None)
        return _Pending(node, planned, vectors)

    def _embedding_plan(self, pending: list[_Pending], *, reuse: bool) -> _EmbeddingPlan:
        """The distinct pieces the missing vectors need, each once, but for those whose
        vector is remembered (and ``reuse``): what the embedder must read."""
        pieces_of = [
            [piece for i, v in enumerate(w.vectors) if v is None for piece in w.planned[i].texts()]
            for w in pending
        ]
        pieces = list(dict.fromkeys(piece for work_pieces in pieces_of for piece in work_pieces))
        readable = [p for p in pieces if not isinstance(p, Opening)]
        known, stand_ins = self._recalled_openings(pieces, readable)
        read = list(dict.fromkeys([*readable, *stand_ins.values()]))
        if reuse:
            known.update((p, v) for p in read if (v := self._recent.get(p)) is not None)
        plan = _EmbeddingPlan(known, [piece for piece in read if piece not in known], pieces_of)
        for opening, stand_in in stand_ins.items():
            if stand_in in known:
                self._learn_opening(plan, opening, known[stand_in])
            else:
                plan.openings_of.setdefault(stand_in, []).append(opening)
        return plan

    def _learn(self, plan: _EmbeddingPlan, piece: Readable, vector: Vector) -> None:
        """Take in a piece's vector the embedder gave: remembered, and given to the
        openings whose vector it is."""
        plan.known[piece] = vector
        self._recent.put(piece, vector)
        if isinstance(piece, Part) and _first(piece):
            self._openings.put(piece.text, vector)
        for opening in plan.openings_of.pop(piece, ()):
            self._learn_opening(plan, opening, vector)

    def _learn_opening(self, plan: _EmbeddingPlan, opening: Opening, vector: Vector) -> None:
        plan.known[opening] = vector
        self._openings.put(opening.text, vector)

    def _recalled_openings(
        self, pieces: list[Piece], readable: list[Readable]
    ) -> tuple[dict[Source, Vector], dict[Opening, Readable]]:
        """The vectors the runs over their messages gave the first sentences among ``pieces``,
        and, for each opening not remembered, what gives its vector in this call: the first
        sentence of a message read in it, else its text read alone (a message indexed long
        ago, or by another process)."""
        firsts = {p.text: p for p in readable if isinstance(p, Part) and _first(p)}
        found: dict[Source, Vector] = {}
        stand_ins: dict[Opening, Readable] = {}
        for opening in (piece for piece in pieces if isinstance(piece, Opening)):
            vector = self._openings.get(opening.text)
            if vector is None:
                stand_ins[opening] = firsts.get(opening.text, opening.text)
            else:
                found[opening] = vector
        return found, stand_ins

    def _embed(self, pieces: list[Readable]) -> dict[Readable, Vector]:
        """The vectors of ``pieces``, each distinct text read once: where the embedder can,
        in one call that pools each part from the run over its text (a text read whole is
        its span from start to end, the same vector as ``embed`` gives); else each part's
        text alone, in one call with the texts."""
        if not pieces:
            return {}
        if not isinstance(self._embedder, PartEmbedder):
            return self._embed_alone(pieces)
        reads = _Reads.of(pieces)
        pooled = self._embedder.embed_parts(reads.texts, reads.spans)
        return {
            piece: row
            for group, rows in zip(reads.pieces, pooled, strict=True)
            for piece, row in zip(group, rows, strict=True)
        }

    def _embed_alone(self, pieces: list[Readable]) -> dict[Readable, Vector]:
        """Each piece's text embedded alone, except a part spanning its whole text beside
        other parts of it: derived from theirs (normalised sum), as reading the text again
        would double what an embedder billed by the token costs."""
        stretches: dict[str, list[Part]] = {}
        for part in (p for p in pieces if isinstance(p, Part) and not _whole(p)):
            stretches.setdefault(part.whole, []).append(part)
        derived = {p for p in pieces if isinstance(p, Part) and _whole(p) and p.whole in stretches}
        texts = {p: p if isinstance(p, str) else p.text for p in pieces if p not in derived}
        distinct = list(dict.fromkeys(texts.values()))
        vectors = dict(zip(distinct, self._embedder.embed(distinct), strict=True))
        found: dict[Source, Vector] = {piece: vectors[text] for piece, text in texts.items()}
        for part in derived:
            found[part] = vector_of(Composed(tuple(stretches[part.whole])), found)
        return {piece: found[piece] for piece in pieces}


@dataclass
class _Reads:
    """What one PartEmbedder call reads for ``pieces``: each distinct text once, with the
    spans pooled from its run and the pieces they are, in the same order."""

    texts: list[str]
    spans: list[list[tuple[int, int]]]
    pieces: list[list[Readable]]

    @classmethod
    def of(cls, pieces: list[Readable]) -> _Reads:
        by_text: dict[str, list[Readable]] = {}
        for piece in pieces:
            by_text.setdefault(piece if isinstance(piece, str) else piece.whole, []).append(piece)
        groups = list(by_text.values())
        return cls(list(by_text), [[_span(p) for p in group] for group in groups], groups)


def _first(part: Part) -> bool:
    """A stretch from the start that is not the whole text: a message's first sentence."""
    return part.start == 0 and part.end < len(part.whole)


def _whole(part: Part) -> bool:
    return part.start == 0 and part.end == len(part.whole)


def _span(piece: Readable) -> tuple[int, int]:
    return (0, len(piece)) if isinstance(piece, str) else (piece.start, piece.end)
