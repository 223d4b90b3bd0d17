-- Keyword search told whether the owners hold few records, instead of counting them itself.
-- The process already knows (store/postgres_index.py, OwnerSizes: counted once, remembered a
-- minute), and the count it repeated on every search was ~2 ms at 100k records, where the whole
-- keyword search takes ~10. p_few_owner_records: true, read the owners' records through
-- index_records_by_owner and match each (0011's first branch); false or NULL, AND the GIN
-- index's matches with the filters (0007's query). A search of the whole account
-- (p_owner_spaces NULL) always takes the GIN index.
--
-- The body is 0011's without its count (applied migrations are never edited, and plpgsql
-- cannot change one line of a function). A new signature beside 0011's, which stays for the
-- processes of the version before until they restart (a rolling upgrade), and does what it did.
CREATE FUNCTION ogmem_keyword_search(
    p_account text, p_words text[], p_owner_spaces text[], p_categories text[],
    p_context_types text[], p_statuses text[], p_limit integer, p_few_owner_records boolean)
RETURNS TABLE (uri text, level integer, rank real)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
#variable_conflict use_column
DECLARE
    query tsquery := websearch_to_tsquery('english', array_to_string(p_words, ' or '));
BEGIN
    IF p_account IS DISTINCT FROM current_setting('ogmem.account_id', true) THEN
        RETURN;  -- the row-level security promise: only the transaction's account
    END IF;
    IF p_owner_spaces IS NOT NULL AND p_few_owner_records THEN
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

REVOKE ALL ON FUNCTION
    ogmem_keyword_search(text, text[], text[], text[], text[], text[], integer, boolean)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    ogmem_keyword_search(text, text[], text[], text[], text[], text[], integer, boolean)
    TO ogmem_app;
