"""Neighbours in a conversation lift each other.

A question about a conversation is often answered by two or three messages in a row (a
question and its answer, a story told over several turns), while only one of them shares the
question's words. A memory made from a message therefore gets a share of the best score of
the memories made from the message right before it or right after it, among the candidates
search has already read (raw memories know the message before theirs:
``context_message_ids``). Messages are told apart per session: message ids need only be
unique within one.

The share was chosen by leave-one-conversation-out on the LoCoMo dev file: each of the five
conversations picked the same weight from the other four (docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ogmem.core.models import ContextNode

NEIGHBOUR_WEIGHT = 0.3


def _keys(node: ContextNode, field: str) -> list[tuple[str, str]]:
    sessions = node.metadata.get("session_ids") or ()
    messages = node.metadata.get(field) or ()
    return [(str(session), str(message)) for session in sessions for message in messages]


def _best_by(
    scored: Iterable[tuple[float, ContextNode]], field: str
) -> dict[tuple[str, str], float]:
    best: dict[tuple[str, str], float] = {}
    for score, node in scored:
        for key in _keys(node, field):
            best[key] = max(best.get(key, 0.0), score)
    return best


def neighbour_bonus(
    scored: Sequence[tuple[float, str]], nodes: Mapping[str, ContextNode]
) -> dict[str, float]:
    """For each URI of ``scored`` (score, uri): the best score of a candidate made from the
    message right before or right after its own, times NEIGHBOUR_WEIGHT."""
    read = [(score, nodes[uri]) for score, uri in scored if uri in nodes]
    by_source = _best_by(read, "source_message_ids")  # its message is the one before mine
    by_context = _best_by(read, "context_message_ids")  # the message before it is mine
    bonus: dict[str, float] = {}
    for _, node in read:
        before = [by_source.get(key, 0.0) for key in _keys(node, "context_message_ids")]
        after = [by_context.get(key, 0.0) for key in _keys(node, "source_message_ids")]
        best = max([*before, *after], default=0.0)
        if best:
            bonus[node.uri] = NEIGHBOUR_WEIGHT * best
    return bonus
