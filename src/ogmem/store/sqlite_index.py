"""SqliteIndex: index records (vectors as float32 blobs + FTS5 full text) and recall signals."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from ogmem.core.models import IndexRecord, SearchFilter, utcnow
from ogmem.core.ports import RecordHit, StoredRecord
from ogmem.store import rows
from ogmem.store.sqlite_db import SqliteDatabase

_WORD = re.compile(r"\w+", re.UNICODE)
# Function words carry no topic; OR-ing them into the query only makes BM25 rank (and scan)
# every record that contains "the". A query made only of them keeps them (nothing else left).
STOPWORDS = frozenset(
    """
    a about above after again all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself
    just me more most my myself no nor not now of off on once only or other our ours ourselves
    out over own same she should so some such than that the their theirs them themselves then
    there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves
    """.split()
)


PREFILTER_DEPTH = 2  # FTS matches ranked per wanted hit before filtering on account etc.


def to_blob(vector: npt.NDArray[np.float32]) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blob(blob: bytes) -> npt.NDArray[np.float32]:
    return np.frombuffer(blob, dtype="<f4").astype(np.float32)


def fts_match(query: str) -> str | None:
    """An FTS5 query that ORs the query's words, each quoted so no word acts as syntax."""
    words = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
    content = [w for w in words if w not in STOPWORDS] or words
    return " OR ".join(f'"{w}"' for w in content) if content else None


def scope_token(account_id: str, owner_space: str) -> str:
    """One opaque FTS token per (account, owner space): letters and digits only, so the
    tokenizer keeps it whole, and a hash, so no id can collide with another or with a word."""
    digest = hashlib.sha256(f"{account_id}\x1f{owner_space}".encode()).hexdigest()[:24]
    return "scope" + digest


def scoped_match(words: str, account_id: str, owner_spaces: Sequence[str] | None) -> str:
    if owner_spaces is None:
        return f"text : ({words})"
    scopes = " OR ".join(scope_token(account_id, owner) for owner in owner_spaces) or "scopenone"
    return f"scope : ({scopes}) AND text : ({words})"


def query_hash(query: str) -> str:
    return hashlib.sha256(query.strip().lower().encode()).hexdigest()[:16]


def filter_params(search_filter: SearchFilter) -> dict[str, str | None]:
    def as_json(values: Sequence[Any] | None) -> str | None:
        return None if values is None else json.dumps([str(v) for v in values])

    return {
        "owner_spaces": as_json(search_filter.owner_spaces),
        "categories": as_json(search_filter.categories),
        "context_types": as_json(search_filter.context_types),
        "statuses": as_json(search_filter.statuses),
    }


