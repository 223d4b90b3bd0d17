"""``ogmem export`` / ``ogmem import``: an account, or one user of it, as a JSON Lines file
(docs/export-format.md), walked by the copy walker (``ogmem.copy.StoreCopy``) with a file at
one end: exporting copies a store into a file sink, importing copies a file source into a
store, so an import is idempotent and reports conflicts exactly as ``ogmem copy`` does.

The file holds nodes with their history, idempotency records and, when asked, sessions with
their messages. Index records (derived, and model-specific), outbox events and API keys stay
behind: the importing store indexes the nodes itself (``Engine.repair``).
"""

from __future__ import annotations

import json
import os
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, cast

from ogmem.copy import CopyReport, CopyScope, StoreCopy
from ogmem.core import uri
from ogmem.core.models import (
    AppliedOp,
    ContextNode,
    NodeVersion,
    SessionState,
    StoredMessage,
    utcnow,
)
from ogmem.core.storage import Backend
from ogmem.export_codec import ExportFormatError, decode, encode

FORMAT = "ogmem-export"
VERSION = 1
IMPORT_MODEL = "none"  # the file carries no vectors: no model's records travel


@dataclass(frozen=True, slots=True)
class Header:
    """The first line of a file: what it holds."""

    account_id: str
    user_id: str | None
    sessions: bool
    exported_at: datetime = field(default_factory=utcnow)
    format: str = FORMAT
    version: int = VERSION


