-- Building an HNSW index is fast only while its graph fits in maintenance_work_mem (64 MB by
-- default: ~25k records of 384 dimensions); past that pgvector builds on disk, many times
-- slower (100k records: over 8 minutes on the 2-core bench machine). The build that
-- ogmem_ensure_vector_index runs gets 1 GB (a ceiling, allocated as the graph grows: ~400k
-- records of 384 dimensions), in one process: a parallel build would reserve all of it at
-- once in shared memory, which a container's default /dev/shm (64 MB) refuses.
ALTER FUNCTION ogmem_ensure_vector_index(integer)
    SET maintenance_work_mem = '1GB';
ALTER FUNCTION ogmem_ensure_vector_index(integer)
    SET max_parallel_maintenance_workers = 0;
