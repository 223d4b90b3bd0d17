"""Patterns (with an LLM): what repeats among events and cases becomes a pattern memory.

The pattern is an agent's memory (its type is agent-scoped): written through the writer as
any candidate, citing the memories it was learned from (``cites`` in its metadata); they
stay as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ogmem.core import uri
from ogmem.core.models import ContextNode
from ogmem.core.ports import LLMClient
from ogmem.dream import asking
from ogmem.dream.models import Step, StepKind

SOURCES = ("event", "case")
FIELDS = ("abstract", "trigger", "content")


def _proposal(answer: Mapping[str, Any]) -> dict[str, str] | None:
    """The pattern's fields, or None when one is missing or empty."""
    name = str(answer.get("name") or "").strip()
    fields = {f: str(answer.get(f) or "").strip() for f in FIELDS}
    if not name or not all(fields.values()):
        return None
    return {"name": uri.slugify(name), **fields}


def find_patterns(llm: LLMClient, nodes: Sequence[ContextNode], agent_dir: str) -> list[Step]:
    """PATTERN steps for what the model finds repeated among the events and cases; each
    cites at least two of them. ``agent_dir`` is where the patterns will be written."""
    sources = sorted(
        (n for n in nodes if n.category in SOURCES), key=lambda n: (n.created_at, n.uri)
    )
    steps: list[Step] = []
    for batch in asking.batches(sources):
        for answer in asking.ask(llm, "patterns", batch, "patterns"):
            if not isinstance(answer, dict):
                continue
            proposal = _proposal(answer)
            cites = answer.get("cites")
            cited = [asking.node_at(batch, c) for c in cites] if isinstance(cites, list) else []
            uris = tuple(dict.fromkeys(n.uri for n in cited if n is not None))
            if proposal is None or len(uris) < 2:
                continue
            reason = f"repeated in {len(uris)} memories: {proposal['abstract']}"[:300]
            target = f"{agent_dir}/{proposal['name']}"
            steps.append(Step(StepKind.PATTERN, target, uris, reason, proposal))
    return steps