class _FileSink:
    """The destination side of the copy walker, writing each row as a line: it holds nothing,
    so every row of the source is written once."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.uow = self.nodes = self.sessions = self

    def line(self, kind: str, row: Any, **extra: Any) -> None:
        self._out.write(json.dumps({"kind": kind, **extra, **encode(row)}, ensure_ascii=False))
        self._out.write("\n")

    def transaction(self) -> AbstractContextManager[None]:
        return nullcontext()

    def find_many(self, account_id: str, uris: Sequence[str]) -> dict[str, ContextNode]:
        return {}

    def history_of_many(self, account_id: str, uris: Sequence[str]) -> dict[str, Any]:
        return {}

    def applied_among(self, account_id: str, fingerprints: Sequence[str]) -> set[str]:
        return set()

    def get(self, account_id: str, session_id: str) -> None:
        return None

    def messages_by_id(
        self, account_id: str, session_id: str, ids: Sequence[str]
    ) -> dict[str, Any]:
        return {}

    def insert(self, nodes: Sequence[ContextNode]) -> None:
        for node in nodes:
            self.line("node", node)

    def import_versions(self, versions: Sequence[NodeVersion]) -> None:
        for version in versions:
            self.line("version", version)

    def record_applied(self, ops: Sequence[AppliedOp]) -> None:
        for op in ops:
            self.line("applied", op)

    def import_sessions(self, states: Sequence[SessionState]) -> None:
        for state in states:
            self.line("session", state)

    def import_messages(
        self, account_id: str, messages: Sequence[tuple[str, StoredMessage]]
    ) -> None:
        for session_id, stored in messages:
            self.line("message", stored, session_id=session_id)


def export_file(
    backend: Backend, path: Path, account_id: str, user_id: str | None, *, sessions: bool
) -> CopyReport:
    """Write the account (or its user) into ``path``: a new file, whole or not at all."""
    header = Header(account_id, user_id, sessions)
    scope = CopyScope(account_id, user_id, sessions=sessions, index=False, events=False,
                      keys=False)  # fmt: skip
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("w", encoding="utf-8") as out:
            out.write(json.dumps(encode(header)) + "\n")
            sink = cast(Backend, _FileSink(out))
            report = StoreCopy(backend, sink, IMPORT_MODEL, write=True, scope=scope).run()
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return report


# -- reading a file ---------------------------------------------------------------------------

_KINDS: dict[str, type] = {
    "node": ContextNode, "version": NodeVersion, "applied": AppliedOp,
    "session": SessionState, "message": StoredMessage,
}  # fmt: skip


@dataclass
class _FileSource:
    """The source side of the copy walker over a file's rows (held in memory, sorted by the
    keys the walker pages by)."""

    header: Header
    nodes_by_uri: dict[str, ContextNode] = field(default_factory=dict)
    history: dict[str, list[NodeVersion]] = field(default_factory=dict)
    applied: dict[str, AppliedOp] = field(default_factory=dict)
    states: dict[str, SessionState] = field(default_factory=dict)
    messages: list[tuple[str, StoredMessage]] = field(default_factory=list)

    @property
    def nodes(self) -> _FileSource:
        return self

    @property
    def sessions(self) -> _FileSource:
        return self

    def account_ids(self) -> list[str]:
        return [self.header.account_id]

    def export_nodes(self, account_id: str, after_uri: str, limit: int) -> list[ContextNode]:
        return [self.nodes_by_uri[k] for k in _page(sorted(self.nodes_by_uri), after_uri, limit)]

    def history_of_many(self, account_id: str, uris: Sequence[str]) -> dict[str, list[NodeVersion]]:
        return {u: sorted(self.history[u], key=lambda v: v.node.version)
                for u in uris if u in self.history}  # fmt: skip

    def export_applied(self, account_id: str, after: str, limit: int) -> list[AppliedOp]:
        return [self.applied[k] for k in _page(sorted(self.applied), after, limit)]

    def export_sessions(self, account_id: str, after: str, limit: int) -> list[SessionState]:
        return [self.states[k] for k in _page(sorted(self.states), after, limit)]

    def export_messages(
        self, account_id: str, after_id: int, limit: int
    ) -> list[tuple[str, StoredMessage]]:
        ids = [m.id for _, m in self.messages]
        start = bisect_right(ids, after_id)
        return self.messages[start : start + limit]

    def add(self, kind: str, row: Any, extra: dict[str, Any]) -> None:
        if isinstance(row, ContextNode):
            self.nodes_by_uri[row.uri] = row
        elif isinstance(row, NodeVersion):
            self.history.setdefault(row.node.uri, []).append(row)
        elif isinstance(row, AppliedOp):
            self.applied[row.fingerprint] = row
        elif isinstance(row, SessionState):
            self.states[row.session_id] = row
        else:
            self.messages.append((str(extra["session_id"]), row))


def _page(keys: list[str], after: str, limit: int) -> list[str]:
    start = bisect_right(keys, after)
    return keys[start : start + limit]


def _lines(text: TextIO) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ExportFormatError(f"line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(data, dict):
            raise ExportFormatError(f"line {number}: expected an object")
        yield number, data


def _header(number: int, data: dict[str, Any]) -> Header:
    if data.get("format") != FORMAT:
        raise ExportFormatError(f"line {number}: not an {FORMAT} file (its first line says "
                                f"format {data.get('format')!r})")  # fmt: skip
    if data.get("version") != VERSION:
        raise ExportFormatError(f"line {number}: format version {data.get('version')!r}; this "
                                f"ogmem reads version {VERSION}")  # fmt: skip
    return decode(Header, data, f"line {number}")


def read_file(text: TextIO) -> _FileSource:
    """Parse and check a whole file (nothing is written before it all reads well)."""
    lines = _lines(text)
    first = next(lines, None)
    if first is None:
        raise ExportFormatError("the file is empty: expected a header line")
    source = _FileSource(_header(*first))
    for number, data in lines:
        kind = data.pop("kind", None)
        model = _KINDS.get(str(kind))
        if model is None:
            raise ExportFormatError(f"line {number}: unknown kind {kind!r}")
        extra = {"session_id": data.pop("session_id", None)} if kind == "message" else {}
        if kind == "message" and not isinstance(extra["session_id"], str):
            raise ExportFormatError(f"line {number}: a message needs its session_id")
        row: Any = decode(model, data, f"line {number} ({kind})")
        _check_place(source.header, row, number)
        source.add(str(kind), row, extra)
    source.messages.sort(key=lambda item: item[1].id)
    return source


def _check_place(header: Header, row: Any, number: int) -> None:
    """Every row belongs to the header's account (and user): an import writes nowhere else."""
    node = row.node if isinstance(row, NodeVersion) else row
    account = getattr(node, "account_id", header.account_id)
    if account != header.account_id:
        raise ExportFormatError(f"line {number}: account {account!r}, but the file is of "
                                f"account {header.account_id!r}")  # fmt: skip
    where = getattr(node, "uri", None)
    if where is not None:
        parsed = uri.parse(where)
        user = parsed.segments[1] if parsed.segments[:1] == ("users",) else None
        if parsed.account != header.account_id or header.user_id not in (None, user):
            raise ExportFormatError(f"line {number}: {where} is outside what the file holds")


def import_file(
    backend: Backend, text: TextIO, model_id: str
) -> tuple[Header, CopyReport, CopyReport]:
    """Copy a file's rows into ``backend``: missing rows written, identical ones skipped,
    different ones reported as conflicts and left as they are; then verified. (header,
    what the import did, what the verification found)."""
    source = read_file(text)
    header = source.header
    scope = CopyScope(header.account_id, None, sessions=header.sessions, index=False,
                      events=False, keys=False)  # fmt: skip
    file_backend = cast(Backend, source)
    done = StoreCopy(file_backend, backend, model_id, write=True, scope=scope).run()
    checked = StoreCopy(file_backend, backend, model_id, write=False, scope=scope).run()
    return header, done, checked
