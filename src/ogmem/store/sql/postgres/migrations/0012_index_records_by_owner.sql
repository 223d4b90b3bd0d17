-- One owner's records without the rest of the account: the in-process vector cache loads an
-- owner at a time, and pgvector's search scores a small owner's records exactly (an HNSW walk
-- over the whole table filters after it, and finds almost nothing of an owner holding 0.1 %
-- of the rows; see PgVectorIndex). Keyword search of one owner can start from it too.
CREATE INDEX index_records_by_owner ON index_records (account_id, owner_space);
