-- Full text also indexes a record's "terms": words computed above the store beside the text
-- (the two-character pieces of CJK text, which the text search parser cannot split; see
-- ogmem/retrieval/cjk.py). Existing records have none until they are indexed again.
ALTER TABLE index_records ADD COLUMN terms text NOT NULL DEFAULT '';
DROP INDEX index_records_fts;
ALTER TABLE index_records DROP COLUMN fts;
ALTER TABLE index_records ADD COLUMN fts tsvector
    GENERATED ALWAYS AS (to_tsvector('english', text || ' ' || terms)) STORED;
CREATE INDEX index_records_fts ON index_records USING gin (fts);
