"""Builds the dreaming parts of an Engine from its own (one call in Engine.__init__)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ogmem.commit.writer import ContextWriter
from ogmem.core.ports import Embedder, LLMClient, Store
from ogmem.core.storage import Backend
from ogmem.dream.apply import Applier
from ogmem.dream.planner import Planner
from ogmem.dream.service import Dreamer
from ogmem.dream.trigger import Trigger
from ogmem.outbox import OutboxManager
from ogmem.schemas.registry import SchemaRegistry


@dataclass(frozen=True, slots=True)
class Dreaming:
    dreamer: Dreamer
    trigger: Trigger


def build(
    backend: Backend,
    store: Store,
    writer: ContextWriter,
    outbox: OutboxManager,
    registry: SchemaRegistry,
    embedder: Embedder,
    llm: LLMClient | None,
    thresholds: Mapping[str, int],
    wake: Callable[[], None],
) -> Dreaming:
    planner = Planner(store, backend.index, embedder, llm)
    dreamer = Dreamer(
        planner, Applier(registry, llm), writer, store, backend.uow, backend.dreams, wake
    )
    return Dreaming(dreamer, Trigger(outbox, backend.dreams, thresholds, wake))
