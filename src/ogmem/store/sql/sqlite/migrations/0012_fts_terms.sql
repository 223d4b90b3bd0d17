-- Full text also indexes a record's "terms": words computed above the store beside the text
-- (the two-character pieces of CJK text, which the unicode61 tokenizer cannot split; see
-- ogmem/retrieval/cjk.py). Existing records have none until they are indexed again, which
-- is what they would need anyway to gain them (`ogmem reindex`).

ALTER TABLE index_records ADD COLUMN terms TEXT NOT NULL DEFAULT '';

DROP TRIGGER index_records_after_insert;
DROP TRIGGER index_records_after_delete;
DROP TRIGGER index_records_after_update;
DROP TABLE index_fts;

CREATE VIRTUAL TABLE index_fts USING fts5(
    text, scope, terms, content = 'index_records', content_rowid = 'id',
    tokenize = 'porter unicode61'
);

CREATE TRIGGER index_records_after_insert AFTER INSERT ON index_records BEGIN
    INSERT INTO index_fts (rowid, text, scope, terms)
    VALUES (new.id, new.text, new.scope, new.terms);
END;

CREATE TRIGGER index_records_after_delete AFTER DELETE ON index_records BEGIN
    INSERT INTO index_fts (index_fts, rowid, text, scope, terms)
    VALUES ('delete', old.id, old.text, old.scope, old.terms);
END;

CREATE TRIGGER index_records_after_update AFTER UPDATE OF text, scope, terms ON index_records
BEGIN
    INSERT INTO index_fts (index_fts, rowid, text, scope, terms)
    VALUES ('delete', old.id, old.text, old.scope, old.terms);
    INSERT INTO index_fts (rowid, text, scope, terms)
    VALUES (new.id, new.text, new.scope, new.terms);
END;

INSERT INTO index_fts (index_fts) VALUES ('rebuild');
