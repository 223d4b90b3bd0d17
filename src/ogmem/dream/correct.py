"""Correction (with an LLM): contradicting memories of one owner, the older superseded.

``resolve_contradiction`` is the one place that decides what superseding does to the
nodes: for now it archives the older memory with a ``superseded_by`` pointer to the newer.
When memories carry validity in time, it is the function to rewire (close the older fact's
validity instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ogmem.core.models import ContextNode
from ogmem.core.ports import LLMClient
from ogmem.dream import asking
from ogmem.dream.models import Change, Step, StepKind

if TYPE_CHECKING:  # apply imports this module; the pipeline is only a parameter here
    from ogmem.dream.apply import Pipeline


def resolve_contradiction(
    pipeline: Pipeline, older: ContextNode, newer: ContextNode
) -> list[Change]:
    """Supersede ``older`` by ``newer``: the older memory archived, pointing at the newer."""
    return [pipeline.archive_into(older, "superseded_by", newer.uri)]


def _owners(nodes: Sequence[ContextNode]) -> dict[str, list[ContextNode]]:
    owners: dict[str, list[ContextNode]] = {}
    for node in nodes:
        owners.setdefault(node.owner_space, []).append(node)
    return owners


def _step(first: ContextNode, second: ContextNode, reason: str) -> Step:
    """The step of a contradiction; the memory created later is the newer, whatever the
    model's order (it can read dates wrongly, the store cannot)."""
    older, newer = sorted((first, second), key=lambda n: (n.created_at, n.uri))
    return Step(StepKind.SUPERSEDE, newer.uri, (older.uri,), f"contradiction: {reason}")


def find_contradictions(
    llm: LLMClient, nodes: Sequence[ContextNode], taken: set[str]
) -> list[Step]:
    """SUPERSEDE steps for the contradictions the model finds among each owner's memories;
    a memory in ``taken`` (already part of a step) or named twice is left out."""
    steps: list[Step] = []
    for owned in _owners(nodes).values():
        for batch in asking.batches(sorted(owned, key=lambda n: (n.created_at, n.uri))):
            for answer in asking.ask(llm, "contradictions", batch, "contradictions"):
                if not isinstance(answer, dict):
                    continue
                older = asking.node_at(batch, answer.get("older"))
                newer = asking.node_at(batch, answer.get("newer"))
                if older is None or newer is None or older is newer:
                    continue
                if older.uri in taken or newer.uri in taken:
                    continue
                taken.update((older.uri, newer.uri))
                steps.append(_step(older, newer, str(answer.get("reason") or "")[:300]))
    return steps
