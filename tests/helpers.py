"""Builders shared by the tests."""

from __future__ import annotations

from typing import Any

from ogmem.core.models import CandidateMemory
from ogmem.nodes import Nodes
from ogmem.schemas.registry import SchemaRegistry
from ogmem.store import open_backend

REGISTRY = SchemaRegistry.load()
_COMMON = {
    "routing_key", "abstract", "overview", "content", "confidence", "evidence_quote",
    "source_message_ids", "when", "who", "where",
}  # fmt: skip
_SAMPLE = {"string": "sample", "date": "2026-11-20", "number": 1.0, "integer": 1, "boolean": True}


def candidate(
    category: str, text: str = "Alice edits code in vim.", **overrides: Any
) -> CandidateMemory:
    """A candidate that passes its type's validation; required fields get sample values."""
    memory_type = REGISTRY.get(category)
    values: dict[str, Any] = {
        "category": category,
        "routing_key": "topic",
        "abstract": text[:80],
        "content": text,
        "owner_scope": memory_type.owner_scope,
    }
    attributes: dict[str, Any] = {}
    for spec in memory_type.fields:
        if not spec.required or spec.name in values or spec.name in overrides:
            continue
        sample = spec.choices[0] if spec.choices else _SAMPLE.get(spec.type, ["sample"])
        if spec.name in _COMMON:
            values[spec.name] = sample
        else:
            attributes[spec.name] = sample
    values["attributes"] = {**attributes, **overrides.pop("attributes", {})}
    values.update(overrides)
    return CandidateMemory(**values)


def memory_store() -> Nodes:
    """The Store over a fresh in-memory SQLite backend (closed with the process)."""
    backend = open_backend(":memory:")
    return Nodes(backend.uow, backend.nodes, backend.outbox)
