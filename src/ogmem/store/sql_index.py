"""SqlIndexStore: the IndexStore port over any SQL connector, but for full-text search: each
dialect has its own query language, so ``keyword_search`` is in its subclass
(``SqliteIndexStore``, ``PostgresIndexStore``).

Every change bumps the account's index clock, and a removal leaves a tombstone, so that a
vector cache (in this process or another) catches up with one cheap query.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ogmem.core.models import ContextType, IndexRecord, NodeStatus, SearchFilter
from ogmem.core.storage import (
    ExportedRecord,
    IndexChanges,
    IndexedVector,
    Recall,
    StoredRecord,
    Vector,
)
from ogmem.store import rows
from ogmem.store.database import Database


def scope_token(account_id: str, owner_space: str) -> str:
    """One opaque token per (account, owner space): letters and digits only, so a full-text
    tokenizer keeps it whole, and a hash, so no id can collide with another or with a word."""
    digest = hashlib.sha256(f"{account_id}\x1f{owner_space}".encode()).hexdigest()[:24]
    return "scope" + digest


def filter_token(kind: str, value: str) -> str:
    """A token saying one filter column's value (kind: k type, x status, c category): the
    value's UTF-8 in hex, as SQLite's hex() writes it, so a migration can compute it too."""
    return kind + value.encode().hex().upper()


def scope_text(record: IndexRecord) -> str:
    """What the full-text "scope" column holds: the (account, owner) token and one token per
    filter column, so that a keyword search ranks only the records its filter allows; then
    the filter tokens again, each prefixed with the owner's token. A search of some owners
    matches those: FTS5's BM25 counts the records holding each token of the query, and a token
    every record of the database holds (``k`` + MEMORY) made each search cost what the whole
    database holds; an owner's token counts only that owner's records."""
    owner = scope_token(record.account_id, record.owner_space)
    filters = (
        filter_token("k", record.context_type.value),
        filter_token("x", record.status.value),
        filter_token("c", record.category),
    )
    return " ".join((owner, *filters, *(owner + token for token in filters)))


def filter_params(search_filter: SearchFilter) -> dict[str, list[str] | None]:
    def values(given: Sequence[Any] | None) -> list[str] | None:
        return None if given is None else [str(v) for v in given]

    return {
        "owner_spaces": values(search_filter.owner_spaces),
        "categories": values(search_filter.categories),
        "context_types": values(search_filter.context_types),
        "statuses": values(search_filter.statuses),
    }


def _stored(row: dict[str, Any]) -> StoredRecord:
    return StoredRecord(
        row["level"],
        row["text"],
        row["node_version"],
        row["status"],
        rows.load_vector(row["vector"]),
    )


def _indexed(row: dict[str, Any]) -> IndexedVector:
    return IndexedVector(
        uri=row["uri"],
        level=int(row["level"]),
        owner_space=row["owner_space"],
        category=row["category"],
        context_type=row["context_type"],
        status=row["status"],
        model_id=row["model_id"],
        vector=rows.load_vector(row["vector"]),
    )


def _exported(row: dict[str, Any]) -> ExportedRecord:
    record = IndexRecord(
        account_id=row["account_id"],
        uri=row["uri"],
        level=int(row["level"]),
        text=row["text"],
        owner_space=row["owner_space"],
        category=row["category"],
        context_type=ContextType(row["context_type"]),
        status=NodeStatus(row["status"]),
        node_version=int(row["node_version"]),
        terms=row["terms"],
    )
    return ExportedRecord(record, rows.load_vector(row["vector"]), row["model_id"])


def _record_params(record: IndexRecord, vector: Vector, model_id: str, seq: int) -> dict[str, Any]:
    return {
        "account_id": record.account_id,
        "uri": record.uri,
        "level": record.level,
        "owner_space": record.owner_space,
        "category": record.category,
        "context_type": record.context_type.value,
        "status": record.status.value,
        "node_version": record.node_version,
        "text": record.text,
        "terms": record.terms,
        "vector": vector,
        "dims": int(vector.shape[0]),
        "model_id": model_id,
        "seq": seq,
        "scope": scope_text(record),
    }


class SqlIndexStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    def records_of_many(
        self, account_id: str, uris: Sequence[str]
    ) -> dict[str, list[StoredRecord]]:
        found = self._db.fetch_all("records_of_uris", account_id=account_id, uris=list(uris))
        by_uri: dict[str, list[StoredRecord]] = {}
        for row in found:
            by_uri.setdefault(row["uri"], []).append(_stored(row))
        return by_uri

    def replace_many(
        self,
        account_id: str,
        items: Sequence[tuple[str, Sequence[IndexRecord], Sequence[Vector]]],
        model_id: str,
    ) -> None:
        """Make each URI's records exactly the given ones, in one transaction (a few
        statements, not a few per URI)."""
        with self._db.transaction():
            seq = self._tick(account_id)
            self._db.execute_many(
                "upsert_record",
                [
                    _record_params(record, vector, model_id, seq)
                    for _, records, vectors in items
                    for record, vector in zip(records, vectors, strict=True)
                ],
            )
            kept = {(record.uri, record.level) for _, records, _ in items for record in records}
            stored = self._db.fetch_all(
                "record_levels_of_uris", account_id=account_id, uris=[uri for uri, _, _ in items]
            )
            dropped = sorted({(r["uri"], int(r["level"])) for r in stored} - kept)
            self._delete_levels(account_id, dropped, seq)

    def remove(self, account_id: str, uri: str) -> None:
        with self._db.transaction():
            seq = self._tick(account_id)
            self._delete_levels(account_id, [(uri, level) for level in (0, 1, 2)], seq)

    def _tick(self, account_id: str) -> int:
        (row,) = self._db.returning("tick_index_clock", account_id=account_id)
        return int(row["seq"])

    def _delete_levels(self, account_id: str, levels: list[tuple[str, int]], seq: int) -> None:
        """Delete the (uri, level) records, leaving a tombstone for each one that existed."""
        params = [
            {"account_id": account_id, "uri": uri, "level": level, "seq": seq}
            for uri, level in levels
        ]
        self._db.execute_many("insert_tombstone", params)
        self._db.execute_many("delete_record", params)

    def clock(self, account_id: str) -> int:
        row = self._db.fetch_one("index_clock", account_id=account_id)
        return 0 if row is None else int(row["seq"])

    def changes_since(self, account_id: str, clock: int) -> IndexChanges:
        """No snapshot needed: the clock is read first, so a change made between the reads
        has a later sequence number and is read again next time (applying a record or a
        tombstone twice changes nothing), and a write transaction is not held for a read."""
        now = self._db.fetch_one("index_clock", account_id=account_id)
        written = self._db.fetch_all("records_since", account_id=account_id, seq=clock)
        removed = self._db.fetch_all("tombstones_since", account_id=account_id, seq=clock)
        return IndexChanges(
            clock=0 if now is None else int(now["seq"]),
            written=[_indexed(row) for row in written],
            removed=[(row["uri"], int(row["level"])) for row in removed],
        )

    def owner_vectors(self, account_id: str, owner_space: str) -> list[IndexedVector]:
        found = self._db.fetch_all("owner_records", account_id=account_id, owner_space=owner_space)
        return [_indexed(row) for row in found]

    def owner_spaces(self, account_id: str) -> list[str]:
        found = self._db.fetch_all("owner_spaces_of_account", account_id=account_id)
        return [row["owner_space"] for row in found]

    def lagging_nodes(self, account_id: str) -> list[tuple[str, int]]:
        found = self._db.fetch_all("lagging_nodes", account_id=account_id)
        return [(r["uri"], int(r["version"])) for r in found]

    def export_records(self, account_id: str, uris: Sequence[str]) -> list[ExportedRecord]:
        found = self._db.fetch_all("export_records", account_id=account_id, uris=list(uris))
        return [_exported(row) for row in found]

    def orphan_uris(self, account_id: str) -> list[str]:
        return [r["uri"] for r in self._db.fetch_all("orphan_record_uris", account_id=account_id)]

    def record_recall(self, account_id: str, recalls: Sequence[Recall]) -> None:
        # the rows as one JSON parameter: a statement per row would wait for the GIL after
        # each (SQLite runs a statement in its own call), while holding the write lock
        signals = [
            {"uri": uri, "query_hash": query_hash, "rank": rank, "score": score,
             "recalled_at": rows.dump_time(at)}
            for query_hash, hits, at in recalls
            for rank, (uri, score) in enumerate(hits, start=1)
        ]  # fmt: skip
        if signals:
            self._db.execute(
                "insert_recall_signals", account_id=account_id, signals=json.dumps(signals)
            )

    def searches_per_day(self, account_id: str, since: datetime) -> dict[str, int]:
        found = self._db.fetch_all("searches_per_day", account_id=account_id, since=since)
        return {str(r["day"]): int(r["n"]) for r in found}

    def last_recalls(self, account_id: str, uris: Sequence[str]) -> dict[str, datetime]:
        found = self._db.fetch_all("last_recalls", account_id=account_id, uris=list(uris))
        return {
            row["uri"]: rows.load_time(row["last_recalled_at"]) or datetime.min for row in found
        }

    def recall_signals(self, account_id: str, uri: str) -> list[dict[str, Any]]:
        return self._db.fetch_all("recall_signals_of_uri", account_id=account_id, uri=uri)
