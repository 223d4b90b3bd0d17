"""compose(): the context block an agent puts in its prompt, never over its token budget.

The best memories come with detail (content if it fits, else overview), the rest as
abstracts, grouped by category in order of their best hit. Tokens are counted with the
embedder's tokenizer on the rendered text itself, so the budget holds for what is returned.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ogmem.core import errors
from ogmem.core.models import ContextNode
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


def _render(entries: list[_Entry]) -> str:
    sections: dict[str, list[str]] = {}
    for entry in entries:
        lines = sections.setdefault(entry.node.category, [])
        lines.append(f"- {entry.node.abstract}")
        if entry.body:
            lines.extend(f"  {line}" for line in entry.body.splitlines() if line.strip())
    return "\n".join(f"## {category}\n" + "\n".join(lines) for category, lines in sections.items())


def _detail_options(node: ContextNode) -> list[str]:
    """Richest first; the abstract alone ("") is the last resort."""
    options = [text for text in (node.content, node.overview) if text and text != node.abstract]
    return [*dict.fromkeys(options), ""]


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
    for rank, hit in enumerate(hits):
        node = read(hit.uri)
        if node is None:
            continue
        options = _detail_options(node) if rank < detailed else [""]
        for body in options:
            candidate = [*entries, _Entry(node, body)]
            if count_tokens(_render(candidate)) <= token_budget:
                entries = candidate
                break
    text = _render(entries)
    return ComposeResult(
        text=text,
        uris=[e.node.uri for e in entries],
        tokens=count_tokens(text) if text else 0,
        budget=token_budget,
        detailed=[e.node.uri for e in entries if e.body],
    )
