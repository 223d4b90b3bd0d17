"""Copying one store into another (``ogmem copy``), through the ports only.

Every kind of row is walked by its key, a page at a time, per account: nodes (by URI) with
their history and index records, idempotency records, sessions, their messages (in the order
they were stored), unfinished outbox events (pending ones to do, DLQ ones to look into; a
claim does not travel, finished events stay behind), and API keys (hashes only). Each page is
compared with what the destination holds under the same keys: a missing row is written, an
identical one skipped, a different one reported as a conflict and left as it is. So a copy can
be re-run (after an interruption, or to catch up before switching over) and changes nothing
the second time.

Index records travel with their vectors when they were made by the model the destination
will embed with (``model_id``); a node indexed by another model gets an UPSERT_CONTEXT event
instead, so the destination's workers re-embed it. Derived rows stay behind: the index clock
and tombstones (every copied record is a change), recall signals (statistics of the old
store's searches).

After the copy a second pass compares every kind again without writing: the verification.

A CopyScope narrows the walk to one account, one user of it (the URIs at and below the user's
root, the user's sessions and their messages) and the kinds asked for; ``ogmem export`` and
``ogmem import`` (``ogmem.export``) walk with it between a store and a file.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ogmem.commit.events import upsert_events
from ogmem.core import uri as uris
from ogmem.core.models import ContextNode, NodeVersion, SessionState, StoredMessage
from ogmem.core.storage import Backend, ExportedRecord, StoredRecord, UriSpan
from ogmem.outbox import store_events

PAGE = 500
KINDS = (
    "nodes", "history", "idempotency records", "index records", "nodes to re-index", "sessions",
    "messages", "outbox events", "api keys",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class CopyScope:
    """What a copy walks: every account or one (``account_id``), in it every user or one
    (``user_id``), and which kinds besides nodes, their history and idempotency records."""

    account_id: str | None = None
    user_id: str | None = None
    sessions: bool = True  # and their messages
    index: bool = True
    events: bool = True
    keys: bool = True

    def span(self, account: str) -> UriSpan | None:
        """The URIs of the scope's user in ``account``; None: every URI."""
        if self.user_id is None:
            return None
        return UriSpan(str(uris.user_root(account, self.user_id)))


@dataclass
class KindCounts:
    """Of the source's rows of one kind: how many were written, were there already, conflict."""

    source: int = 0
    written: int = 0
    present: int = 0
    conflicts: int = 0


@dataclass
class CopyReport:
    counts: dict[str, KindCounts] = field(default_factory=lambda: {k: KindCounts() for k in KINDS})
    conflicts: list[str] = field(default_factory=list)

    def missing(self) -> dict[str, int]:
        """Kinds with rows that a verification pass would still write. Re-index events are
        not rows of the source: the nodes they name wait for the destination's workers."""
        return {
            kind: c.written for kind, c in self.counts.items()
            if c.written and kind != "nodes to re-index"
        }  # fmt: skip


def _same_records(stored: Sequence[StoredRecord], records: Sequence[ExportedRecord]) -> bool:
    if [s.level for s in stored] != [r.record.level for r in records]:
        return False
    return all(
        s.text == r.record.text
        and s.node_version == r.record.node_version
        and s.status == r.record.status.value
        and np.array_equal(s.vector, r.vector)
        for s, r in zip(stored, records, strict=True)
    )


def _same_message(a: StoredMessage, b: StoredMessage) -> bool:
    """Stored ids are each store's own; the rest must match."""
    return (a.message, a.tokens, a.committed) == (b.message, b.tokens, b.committed)


