-- A denser HNSW graph: m 32 and ef_construction 128 instead of pgvector's 16 and 64, searched
-- with hnsw.ef_search 1000 (queries.sql; pgvector's most). On the bench's 100k clustered
-- vectors, recall@50 against exact search went from 0.66 to 0.96 (docs/decisions.md): the
-- points of one cluster are nearly equidistant from a query, and the sparse graph's walk
-- missed a third of them. The build takes ~3x as long. The body is 0002's with the WITH clause
-- added: applied migrations are never edited, and plpgsql has no way to change one line of a
-- function. Its settings (migration 0006) are restated: CREATE OR REPLACE resets them; its
-- grants are kept.
CREATE OR REPLACE FUNCTION ogmem_ensure_vector_index(p_dims integer)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
SET maintenance_work_mem = '1GB' SET max_parallel_maintenance_workers = 0 AS $$
DECLARE
    index_name text := 'index_records_hnsw_' || p_dims;
BEGIN
    IF p_dims IS NULL OR p_dims < 1 OR p_dims > 2000 THEN
        RAISE EXCEPTION 'pgvector indexes up to 2000 dimensions, not %', p_dims;
    END IF;
    IF to_regclass(index_name) IS NOT NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('ogmem_ensure_vector_index'));
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON index_records '
        'USING hnsw ((embedding::vector(%s)) vector_cosine_ops) '
        'WITH (m = 32, ef_construction = 128) WHERE dims = %s',
        index_name, p_dims, p_dims);
END
$$;

-- The graphs built before are dropped: the next vector index to open a dimension builds its
-- graph again, denser (on a large store, open once before traffic: the build blocks writes).
DO $$
DECLARE
    graph text;
BEGIN
    FOR graph IN
        SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
        WHERE c.relkind = 'i' AND c.relname LIKE 'index\_records\_hnsw\_%'
            AND n.nspname = current_schema()
    LOOP
        EXECUTE format('DROP INDEX %I', graph);
    END LOOP;
END
$$;
