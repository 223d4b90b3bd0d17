-- Keyword search as a function of the owner. Row-level security lets the planner evaluate a
-- query's own conditions only after the policy's, unless their operators are LEAKPROOF; full
-- text's @@ is not (only a superuser could mark it), so as ogmem_app the GIN index was never
-- used: every keyword search read and matched all of the account's records (100k records:
-- ~600 ms on the bench machine instead of ~60 ms). The function runs as the owner, whose
-- policy is USING (true), and keeps the policy's promise itself: it reads only the account
-- that the caller's transaction is set to (ogmem.account_id), and nothing without one.
CREATE FUNCTION ogmem_keyword_search(
    p_account text, p_words text[], p_owner_spaces text[], p_categories text[],
    p_context_types text[], p_statuses text[], p_limit integer)
RETURNS TABLE (uri text, level integer, rank real)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT r.uri, r.level,
        ts_rank_cd(r.fts, websearch_to_tsquery('english', array_to_string(p_words, ' or ')))
    FROM index_records AS r
    WHERE r.account_id = p_account
        AND p_account = current_setting('ogmem.account_id', true)
        AND r.fts @@ websearch_to_tsquery('english', array_to_string(p_words, ' or '))
        AND (p_owner_spaces IS NULL OR r.owner_space = ANY(p_owner_spaces))
        AND (p_categories IS NULL OR r.category = ANY(p_categories))
        AND (p_context_types IS NULL OR r.context_type = ANY(p_context_types))
        AND (p_statuses IS NULL OR r.status = ANY(p_statuses))
    ORDER BY 3 DESC, r.id
    LIMIT p_limit;
$$;

REVOKE ALL ON FUNCTION ogmem_keyword_search(text, text[], text[], text[], text[], text[], integer)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    ogmem_keyword_search(text, text[], text[], text[], text[], text[], integer) TO ogmem_app;
