"""What a run looks at (a user's active memories, and its agent's) and the plan it makes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ogmem.core import uri
from ogmem.core.models import ContextNode, ContextType, NodeStatus, RequestContext
from ogmem.core.ports import Embedder, LLMClient, Store
from ogmem.core.storage import IndexStore
from ogmem.dream import consolidate, correct, patterns
from ogmem.dream.models import Step
from ogmem.dream.similarity import Thresholds

LEVELS = (2, 1, 0)  # the vector that says most about a memory: its content's, if indexed
PATTERN_DIRECTORY = ("memories", "patterns")


def spaces(ctx: RequestContext) -> list[str]:
    """The trees a run covers: the user's, and the agent's when the request names one."""
    roots = [str(uri.user_root(ctx.account_id, ctx.user_id))]
    if ctx.agent_id:
        roots.append(str(uri.agent_root(ctx.account_id, ctx.agent_id)))
    return roots


@dataclass(frozen=True, slots=True)
class Plan:
    steps: list[Step]
    memories: int  # how many active memories it looked at
    notes: list[str]  # what it could not do, and why


class Planner:
    def __init__(
        self,
        store: Store,
        index: IndexStore,
        embedder: Embedder,
        llm: LLMClient | None,
        thresholds: Thresholds | None = None,
    ) -> None:
        self._store, self._index, self._embedder, self._llm = store, index, embedder, llm
        self.thresholds = thresholds or Thresholds()

    def memories(self, ctx: RequestContext) -> list[ContextNode]:
        found = []
        for root in spaces(ctx):
            found += [
                n for n in self._store.tree(ctx.account_id, root)
                if n.context_type is ContextType.MEMORY and n.status is NodeStatus.ACTIVE
            ]  # fmt: skip
        return found

    def vectors(self, account_id: str, nodes: Sequence[ContextNode]) -> npt.NDArray[np.float32]:
        """One vector per node: its indexed one when the index holds its current version,
        else embedded now (the worker has not caught up, or never will for this model)."""
        dims = self._embedder.dimensions
        stored = self._index.records_of_many(account_id, [n.uri for n in nodes])
        matrix = np.zeros((len(nodes), dims), dtype=np.float32)
        missing = []
        for row, node in enumerate(nodes):
            records = {
                r.level: r for r in stored.get(node.uri, [])
                if r.node_version == node.version and r.vector.shape == (dims,)
            }  # fmt: skip
            level = next((lv for lv in LEVELS if lv in records), None)
            if level is None:
                missing.append(row)
            else:
                matrix[row] = records[level].vector
        if missing:
            texts = [consolidate.node_text(nodes[row]) for row in missing]
            matrix[missing] = self._embedder.embed(texts)
        return matrix

    def plan(self, ctx: RequestContext) -> Plan:
        nodes = self.memories(ctx)
        steps = consolidate.plan_merges(nodes, self.vectors(ctx.account_id, nodes), self.thresholds)
        notes: list[str] = []
        if self._llm is None:
            notes.append("no LLM configured: correction and patterns skipped")
            return Plan(steps, len(nodes), notes)
        taken = {u for s in steps for u in (s.survivor, *s.absorbed)}
        left = [n for n in nodes if n.uri not in taken]
        steps += correct.find_contradictions(self._llm, left, taken)
        if ctx.agent_id:
            agent_dir = str(uri.build(ctx.account_id, "agents", ctx.agent_id, *PATTERN_DIRECTORY))
            left = [n for n in nodes if n.uri not in taken]
            steps += patterns.find_patterns(self._llm, left, agent_dir)
        else:
            notes.append("no agent named: patterns (an agent's memories) skipped")
        return Plan(steps, len(nodes), notes)
