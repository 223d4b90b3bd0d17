"""Removing the duplicates one extraction produces (overlapping spans propose the same fact)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from ogmem.core.models import CandidateMemory
from ogmem.extraction.base import Dropped
from ogmem.extraction.structuring import label


def dedupe(candidates: Sequence[CandidateMemory]) -> tuple[list[CandidateMemory], list[Dropped]]:
    """Keep one of each group of near-identical candidates: the most confident (first on a tie).

    Two candidates are near-identical when they have the same category and routing key and their
    contents are equal after normalising whitespace and case, or one contains the other.
    The survivors keep their order, and the source messages of the duplicates they replace: the
    same fact said twice was said in both messages.
    """
    kept: list[CandidateMemory] = []
    dropped: list[Dropped] = []
    for candidate in candidates:
        twin = next((i for i, other in enumerate(kept) if _near_identical(other, candidate)), None)
        if twin is None:
            kept.append(candidate)
            continue
        winner, loser = _ranked(kept[twin], candidate)
        kept[twin] = _with_sources_of(winner, loser)
        reason = f"duplicate of a memory with the same content and confidence {winner.confidence:g}"
        dropped.append(Dropped(label(loser.category, loser.routing_key), reason))
    return kept, dropped


def _with_sources_of(winner: CandidateMemory, loser: CandidateMemory) -> CandidateMemory:
    sources = tuple(dict.fromkeys([*winner.source_message_ids, *loser.source_message_ids]))
    provenance = tuple(dict.fromkeys([*winner.provenance_ids, *loser.provenance_ids]))
    return dataclasses.replace(winner, source_message_ids=sources, provenance_ids=provenance)


def _ranked(
    earlier: CandidateMemory, later: CandidateMemory
) -> tuple[CandidateMemory, CandidateMemory]:
    return (later, earlier) if later.confidence > earlier.confidence else (earlier, later)


def _near_identical(a: CandidateMemory, b: CandidateMemory) -> bool:
    if (a.category, a.routing_key) != (b.category, b.routing_key):
        return False
    first, second = _normalise(a.content), _normalise(b.content)
    return first in second or second in first


def _normalise(text: str) -> str:
    return " ".join(text.casefold().split())