class StoreCopy:
    """One pass over the source: ``write`` False only compares (the verification)."""

    def __init__(
        self,
        source: Backend,
        dest: Backend,
        model_id: str,
        *,
        write: bool,
        scope: CopyScope = CopyScope(),
    ) -> None:
        self._src = source
        self._dst = dest
        self._model_id = model_id
        self._write = write
        self._scope = scope
        self._user_sessions: set[str] = set()  # with a user scope: the user's session ids
        self.report = CopyReport()

    def run(self) -> CopyReport:
        for account in self._accounts():
            self._nodes_of(account)
            self._applied_of(account)
            if self._scope.sessions:
                self._user_sessions = set()
                skipped = self._sessions_of(account)
                self._messages_of(account, skipped)
            if self._scope.events:
                self._events_of(account)
        if self._scope.keys:
            self._keys()
        return self.report

    def _accounts(self) -> list[str]:
        if self._scope.account_id is not None:
            return [self._scope.account_id]
        return sorted(set(self._src.nodes.account_ids()) | set(self._src.sessions.account_ids()))

    # -- bookkeeping ----------------------------------------------------------------------------

    def _count(self, kind: str, *, written: int = 0, present: int = 0) -> None:
        counts = self.report.counts[kind]
        counts.source += written + present
        counts.written += written
        counts.present += present

    def _conflict(self, kind: str, what: str) -> None:
        counts = self.report.counts[kind]
        counts.source += 1
        counts.conflicts += 1
        self.report.conflicts.append(f"{kind}: {what}")

    # -- nodes, their history and index records -------------------------------------------------

    def _nodes_of(self, account: str) -> None:
        span = self._scope.span(account)
        after = "" if span is None else span.uri[:-1]  # sorts just before the user's URIs
        while page := self._src.nodes.export_nodes(account, after, PAGE):
            after = page[-1].uri
            if span is not None:
                page = [node for node in page if span.holds(node.uri)]
            if page:
                with self._dst.uow.transaction():
                    kept = self._node_page(account, page)
                    self._history_page(account, [n.uri for n in kept])
                    if self._scope.index:
                        self._index_page(account, kept)
            if span is not None and after >= span.upper:
                break

    def _node_page(self, account: str, page: list[ContextNode]) -> list[ContextNode]:
        """Write the missing nodes; the nodes that are not in conflict."""
        there = self._dst.nodes.find_many(account, [n.uri for n in page])
        missing, kept = [], []
        for node in page:
            other = there.get(node.uri)
            if other is not None and other != node:
                self._conflict("nodes", f"{node.uri} differs (destination v{other.version}, "
                               f"source v{node.version})")  # fmt: skip
                continue
            kept.append(node)
            if other is None:
                missing.append(node)
        if missing and self._write:
            self._dst.nodes.insert(missing)
        self._count("nodes", written=len(missing), present=len(kept) - len(missing))
        return kept

    def _history_page(self, account: str, uris: list[str]) -> None:
        source = self._src.nodes.history_of_many(account, uris)
        there = self._dst.nodes.history_of_many(account, uris)
        missing: list[NodeVersion] = []
        for uri, versions in source.items():
            theirs = {v.node.version: v for v in there.get(uri, [])}
            for version in versions:
                other = theirs.get(version.node.version)
                if other is None:
                    missing.append(version)
                elif other == version:
                    self._count("history", present=1)
                else:
                    self._conflict("history", f"{uri} v{version.node.version} differs")
        if missing and self._write:
            self._dst.nodes.import_versions(missing)
        self._count("history", written=len(missing))

    def _index_page(self, account: str, nodes: list[ContextNode]) -> None:
        uris = [n.uri for n in nodes]
        by_uri: dict[str, list[ExportedRecord]] = {}
        for exported in self._src.index.export_records(account, uris):
            by_uri.setdefault(exported.record.uri, []).append(exported)
        there = self._dst.index.records_of_many(account, uris)
        copies, reindex = [], []
        for node in nodes:
            records, stored = by_uri.get(node.uri, []), there.get(node.uri)
            if not records:
                continue  # not indexed yet: the source's pending event (copied too) does it
            if any(r.model_id != self._model_id for r in records):
                indexed = stored and min(s.node_version for s in stored) == node.version
                if indexed:
                    self._count("nodes to re-index", present=1)
                else:
                    reindex.append(node)
            elif stored is None:
                copies.append((node.uri, records))
            elif _same_records(stored, records):
                self._count("index records", present=len(records))
            else:
                self._conflict("index records", f"the records of {node.uri} differ")
        if self._write:
            self._write_index(account, copies, reindex)
        self._count("index records", written=sum(len(records) for _, records in copies))
        self._count("nodes to re-index", written=len(reindex))

    def _write_index(
        self,
        account: str,
        copies: list[tuple[str, list[ExportedRecord]]],
        reindex: list[ContextNode],
    ) -> None:
        if copies:
            items = [
                (uri, [r.record for r in records], [r.vector for r in records])
                for uri, records in copies
            ]
            self._dst.index.replace_many(account, items, self._model_id)
        events = [
            replace(event, coalesce=True)  # a re-run before the workers got to it adds none
            for node in reindex
            for event in upsert_events(node, refresh_directory=False)
        ]
        store_events(self._dst.outbox, events)

    # -- idempotency records, sessions, messages, events, keys ------------------------------------

    def _applied_of(self, account: str) -> None:
        after, span = "", self._scope.span(account)
        while page := self._src.nodes.export_applied(account, after, PAGE):
            after = page[-1].fingerprint
            page = [op for op in page if span is None or span.holds(op.uri)]
            if not page:
                continue
            there = self._dst.nodes.applied_among(account, [op.fingerprint for op in page])
            missing = [op for op in page if op.fingerprint not in there]
            if missing and self._write:
                self._dst.nodes.record_applied(missing)
            self._count("idempotency records", written=len(missing), present=len(there))

    def _sessions_of(self, account: str) -> set[str]:
        """Copy the sessions; the ids of those in conflict (their messages are left alone)."""
        after, conflicting = "", set()
        while page := self._src.sessions.export_sessions(account, after, PAGE):
            after = page[-1].session_id
            missing: list[SessionState] = []
            for state in page:
                if self._scope.user_id not in (None, state.user_id):
                    continue
                self._user_sessions.add(state.session_id)
                other = self._dst.sessions.get(account, state.session_id)
                if other is None:
                    missing.append(state)
                elif other == state:
                    self._count("sessions", present=1)
                else:
                    conflicting.add(state.session_id)
                    self._conflict("sessions", f"{state.session_id} differs")
            if missing and self._write:
                self._dst.sessions.import_sessions(missing)
            self._count("sessions", written=len(missing))
        return conflicting

    def _messages_of(self, account: str, skipped_sessions: set[str]) -> None:
        after = 0
        while page := self._src.sessions.export_messages(account, after, PAGE):
            after = page[-1][1].id
            missing: list[tuple[str, StoredMessage]] = []
            for session_id, group in _by_session(page):
                if session_id in skipped_sessions or not self._in_scope(session_id):
                    continue
                ids = [str(m.message.message_id) for m in group]
                there = self._dst.sessions.messages_by_id(account, session_id, ids)
                for message in group:
                    other = there.get(str(message.message.message_id))
                    if other is None:
                        missing.append((session_id, message))
                    elif _same_message(other, message):
                        self._count("messages", present=1)
                    else:
                        what = f"{session_id}/{message.message.message_id} differs"
                        self._conflict("messages", what)
            missing.sort(key=lambda item: item[1].id)
            if missing and self._write:
                self._dst.sessions.import_messages(account, missing)
            self._count("messages", written=len(missing))

    def _in_scope(self, session_id: str) -> bool:
        return self._scope.user_id is None or session_id in self._user_sessions

    def _events_of(self, account: str) -> None:
        after = 0
        while page := self._src.outbox.export_events(account, after, PAGE):
            after = page[-1].id or after
            for event in page:
                if self._write:
                    written = self._dst.outbox.import_event(event)
                else:
                    written = not self._dst.outbox.has_event(event)
                self._count("outbox events", written=int(written), present=int(not written))

    def _keys(self) -> None:
        there = {key.key_id: (key, key_hash) for key, key_hash in self._dst.keys.export_keys()}
        hashes = {key_hash: key.key_id for key, key_hash in there.values()}
        for key, key_hash in self._src.keys.export_keys():
            other = there.get(key.key_id)
            if other == (key, key_hash):
                self._count("api keys", present=1)
            elif other is not None or key_hash in hashes:
                self._conflict("api keys", f"{key.key_id} differs or its hash is another key's")
            else:
                if self._write:
                    self._dst.keys.import_key(key, key_hash)
                self._count("api keys", written=1)


def _by_session(
    page: list[tuple[str, StoredMessage]],
) -> Iterator[tuple[str, list[StoredMessage]]]:
    groups: dict[str, list[StoredMessage]] = {}
    for session_id, message in page:
        groups.setdefault(session_id, []).append(message)
    yield from groups.items()


def copy_store(source: Backend, dest: Backend, model_id: str) -> tuple[CopyReport, CopyReport]:
    """Copy ``source`` into ``dest``, then verify; (what the copy did, what the check found).
    ``model_id``: the embedding model the destination's engine uses."""
    done = StoreCopy(source, dest, model_id, write=True).run()
    checked = StoreCopy(source, dest, model_id, write=False).run()
    return done, checked
