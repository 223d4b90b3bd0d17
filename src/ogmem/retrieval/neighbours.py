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

from collections.abc import Mapping, Sequence

from ogmem.core.models import ContextNode

NEIGHBOUR_WEIGHT = 0.3


Keys = list[tuple[str, str]]  # (session, message) pairs


def _keys(node: ContextNode) -> tuple[Keys, Keys]:
    """The node's own messages and the messages right before them, per session."""
    sessions = [str(session) for session in node.metadata.get("session_ids") or ()]

    def pairs(field: str) -> Keys:
        messages = node.metadata.get(field) or ()
        return [(session, str(message)) for session in sessions for message in messages]

    return pairs("source_message_ids"), pairs("context_message_ids")


def _raise(best: dict[tuple[str, str], float], keys: Keys, score: float) -> None:
    for key in keys:
        best[key] = max(best.get(key, 0.0), score)


def neighbour_bonus(
    scored: Sequence[tuple[float, str]], nodes: Mapping[str, ContextNode]
) -> dict[str, float]:
    """For each URI of ``scored`` (score, uri): the best score of a candidate made from the
    message right before or right after its own, times NEIGHBOUR_WEIGHT."""
    read = [(score, nodes[uri]) for score, uri in scored if uri in nodes]
    keyed = [(score, node, *_keys(node)) for score, node in read]  # each node's keys once
    by_source: dict[tuple[str, str], float] = {}  # its message is the one before mine
    by_context: dict[tuple[str, str], float] = {}  # the message before it is mine
    for score, _, sources, contexts in keyed:
        _raise(by_source, sources, score)
        _raise(by_context, contexts, score)
    bonus: dict[str, float] = {}
    for _, node, sources, contexts in keyed:
        before = [by_source.get(key, 0.0) for key in contexts]
        after = [by_context.get(key, 0.0) for key in sources]
        best = max([*before, *after], default=0.0)
        if best:
            bonus[node.uri] = NEIGHBOUR_WEIGHT * best
    return bonus
