-- The index adapter looks for records without a scope token every time it opens the store
-- (records written before 0004); a partial index keeps that look-up from scanning the table.
CREATE INDEX index_records_unscoped ON index_records (account_id) WHERE scope = '';
