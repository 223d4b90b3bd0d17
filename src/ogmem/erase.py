"""Erasing a user: every row about them goes, on either backend, in one transaction.

What is the user's: every URI at or below ``ctx://{account}/users/{user}`` (memories, their
directory summaries, session archives and summaries) with the rows keyed by those URIs (node
history, idempotency records, index records with their full text, index tombstones, recall
signals), the user's sessions with their buffered messages, the API keys bound to the user,
and every outbox event, pending, dead-lettered or done, whose URI, payload or error names the
user's root URI. The index keeps no URI of what went: one tombstone that names nothing makes
every vector cache of the account (in any process) reload it.

Not the user's, so kept: agent memories (``agents/...``: shared by the agent's users; a case
an LLM drew from the user's session stays the agent's) and the rest of the account.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ogmem.core import uri
from ogmem.core.models import OutboxEvent
from ogmem.core.storage import Backend, UriSpan


@dataclass(frozen=True, slots=True)
class EraseReport:
    """How many rows of each kind went."""

    account_id: str
    user_id: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _naming(root: str) -> re.Pattern[str]:
    """The root URI itself or a URI below it (``users/al`` is not named by ``users/alice``):
    the root followed by anything but a segment character."""
    return re.compile(re.escape(root) + r"(?![A-Za-z0-9._-])")


def _names(event: OutboxEvent, pattern: re.Pattern[str]) -> bool:
    texts = (event.uri, json.dumps(dict(event.payload)), event.last_error or "")
    return any(pattern.search(text) for text in texts)


def erase_user(backend: Backend, account_id: str, user_id: str) -> EraseReport:
    """Delete every row about ``user_id`` of ``account_id`` (see the module); all or nothing.

    Raises:
        errors.InvalidURI: ``user_id`` cannot be a URI segment (so no data has it).
    """
    root = str(uri.user_root(account_id, user_id))
    span, erase = UriSpan(root), backend.erase
    counts: dict[str, int] = {}
    with erase.scrubbing():
        counts |= erase.delete_nodes(account_id, span)
        counts["idempotency records"] = erase.delete_applied(account_id, span)
        counts |= erase.delete_index(account_id, span)
        counts |= erase.delete_sessions(account_id, user_id)
        counts["api keys"] = erase.delete_keys(account_id, user_id)
        counts["dream runs"] = erase.delete_dream_runs(account_id, user_id)
        pattern = _naming(root)
        named = [e.id for e in erase.events_containing(account_id, root) if _names(e, pattern)]
        counts["outbox events"] = erase.delete_events(account_id, [i for i in named if i])
    return EraseReport(account_id, user_id, counts)
