"""SqliteIndexStore: full-text search with FTS5 (BM25, the Porter stemmer), the rest shared.

Each record carries an opaque scope token per (account, owner space) in its own FTS column,
and a match ANDs the reader's tokens, so BM25 ranks only what the reader may see.
"""

from __future__ import annotations

from collections.abc import Sequence

from ogmem.core.models import SearchFilter
from ogmem.core.storage import RecordHit
from ogmem.store.sql_index import SqlIndexStore, filter_params, filter_token, scope_token
from ogmem.store.sqlite_db import SqliteDatabase

# FTS matches ranked per wanted hit: the match applies every filter (scope tokens), so the
# rows checked after it all pass unless a record was scoped before its filter tokens existed
PREFILTER_DEPTH = 1


def scoped_match(words: Sequence[str], account_id: str, search_filter: SearchFilter) -> str:
    """The FTS5 query: any of the words (each quoted, so no word acts as syntax), within the
    reader's scopes and the filter's types, statuses and categories (tokens of the scope
    column, see sql_index.scope_text)."""
    clauses = []
    # with owners named, their own filter tokens (short lists: BM25 counts each token's records)
    prefixes = [""]
    if search_filter.owner_spaces is not None:
        prefixes = [scope_token(account_id, owner) for owner in search_filter.owner_spaces]
        clauses.append(_any_of(prefixes or ["scopenone"]))
    for kind, values in (
        ("k", search_filter.context_types),
        ("x", search_filter.statuses),
        ("c", search_filter.categories),
    ):
        if values is not None:
            tokens = [p + filter_token(kind, str(v)) for p in prefixes for v in values]
            clauses.append(_any_of(tokens or ["nonone"]))
    text = "{text terms} : (" + " OR ".join(f'"{w}"' for w in words) + ")"
    return " AND ".join([*(f"scope : ({clause})" for clause in clauses), text])


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
        match = scoped_match(words, account_id, search_filter)
        depth = limit * PREFILTER_DEPTH
        filters = filter_params(search_filter)
        ranked = self._db.fetch_all(
            "keyword_search", account_id=account_id, match=match, depth=depth, **filters
        )
        found = [row for row in ranked if row["passes"]][:limit]
        if len(found) < limit and len(ranked) == depth:
            # a narrow filter (a category, archived only) left too few: the exact query
            found = self._db.fetch_all(
                "keyword_search_filtered", account_id=account_id, match=match, limit=limit,
                **filters,
            )  # fmt: skip
        # bm25() is lower-is-better; negate so every retriever ranks higher-is-better
        return [RecordHit(r["uri"], int(r["level"]), -float(r["bm25"])) for r in found]
