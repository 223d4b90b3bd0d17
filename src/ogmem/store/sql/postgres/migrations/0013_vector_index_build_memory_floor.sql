-- The build memory of the vector index becomes a floor instead of a fixed value: 1 GB unless
-- the server, the database or the role already grants the build more (an operator's
-- ALTER DATABASE ... SET maintenance_work_mem = '4GB'). 1 GB holds the graph of ~400k records
-- of 384 dimensions; past that pgvector builds on disk at a crawl (~2,700 records a minute on
-- the 2-core bench machine at 1M records), and the fixed value of 0006 left the operator no
-- way to give a large store's build the memory it needs. The body is 0012's with the floor
-- added (applied migrations are never edited); the fixed setting is dropped from the function,
-- whose set_config then lasts to the end of the caller's transaction, which only ensures the
-- index. The single-process build (0006) stays.
ALTER FUNCTION ogmem_ensure_vector_index(integer) RESET maintenance_work_mem;

CREATE OR REPLACE FUNCTION ogmem_ensure_vector_index(p_dims integer)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT
SET max_parallel_maintenance_workers = 0 AS $$
DECLARE
    index_name text := 'index_records_hnsw_' || p_dims;
BEGIN
    IF p_dims IS NULL OR p_dims < 1 OR p_dims > 2000 THEN
        RAISE EXCEPTION 'pgvector indexes up to 2000 dimensions, not %', p_dims;
    END IF;
    IF to_regclass(index_name) IS NOT NULL THEN
        RETURN;
    END IF;
    IF pg_size_bytes(current_setting('maintenance_work_mem')) < pg_size_bytes('1GB') THEN
        PERFORM set_config('maintenance_work_mem', '1GB', true);
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('ogmem_ensure_vector_index'));
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON index_records '
        'USING hnsw ((embedding::vector(%s)) vector_cosine_ops) '
        'WITH (m = 32, ef_construction = 128) WHERE dims = %s',
        index_name, p_dims, p_dims);
END
$$;
