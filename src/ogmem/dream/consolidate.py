"""Consolidation: plan merges of near-duplicate memories (same owner, same category).

Each duplicate is absorbed by one survivor, the oldest memory of its pair: what was said
first keeps its address, so links to it and its history stay. A memory is absorbed at most
once and a survivor is never absorbed, so merges never chain (A into B into C would fold
memories together that are not alike).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ogmem.core.models import ContextNode
from ogmem.dream.models import Step, StepKind
from ogmem.dream.similarity import Pair, Thresholds, similar_pairs


def node_text(node: ContextNode) -> str:
    return node.content or node.overview or node.abstract


def _groups(nodes: Sequence[ContextNode]) -> dict[tuple[str, str], list[int]]:
    groups: dict[tuple[str, str], list[int]] = {}
    for index, node in enumerate(nodes):
        groups.setdefault((node.owner_space, node.category), []).append(index)
    return groups


def _absorptions(nodes: Sequence[ContextNode], pairs: Sequence[Pair]) -> dict[int, list[Pair]]:
    """survivor index -> the pairs whose other memory it absorbs, best pairs first. A pair
    that would make a survivor absorb an older memory is left for a later run (the survivor
    absorbed others already, which need not be like that older memory)."""
    survivors: dict[int, list[Pair]] = {}
    absorbed: set[int] = set()
    for pair in pairs:
        first, second = pair.first, pair.second
        if first in absorbed or second in absorbed or (first in survivors and second in survivors):
            continue
        if second in survivors or (first not in survivors and _older(nodes[second], nodes[first])):
            first, second = second, first
        if _older(nodes[second], nodes[first]):
            continue
        survivors.setdefault(first, []).append(pair)
        absorbed.add(second)
    return survivors


def _older(a: ContextNode, b: ContextNode) -> bool:
    return (a.created_at, a.uri) < (b.created_at, b.uri)


def plan_merges(
    nodes: Sequence[ContextNode],
    vectors: npt.NDArray[np.float32],
    thresholds: Thresholds | None = None,
) -> list[Step]:
    """One MERGE step per survivor, naming what it absorbs and the scores that decided it."""
    steps: list[Step] = []
    for members in _groups(nodes).values():
        if len(members) < 2:
            continue
        group = [nodes[i] for i in members]
        pairs = similar_pairs(
            vectors[members], [node_text(n) for n in group], thresholds or Thresholds()
        )
        for survivor, chosen in _absorptions(group, pairs).items():
            others = [p.second if p.first == survivor else p.first for p in chosen]
            scores = ", ".join(
                f"{group[o].uri.rsplit('/', 1)[-1]}: cosine {p.embedding:.2f}, words {p.text:.2f}"
                for o, p in zip(others, chosen, strict=True)
            )
            steps.append(
                Step(
                    StepKind.MERGE, group[survivor].uri, tuple(group[o].uri for o in others),
                    f"near-duplicates of the same {group[survivor].category} ({scores})",
                )
            )  # fmt: skip
    return steps
