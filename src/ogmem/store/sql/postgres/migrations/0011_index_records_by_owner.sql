-- One owner's records without the rest of the account: the in-process vector cache loads an
-- owner at a time, and pgvector's search scores a small owner's records exactly (an HNSW walk
-- over the whole table filters after it, and finds almost nothing of an owner holding 0.1 %
-- of the rows; see PgVectorIndex). Keyword search of one owner can start from it too.
CREATE INDEX index_records_by_owner ON index_records (account_id, owner_space);

-- Keyword search of owners who hold few records reads those records through the index above
-- and matches each (~1 ms for 1,000 records), instead of AND-ing the GIN index's matches of
-- the words, which are the whole table's: a user of a crowded account searched ~3x slower
-- than alone at 20k records, and the gap grows with the table. OFFSET 0 keeps the planner
-- from merging the two scans again. Owners holding more than 20,000 records, and searches of
-- the whole account, keep the GIN index (as migration 0007 wrote it).
CREATE OR REPLACE FUNCTION ogmem_keyword_search(
    p_account text, p_words text[], p_owner_spaces text[], p_categories text[],
    p_context_types text[], p_statuses text[], p_limit integer)
RETURNS TABLE (uri text, level integer, rank real)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
#variable_conflict use_column
DECLARE
    query tsquery := websearch_to_tsquery('english', array_to_string(p_words, ' or '));
    owned bigint := NULL;
BEGIN
    IF p_account IS DISTINCT FROM current_setting('ogmem.account_id', true) THEN
        RETURN;  -- the row-level security promise: only the transaction's account
    END IF;
    IF p_owner_spaces IS NOT NULL THEN
        SELECT count(*) INTO owned FROM (
            SELECT 1 FROM index_records AS c
            WHERE c.account_id = p_account AND c.owner_space = ANY(p_owner_spaces)
            LIMIT 20001) AS few;
    END IF;
    IF owned IS NOT NULL AND owned <= 20000 THEN
        RETURN QUERY
        SELECT r.uri, r.level, ts_rank_cd(r.fts, query)
        FROM (SELECT * FROM index_records AS o
              WHERE o.account_id = p_account AND o.owner_space = ANY(p_owner_spaces)
              OFFSET 0) AS r
        WHERE r.fts @@ query
            AND (p_categories IS NULL OR r.category = ANY(p_categories))
            AND (p_context_types IS NULL OR r.context_type = ANY(p_context_types))
            AND (p_statuses IS NULL OR r.status = ANY(p_statuses))
        ORDER BY 3 DESC, r.id
        LIMIT p_limit;
        RETURN;
    END IF;
    RETURN QUERY
    SELECT r.uri, r.level, ts_rank_cd(r.fts, query)
    FROM index_records AS r
    WHERE r.account_id = p_account
        AND r.fts @@ query
        AND (p_owner_spaces IS NULL OR r.owner_space = ANY(p_owner_spaces))
        AND (p_categories IS NULL OR r.category = ANY(p_categories))
        AND (p_context_types IS NULL OR r.context_type = ANY(p_context_types))
        AND (p_statuses IS NULL OR r.status = ANY(p_statuses))
    ORDER BY 3 DESC, r.id
    LIMIT p_limit;
END
$$;
