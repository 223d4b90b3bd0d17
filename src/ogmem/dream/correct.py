"""Correction (with an LLM): contradicting memories of one owner, the older superseded.

``resolve_contradiction`` is the one place that decides what superseding does to the
nodes: the write pipeline's own ``supersede`` (commit/supersede.py) closes the older fact's
validity where the newer one's begins, both written in one transaction with their outbox
events. The older memory stays ACTIVE and readable (``as_of``); search ranks it after the
facts valid now and marks it superseded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ogmem.commit.supersede import supersede
from ogmem.core.models import ContextNode
from ogmem.core.ports import LLMClient
from ogmem.dream import asking
from ogmem.dream.models import Change, Step, StepKind

if TYPE_CHECKING:  # apply imports this module; the pipeline is only a parameter here
    from ogmem.dream.apply import Pipeline


def resolve_contradiction(
    pipeline: Pipeline, older: ContextNode, newer: ContextNode, reason: str = ""
) -> list[Change]:
    """Supersede ``older`` by ``newer``: the older fact held until the newer one began (its
    ``valid_from``, else when it was recorded)."""
    fingerprint = f"dream:{pipeline.run_id}:supersede:{newer.uri}:{newer.version}"
    done = supersede(
        pipeline.store, older, newer, at=newer.valid_from or newer.created_at, reason=reason,
        fingerprint=fingerprint, action="dream-supersede",
    )  # fmt: skip
    return [
        Change(older.uri, older.version, done.older.version),
        Change(newer.uri, newer.version, done.newer.version),
    ]


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
