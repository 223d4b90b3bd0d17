"""DirectorySummarizer: the summary node of a directory (abstract/overview of its children).

By the LLM when one is configured, otherwise (or when it fails) deterministically from the
children's abstracts. The summary is itself a node (context_type DIRECTORY) at the
directory's URI, indexed like any other, and used by search to rescore its children.
"""

from __future__ import annotations

import functools
import logging
from importlib import resources
from string import Template

from ogmem.core.models import (
    ContextNode,
    ContextType,
    EventType,
    OutboxEvent,
)
from ogmem.core.ports import LLMClient, Store
from ogmem.llm import summary

logger = logging.getLogger(__name__)

MAX_CHILDREN_IN_PROMPT = 200  # also the sample a deterministic summary is built from


@functools.cache
def _template() -> Template:
    return Template(resources.files("ogmem.index").joinpath("prompts", "directory.md").read_text())


def deterministic_summary(
    directory: str, children: list[ContextNode], count: int
) -> tuple[str, str]:
    """From a sample of the children's abstracts (newest first); ``count``: all children."""
    category = children[0].category
    name = directory.rsplit("/", 1)[-1]
    noun = "memory" if count == 1 else "memories"
    abstract = f"{count} {category} {noun} in {name}: " + "; ".join(c.abstract for c in children)
    overview = "\n".join(f"- {c.abstract}" for c in children)
    clipped = summary.clipped(abstract, overview)
    return clipped.abstract, clipped.overview


class DirectorySummarizer:
    def __init__(self, store: Store, llm: LLMClient | None = None) -> None:
        self._store = store
        self._llm = llm

    def refresh(self, account_id: str, directory: str) -> str:
        """Rewrite the directory's summary node; returns what was done (for the event note)."""
        count, children = self._store.active_children(account_id, directory, MAX_CHILDREN_IN_PROMPT)
        existing = self._store.find_node(account_id, directory)
        if not children:
            return self._remove(account_id, directory, existing)
        abstract, overview, method = self._summary(directory, children, count)
        if existing and (existing.abstract, existing.overview) == (abstract, overview):
            return "summary unchanged"
        node = ContextNode(
            account_id=account_id,
            uri=directory,
            context_type=ContextType.DIRECTORY,
            category=children[0].category,
            owner_space=children[0].owner_space,
            abstract=abstract,
            overview=overview,
            metadata={"children": count, "summary": method},
        )
        version = existing.version if existing else None
        event = OutboxEvent(
            account_id, EventType.UPSERT_CONTEXT, directory, {"version": (version or 0) + 1}
        )
        self._store.write_node_with_outbox(
            node, [event], expected_version=version, action="summarize"
        )
        return f"summary of {count} children ({method})"

    def _remove(self, account_id: str, directory: str, existing: ContextNode | None) -> str:
        if existing is None or existing.context_type is not ContextType.DIRECTORY:
            return "no children, no summary"
        event = OutboxEvent(account_id, EventType.DELETE_CONTEXT, directory, {})
        self._store.delete_node(
            account_id, directory, expected_version=existing.version, events=[event]
        )
        return "summary removed (no active children)"

    def _summary(
        self, directory: str, children: list[ContextNode], count: int
    ) -> tuple[str, str, str]:
        if self._llm is not None:
            try:
                return (*self._llm_summary(directory, children), "llm")
            except Exception as exc:  # the deterministic summary is always available
                logger.warning("LLM summary of %s failed: %s", directory, exc)
        return (*deterministic_summary(directory, children, count), "deterministic")

    def _llm_summary(self, directory: str, children: list[ContextNode]) -> tuple[str, str]:
        assert self._llm is not None
        listing = "\n".join(f"- {c.abstract}" for c in children)
        prompt = _template().safe_substitute(
            directory=directory, category=children[0].category, children=listing
        )
        answer = summary.ask(self._llm, prompt)
        return answer.abstract, answer.overview
