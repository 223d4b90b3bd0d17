"""SqliteIndexStore: full-text search with FTS5 (BM25, the Porter stemmer), the rest shared.

Each record carries an opaque scope token per (account, owner space) in its own FTS column,
and a match ANDs the reader's tokens, so BM25 ranks only what the reader may see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ogmem.core.models import SearchFilter
from ogmem.core.storage import RecordHit
from ogmem.store.sql_index import SqlIndexStore, filter_params, filter_token, scope_token
from ogmem.store.sqlite_db import SqliteDatabase

# FTS matches ranked per wanted hit: the match applies every filter (scope tokens), so the
# rows checked after it all pass unless a record was scoped before its filter tokens existed
PREFILTER_DEPTH = 1
# A reader holding at least this share of the index is searched by its words alone, filtered
# in SQL: BM25 counts the records of every token in the match, and a scope token held by
# 100k records cost ~5 ms per token (bench/search_bench.py: 20 ms against 3.4 ms for the words
# alone); a reader with a small share keeps its scope tokens, so that its search costs what
# it holds, not what the crowd around it holds (issue 16).
LARGE_SHARE = 0.25
# matches ranked per wanted hit for a large reader, in turn: 2 fills the limit when the reader
# holds half the index or more (ranking 200 of 100k matches took 5.3 ms, 800 took 9.0 ms);
# 8 is twice 1 / LARGE_SHARE
LARGE_READER_DEPTHS = (2, 8)


def scoped_match(words: Sequence[str], clauses: Sequence[str]) -> str:
    """The FTS5 query: any of the words (each quoted, so no word acts as syntax), within the
    reader's scopes and the filter's types, statuses and categories (``scope_clauses``)."""
    return " AND ".join([*(f"scope : ({clause})" for clause in clauses), words_match(words)])


def words_match(words: Sequence[str]) -> str:
    return "{text terms} : (" + " OR ".join(f'"{w}"' for w in words) + ")"


def scope_clauses(account_id: str, search_filter: SearchFilter) -> list[str]:
    """The scope column's clauses, ANDed: the owners' own filter tokens (short lists: BM25
    counts each token's records); the owners' bare token only when no filter token (which
    carries it as its prefix) already says it."""
    clauses = []
    prefixes = [""]
    if search_filter.owner_spaces is not None:
        prefixes = [scope_token(account_id, owner) for owner in search_filter.owner_spaces]
    for kind, values in (
        ("k", search_filter.context_types),
        ("x", search_filter.statuses),
        ("c", search_filter.categories),
    ):
        if values is not None:
            tokens = [p + filter_token(kind, str(v)) for p in prefixes for v in values]
            clauses.append(_any_of(tokens or ["nonone"]))
    if search_filter.owner_spaces is not None and not clauses:
        clauses.append(_any_of(prefixes or ["scopenone"]))
    return clauses


def _any_of(tokens: Sequence[str]) -> str:
    return " OR ".join(f'"{token}"' for token in tokens)


class SqliteIndexStore(SqlIndexStore):
    def __init__(self, db: SqliteDatabase) -> None:
        super().__init__(db)
        self._scope_old_records()

    def _scope_old_records(self) -> None:
        """Records written before migration 0004 get their scope token (once)."""
        owners = self._db.fetch_all("unscoped_owners", after_account_id="")
        if not owners:
            return
        with self._db.transaction():
            for row in owners:
                token = scope_token(row["account_id"], row["owner_space"])
                self._db.execute("set_scope", scope=token, **row)

    def keyword_search(
        self, account_id: str, words: Sequence[str], search_filter: SearchFilter, limit: int
    ) -> list[RecordHit]:
        if not words:
            return []
        clauses = scope_clauses(account_id, search_filter)
        scoped = scoped_match(words, clauses)
        filters = filter_params(search_filter)
        found: list[dict[str, Any]] = []
        for match, depth in self._attempts(words, clauses, scoped, limit):
            rows = self._db.fetch_all(
                "keyword_search", account_id=account_id, match=match, depth=depth, limit=limit,
                **filters,
            )  # fmt: skip
            found = [row for row in rows if row["uri"] is not None]
            if len(found) == limit or rows[0]["ranked"] < depth:
                break  # full, or every match was ranked: a deeper look finds nothing more
        else:
            # a narrow filter (a category, archived only) left too few: the exact query
            found = self._db.fetch_all(
                "keyword_search_filtered", account_id=account_id, match=scoped, limit=limit,
                **filters,
            )  # fmt: skip
        # bm25() is lower-is-better; negate so every retriever ranks higher-is-better
        return [RecordHit(r["uri"], int(r["level"]), -float(r["bm25"])) for r in found]

    def _attempts(
        self, words: Sequence[str], clauses: Sequence[str], scoped: str, limit: int
    ) -> list[tuple[str, int]]:
        """The (match, depth) pairs to try in turn before the exact query. A small reader's
        match is scoped, and ranking limit matches of it is exact unless a record predates its
        filter tokens. A large reader's words alone are ranked twice as deep as wanted (enough
        when it holds half the index or more, the single-user store), then deeper for a reader
        holding a quarter or more."""
        if not self._large_reader(clauses):
            return [(scoped, limit * PREFILTER_DEPTH)]
        match = words_match(words)
        return [(match, limit * depth) for depth in LARGE_READER_DEPTHS]

    def _large_reader(self, clauses: Sequence[str]) -> bool:
        """Whether the reader's records (its first scope clause) hold LARGE_SHARE of the
        index or more: counted no further than that share (the index's highest record id
        stands for its size), so a small reader costs what it holds."""
        if not clauses:
            return True  # nothing to scope: the words alone
        row = self._db.fetch_one("index_size")
        size = int(row["n"] or 0) if row else 0
        enough = int(size * LARGE_SHARE)
        if enough < 1:
            return False
        probe = self._db.fetch_one(
            "keyword_scope_reaches", match=f"scope : ({clauses[0]})", offset=enough - 1
        )
        return probe is not None