class SqliteIndex:
    """The IndexStore port on the SQLite store (same file, same connection)."""

    def __init__(self, store: SqliteDatabase) -> None:
        self._store = store
        self._scope_old_records()

    def _scope_old_records(self) -> None:
        """Records written before migration 0004 get their scope token (once)."""
        owners = self._store.fetch_all("unscoped_owners", after_account_id="")
        if not owners:
            return
        with self._store.transaction() as conn:
            for row in owners:
                token = scope_token(row["account_id"], row["owner_space"])
                self._store.run(conn, "set_scope", scope=token, **row)

    def records_of(self, account_id: str, uri: str) -> list[StoredRecord]:
        found = self._store.fetch_all("records_of_uri", account_id=account_id, uri=uri)
        return [
            StoredRecord(
                r["level"], r["text"], r["node_version"], r["status"], from_blob(r["vector"])
            )
            for r in found
        ]

    def records_of_many(
        self, account_id: str, uris: Sequence[str]
    ) -> dict[str, list[StoredRecord]]:
        found = self._store.fetch_all(
            "records_of_uris", account_id=account_id, uris=json.dumps(list(uris))
        )
        by_uri: dict[str, list[StoredRecord]] = {}
        for r in found:
            record = StoredRecord(
                r["level"], r["text"], r["node_version"], r["status"], from_blob(r["vector"])
            )
            by_uri.setdefault(r["uri"], []).append(record)
        return by_uri

    def replace_records(
        self,
        account_id: str,
        uri: str,
        records: Sequence[IndexRecord],
        vectors: Sequence[npt.NDArray[np.float32]],
        model_id: str,
    ) -> None:
        """Make the URI's records exactly ``records`` (idempotent, keyed by (uri, level))."""
        self.replace_many(account_id, [(uri, records, vectors)], model_id)

    def replace_many(
        self,
        account_id: str,
        items: Sequence[tuple[str, Sequence[IndexRecord], Sequence[npt.NDArray[np.float32]]]],
        model_id: str,
    ) -> None:
        """replace_records for many URIs, in one transaction (a few statements, not per URI)."""
        with self._store.transaction() as conn:
            seq = self._tick(conn, account_id)
            upserts = [
                _record_params(record, vector, model_id, seq)
                for _, records, vectors in items
                for record, vector in zip(records, vectors, strict=True)
            ]
            self._store.run_many(conn, "upsert_record", upserts)
            kept = {(record.uri, record.level) for _, records, _ in items for record in records}
            stored = self._store.run(
                conn, "record_levels_of_uris", account_id=account_id,
                uris=json.dumps([uri for uri, _, _ in items]),
            ).fetchall()  # fmt: skip
            dropped = sorted({(r["uri"], r["level"]) for r in stored} - kept)
            self._delete_levels(conn, account_id, dropped, seq)

    def remove(self, account_id: str, uri: str) -> None:
        with self._store.transaction() as conn:
            seq = self._tick(conn, account_id)
            self._delete_levels(conn, account_id, [(uri, level) for level in (0, 1, 2)], seq)

    def _tick(self, conn: sqlite3.Connection, account_id: str) -> int:
        return int(
            self._store.run(conn, "tick_index_clock", account_id=account_id).fetchone()["seq"]
        )

    def _delete_levels(
        self, conn: sqlite3.Connection, account_id: str, levels: list[tuple[str, int]], seq: int
    ) -> None:
        """Delete the (uri, level) records, leaving a tombstone for each one that existed."""
        params = [
            {"account_id": account_id, "uri": uri, "level": level, "seq": seq}
            for uri, level in levels
        ]
        self._store.run_many(conn, "insert_tombstone", params)
        self._store.run_many(conn, "delete_record", params)

    def clock(self, account_id: str) -> int:
        row = self._store.fetch_one("index_clock", account_id=account_id)
        return 0 if row is None else int(row["seq"])

    def changes_since(
        self, account_id: str, seq: int
    ) -> tuple[int, list[dict[str, Any]], list[tuple[str, int]]]:
        """(clock, records written after ``seq``, (uri, level) removed after ``seq``)."""
        with self._store.transaction() as conn:  # one snapshot for the three reads
            clock_row = self._store.run(conn, "index_clock", account_id=account_id).fetchone()
            upserts = self._store.run(
                conn, "records_since", account_id=account_id, seq=seq
            ).fetchall()
            removed = self._store.run(
                conn, "tombstones_since", account_id=account_id, seq=seq
            ).fetchall()
        clock = 0 if clock_row is None else int(clock_row["seq"])
        return clock, upserts, [(r["uri"], r["level"]) for r in removed]

    def keyword_search(
        self, account_id: str, query: str, search_filter: SearchFilter, limit: int
    ) -> list[RecordHit]:
        words = fts_match(query)
        if words is None:
            return []
        match = scoped_match(words, account_id, search_filter.owner_spaces)
        depth = limit * PREFILTER_DEPTH
        ranked = self._store.fetch_all(
            "keyword_search", account_id=account_id, match=match, depth=depth
        )
        passes = _row_filter(search_filter)
        found = [row for row in ranked if passes(row)][:limit]
        if len(found) < limit and len(ranked) == depth:
            # a narrow filter (a category, archived only) left too few: the exact query
            params = {"account_id": account_id, "match": match, "limit": limit}
            found = self._store.fetch_all(
                "keyword_search_filtered", **params, **filter_params(search_filter)
            )
        # bm25() is lower-is-better; negate so every retriever ranks higher-is-better
        return [RecordHit(r["uri"], r["level"], -float(r["bm25"])) for r in found]

    def lagging_nodes(self, account_id: str) -> list[tuple[str, int]]:
        found = self._store.fetch_all("lagging_nodes", account_id=account_id)
        return [(r["uri"], int(r["version"])) for r in found]

    def orphan_uris(self, account_id: str) -> list[str]:
        return [
            r["uri"] for r in self._store.fetch_all("orphan_record_uris", account_id=account_id)
        ]

    def record_recall(self, account_id: str, query: str, hits: Sequence[tuple[str, float]]) -> None:
        if not hits:
            return
        digest, now = query_hash(query), rows.dump_time(utcnow())
        params = [
            {"account_id": account_id, "uri": uri, "query_hash": digest, "rank": rank,
             "score": score, "recalled_at": now}
            for rank, (uri, score) in enumerate(hits, start=1)
        ]  # fmt: skip
        with self._store.transaction() as conn:
            self._store.run_many(conn, "insert_recall_signal", params)

    def recall_signals(self, account_id: str, uri: str) -> list[dict[str, Any]]:
        return self._store.fetch_all("recall_signals_of_uri", account_id=account_id, uri=uri)


def _row_filter(search_filter: SearchFilter) -> Callable[[dict[str, Any]], bool]:
    allowed = [
        (column, {str(v) for v in values})
        for column, values in (
            ("owner_space", search_filter.owner_spaces),
            ("category", search_filter.categories),
            ("context_type", search_filter.context_types),
            ("status", search_filter.statuses),
        )
        if values is not None
    ]
    return lambda row: all(row[column] in values for column, values in allowed)


def _record_params(
    record: IndexRecord, vector: npt.NDArray[np.float32], model_id: str, seq: int
) -> dict[str, Any]:
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
        "vector": to_blob(vector),
        "model_id": model_id,
        "seq": seq,
        "scope": scope_token(record.account_id, record.owner_space),
    }
