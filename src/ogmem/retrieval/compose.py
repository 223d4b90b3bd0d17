"""compose(): the context block an agent puts in its prompt, never over its token budget.

The best memories come with detail (content if it fits, else overview), the rest as
abstracts, grouped by category in order of their best hit. Tokens are counted with the
embedder's tokenizer on the rendered text itself, so the budget holds for what is returned.

A raw memory (a message kept as it was, beside the model's memories in LLM mode) is left out
when a memory the model extracted from the same message is among the hits: the block would
say it twice, and the model's version is the one written to be read later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ogmem.core import errors
from ogmem.core.models import ContextNode, utcnow
from ogmem.retrieval.search import SearchHit

DETAILED = 3
MIN_BUDGET, MAX_BUDGET = 1, 200_000


@dataclass(frozen=True, slots=True)
class ComposeResult:
    text: str
    uris: list[str]
    tokens: int
    budget: int
    detailed: list[str] = field(default_factory=list)


@dataclass
class _Entry:
    node: ContextNode
    body: str  # "" when only the abstract is shown


def _lines(entry: _Entry) -> list[str]:
    body = [f"  {line}" for line in entry.body.splitlines() if line.strip()]
    return [f"- {entry.node.abstract}{_until(entry.node)}", *body]


def _until(node: ContextNode) -> str:
    """A superseded fact says so: the agent must not take it for the present."""
    if node.valid_to is None or node.valid_to > utcnow():
        return ""
    return f" (until {node.valid_to.date().isoformat()})"


def _render(entries: list[_Entry]) -> str:
    sections: dict[str, list[str]] = {}
    for entry in entries:
        sections.setdefault(entry.node.category, []).extend(_lines(entry))
    return "\n".join(f"## {category}\n" + "\n".join(lines) for category, lines in sections.items())


class _Budget:
    """Tokens of the block as it grows, counted piece by piece: the tokenizer splits at
    whitespace first, so a block's count is the sum of its lines' (each piece is counted
    once, instead of the whole block again for every candidate)."""

    def __init__(self, count_tokens: Callable[[str], int], budget: int) -> None:
        self._count = count_tokens
        self._budget = budget
        self.used = 0
        self._categories: set[str] = set()

    def cost(self, entry: _Entry) -> int:
        header = (
            0
            if entry.node.category in self._categories
            else self._count(f"## {entry.node.category}")
        )
        return header + self._count("\n".join(_lines(entry)))

    def take(self, entry: _Entry) -> bool:
        cost = self.cost(entry)
        if self.used + cost > self._budget:
            return False
        self.used += cost
        self._categories.add(entry.node.category)
        return True


def _detail_options(node: ContextNode) -> list[str]:
    """Richest first; the abstract alone ("") is the last resort."""
    options = [text for text in (node.content, node.overview) if text and text != node.abstract]
    return [*dict.fromkeys(options), ""]


def _sources(node: ContextNode) -> set[str]:
    return {str(source) for source in node.metadata.get("source_message_ids") or ()}


def _extracted_from(nodes: list[ContextNode]) -> set[str]:
    """The messages the model's memories among ``nodes`` come from."""
    return {
        source
        for node in nodes
        if node.metadata.get("extraction") != "raw"
        for source in _sources(node)
    }


def _said_already(node: ContextNode, extracted: set[str]) -> bool:
    if node.metadata.get("extraction") != "raw":
        return False
    sources = _sources(node)
    return bool(sources) and sources <= extracted


def compose_block(
    hits: list[SearchHit],
    read: Callable[[str], ContextNode | None],
    count_tokens: Callable[[str], int],
    token_budget: int,
    detailed: int = DETAILED,
) -> ComposeResult:
    if not MIN_BUDGET <= token_budget <= MAX_BUDGET:
        raise errors.InvalidInput(f"token_budget must be between {MIN_BUDGET} and {MAX_BUDGET}")
    entries: list[_Entry] = []
    budget = _Budget(count_tokens, token_budget)
    nodes = [node for node in map(read, (hit.uri for hit in hits)) if node is not None]
    extracted = _extracted_from(nodes)
    nodes = [node for node in nodes if not _said_already(node, extracted)]
    for rank, node in enumerate(nodes):
        options = _detail_options(node) if rank < detailed else [""]
        for body in options:
            if budget.take(entry := _Entry(node, body)):
                entries.append(entry)
                break
    text = _render(entries)
    # the sum of pieces is exact for WordPiece; another tokenizer may merge across lines,
    # so the rendered block is counted once more and trimmed if it came out over
    while entries and count_tokens(text) > token_budget:
        entries.pop()
        text = _render(entries)
    return ComposeResult(
        text=text,
        uris=[e.node.uri for e in entries],
        tokens=count_tokens(text) if text else 0,
        budget=token_budget,
        detailed=[e.node.uri for e in entries if e.body],
    )
