-- Full text gets a "scope" column: one opaque token per (account, owner space), so that the
-- FTS5 match itself is restricted to what the request may read (an index intersection)
-- instead of ranking every tenant's matches and filtering after. Records written before
-- this migration get their token when the index adapter opens the store (see SqliteIndex).

ALTER TABLE index_records ADD COLUMN scope TEXT NOT NULL DEFAULT '';

DROP TRIGGER index_records_after_insert;
DROP TRIGGER index_records_after_delete;
DROP TRIGGER index_records_after_update;
DROP TABLE index_fts;

CREATE VIRTUAL TABLE index_fts USING fts5(
    text, scope, content = 'index_records', content_rowid = 'id', tokenize = 'porter unicode61'
);

CREATE TRIGGER index_records_after_insert AFTER INSERT ON index_records BEGIN
    INSERT INTO index_fts (rowid, text, scope) VALUES (new.id, new.text, new.scope);
END;

CREATE TRIGGER index_records_after_delete AFTER DELETE ON index_records BEGIN
    INSERT INTO index_fts (index_fts, rowid, text, scope)
    VALUES ('delete', old.id, old.text, old.scope);
END;

CREATE TRIGGER index_records_after_update AFTER UPDATE OF text, scope ON index_records BEGIN
    INSERT INTO index_fts (index_fts, rowid, text, scope)
    VALUES ('delete', old.id, old.text, old.scope);
    INSERT INTO index_fts (rowid, text, scope) VALUES (new.id, new.text, new.scope);
END;

INSERT INTO index_fts (index_fts) VALUES ('rebuild');
