-- The vector cache loads one owner's records at a time (ogmem.index.vectors: an account of a
-- thousand users is a thousand small matrices, not one large one): a B-tree on (account,
-- owner) reads those records without scanning the rest of the account.
CREATE INDEX index_records_by_owner ON index_records (account_id, owner_space);

-- Each filter token again, prefixed with the owner's (sql_index.scope_text): a search of some
-- owners matches those, whose lists hold only the owners' records. FTS5's BM25 counts the
-- records holding each token of a query; with the plain filter tokens, which every record of
-- the database holds, a keyword search cost what the database held (15 ms of a 16 ms search
-- at 20k records, growing with it), whoever searched. One pass over every record (the FTS
-- triggers re-index each): about a minute per million records.
UPDATE index_records
SET scope = scope
    || ' ' || substr(scope, 1, instr(scope, ' ') - 1) || 'k' || hex(context_type)
    || ' ' || substr(scope, 1, instr(scope, ' ') - 1) || 'x' || hex(status)
    || ' ' || substr(scope, 1, instr(scope, ' ') - 1) || 'c' || hex(category)
WHERE scope != '' AND instr(scope, ' ') > 0;

-- BM25 weighs the scope column 0 (columns: text, scope, terms): its tokens filter, they are no
-- words. An owner's tokens are rare in a crowded store, so their inverse document frequency is
-- high and, weighted, they favoured the owner's shortest records over the best-matching ones.
-- keyword_search_filtered passes the same weights to bm25() itself.
INSERT INTO index_fts (index_fts, rank) VALUES ('rank', 'bm25(1.0, 0.0, 1.0)');
