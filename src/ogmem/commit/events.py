"""The outbox events each kind of write emits (built here, stored in the write's transaction)."""

from __future__ import annotations

from datetime import timedelta

from ogmem.core import uri
from ogmem.core.models import ContextNode, EventType, OutboxEvent, utcnow
from ogmem.schemas.registry import MemoryType

DIRECTORY_DEBOUNCE = timedelta(seconds=2)


def _directory_of(node_uri: str) -> str | None:
    """The parent of a node's URI (valid already: the node was built from it), None for an
    account root; a string split, because parsing re-validates every segment (bench: writer)."""
    if "/" not in node_uri[len(uri.SCHEME) :].rstrip("/"):
        return None
    return node_uri.rstrip("/").rsplit("/", 1)[0]


def _directory_event(account_id: str, node_uri: str, reason: str) -> list[OutboxEvent]:
    """Deferred by DIRECTORY_DEBOUNCE and coalesced: a burst of writes to one directory then
    costs one event and one summary, not one per write (the run reads the directory as it is
    then, and absorbs any event written before its read)."""
    directory = _directory_of(node_uri)
    if directory is None:
        return []
    payload = {"child": node_uri, "reason": reason}
    due = utcnow() + DIRECTORY_DEBOUNCE
    return [
        OutboxEvent(
            account_id, EventType.UPSERT_DIRECTORY, directory, payload,
            available_at=due, coalesce=True,
        )
    ]  # fmt: skip


def upsert_events(node: ContextNode, *, refresh_directory: bool) -> list[OutboxEvent]:
    """UPSERT_CONTEXT for the node, plus UPSERT_DIRECTORY so its directory summary follows."""
    payload = {"version": node.version, "category": node.category}
    events = [OutboxEvent(node.account_id, EventType.UPSERT_CONTEXT, node.uri, payload)]
    if refresh_directory:
        events += _directory_event(node.account_id, node.uri, "upsert")
    return events


def write_events(node: ContextNode, version: int, memory_type: MemoryType) -> list[OutboxEvent]:
    """The events of writing a memory at ``version``: its upsert, and its directory's summary
    unless its type keeps a single node (a profile has no directory worth summarising)."""
    return upsert_events(
        node.evolve(version=version), refresh_directory=not memory_type.single_node
    )


def archive_events(account_id: str, node_uri: str, version: int) -> list[OutboxEvent]:
    payload = {"version": version}
    return [
        OutboxEvent(account_id, EventType.ARCHIVE_CONTEXT, node_uri, payload),
        *_directory_event(account_id, node_uri, "archive"),
    ]


def delete_events(account_id: str, node_uri: str) -> list[OutboxEvent]:
    return [
        OutboxEvent(account_id, EventType.DELETE_CONTEXT, node_uri, {}),
        *_directory_event(account_id, node_uri, "delete"),
    ]


def move_events(node: ContextNode, src: str) -> list[OutboxEvent]:
    return [
        OutboxEvent(node.account_id, EventType.DELETE_CONTEXT, src, {"moved_to": node.uri}),
        *_directory_event(node.account_id, src, "move"),
        *upsert_events(node, refresh_directory=True),
    ]
