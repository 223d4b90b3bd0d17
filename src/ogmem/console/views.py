"""What each console page shows, built from Engine calls only (the API's own calls)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

from ogmem.core import errors, uri
from ogmem.core.models import ContextNode, NodeStatus, NodeVersion, RequestContext
from ogmem.core.ports import DirEntry
from ogmem.engine import Engine
from ogmem.server.auth import Principal

MAX_ENTRIES = 200  # a directory of 10,000 memories is shown a page at a time
NO_USER = "-"  # the context of account-wide reads that name no user


def context(caller: Principal, user: str | None = None) -> RequestContext:
    return caller.context(user or caller.user_id or NO_USER)


def user_of(node_uri: str) -> str | None:
    """The user a URI belongs to (``users/<user>/...``), None for agents' and the root."""
    segments = uri.parse(node_uri).segments
    return segments[1] if segments[:1] == ("users",) and len(segments) >= 2 else None


def users(engine: Engine, caller: Principal) -> list[str]:
    if caller.user_id is not None:
        return [caller.user_id]
    root = str(uri.build(caller.account_id, "users"))
    return [e.name for e in engine.subdirectories(root, context(caller))]


def root_of(caller: Principal, user: str | None) -> str:
    """Where the tree starts: the chosen user's space, or the account root."""
    user = caller.user_id or user
    if user:
        return str(uri.build(caller.account_id, "users", user))
    return str(uri.build(caller.account_id))


def breadcrumbs(node_uri: str) -> list[tuple[str, str]]:
    parsed = uri.parse(node_uri)
    crumbs = [(parsed.account, str(uri.ContextURI(parsed.account, ())))]
    for depth in range(1, len(parsed.segments) + 1):
        part = uri.ContextURI(parsed.account, parsed.segments[:depth])
        crumbs.append((parsed.segments[depth - 1], str(part)))
    return crumbs


@dataclass
class TreeView:
    root: str
    directories: list[DirEntry]  # the root's subdirectories (with summaries), to walk down
    nodes: list[tuple[str, ContextNode]]  # (path below the root, node), the first MAX_ENTRIES
    total: int  # memories below the root that pass the filters
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # category -> status -> n


def tree_view(engine: Engine, caller: Principal, root: str, category: str, status: str) -> TreeView:
    """The root's directories, its memories counted, and its first nodes as an indented tree
    (three bounded reads: a directory may hold 100,000 memories)."""
    caller.check_uri(root)
    ctx = context(caller, user_of(root))
    state = _status(status)
    counts = {
        c: {s.lower(): n for s, n in by_status.items()}
        for c, by_status in engine.tree_counts(root, ctx).items()
    }
    total = sum(
        n for c, by_status in counts.items() if not category or c == category
        for s, n in by_status.items() if not status or s == status
    )  # fmt: skip
    page = engine.tree_page(root, ctx, category=category or None, status=state, limit=MAX_ENTRIES)
    prefix = len(root.rstrip("/")) + 1
    nodes = [(n.uri[prefix:] or n.uri, n) for n in page]
    return TreeView(root, engine.subdirectories(root, ctx), nodes, total, counts)


def _status(text: str) -> NodeStatus | None:
    if not text:
        return None
    try:
        return NodeStatus(text.upper())
    except ValueError:
        raise errors.InvalidInput(f"status must be active or archived, not {text!r}") from None


@dataclass
class MemoryView:
    node: ContextNode
    versions: list[NodeVersion]
    older: int | None
    newer: int | None
    diff_html: str
    sessions: list[tuple[str, str]]  # (session id, its archive's URI)


def memory_view(
    engine: Engine, caller: Principal, node_uri: str, older: int | None, newer: int | None
) -> MemoryView:
    caller.check_uri(node_uri)
    ctx = context(caller, user_of(node_uri))
    node = engine.read(node_uri, ctx)
    versions = engine.history(node_uri, ctx)
    numbers = [v.node.version for v in versions]
    if older is None and newer is None and len(numbers) >= 2:
        older, newer = sorted(numbers)[-2:]
    diff_html = ""
    if older is not None and newer is not None:
        diff_html = version_diff(versions, older, newer)
    return MemoryView(node, versions, older, newer, diff_html, _sessions(node))


def _sessions(node: ContextNode) -> list[tuple[str, str]]:
    user = node.metadata.get("user_id") or user_of(node.uri)
    found = []
    for session_id in node.metadata.get("session_ids", []):
        if user:
            archive = uri.session_uri(node.account_id, str(user), str(session_id))
            found.append((str(session_id), str(archive)))
    return found


def _text(node: ContextNode) -> list[str]:
    lines = [f"status: {node.status.value}", f"category: {node.category}", "", "# abstract"]
    lines += [*node.abstract.splitlines(), "", "# overview", *node.overview.splitlines()]
    return [*lines, "", "# content", *node.content.splitlines()]


def version_diff(versions: list[NodeVersion], older: int, newer: int) -> str:
    """A side-by-side table of two versions' levels (difflib's HTML, escaped by it)."""
    by_number = {v.node.version: v.node for v in versions}
    missing = [n for n in (older, newer) if n not in by_number]
    if missing:
        raise errors.InvalidInput(f"no version {missing[0]} of this memory")
    return difflib.HtmlDiff(wrapcolumn=60).make_table(
        _text(by_number[older]), _text(by_number[newer]),
        f"version {older}", f"version {newer}", context=False,
    )  # fmt: skip


def metadata_rows(node: ContextNode) -> list[tuple[str, Any]]:
    return sorted(node.metadata.items())
