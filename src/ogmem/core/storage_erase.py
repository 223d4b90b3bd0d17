"""The storage port of erasing a user (``ogmem.erase`` decides what is the user's; see
``ogmem.core.storage``, which bundles it into the Backend and re-exports it)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from ogmem.core.models import OutboxEvent

ERASED_TOMBSTONE = ("", -1)
"""The (uri, level) of a tombstone that names no record: records went that a cache must not
learn the URIs of (an erased user). A vector cache seeing it reloads the account."""


@dataclass(frozen=True, slots=True)
class UriSpan:
    """A URI and every URI below it: ``uri`` itself, or between ``lower`` and ``upper``."""

    uri: str

    @property
    def lower(self) -> str:
        return self.uri + "/"

    @property
    def upper(self) -> str:
        return self.uri + "0"  # "0" follows "/" bytewise: the first URI past the subtree

    def holds(self, uri: str) -> bool:
        return uri == self.uri or self.lower < uri < self.upper


class EraseStore(Protocol):
    """Deletes rows kind by kind, each call scoped by account; returns how many went (of each
    kind, by name, when a call deletes several)."""

    def scrubbing(self) -> AbstractContextManager[None]:
        """One transaction whose deletions leave nothing readable behind in the store's own
        files where the backend can see to it (SQLite: freed space zeroed, full-text segments
        merged, its write-ahead log emptied after the commit)."""
        ...

    def delete_nodes(self, account_id: str, span: UriSpan) -> dict[str, int]:
        """Nodes in the span and their history rows."""
        ...

    def delete_applied(self, account_id: str, span: UriSpan) -> int:
        """Idempotency records of URIs in the span."""
        ...

    def delete_index(self, account_id: str, span: UriSpan) -> dict[str, int]:
        """Index records (their full text with them), tombstones and recall signals of URIs in
        the span; then one ERASED_TOMBSTONE, so that every cache of the account reloads."""
        ...

    def delete_sessions(self, account_id: str, user_id: str) -> dict[str, int]:
        """The user's sessions and every message buffered in them."""
        ...

    def delete_keys(self, account_id: str, user_id: str) -> int:
        """API keys bound to the user."""
        ...

    def delete_dream_runs(self, account_id: str, user_id: str) -> int:
        """The records of the user's dream runs (they name the user's memories)."""
        ...

    def events_containing(self, account_id: str, text: str) -> list[OutboxEvent]:
        """Events of any status whose URI, payload or error contains ``text`` (a superset:
        the caller decides which of them name what it erases)."""
        ...

    def delete_events(self, account_id: str, ids: Sequence[int]) -> int: ...
