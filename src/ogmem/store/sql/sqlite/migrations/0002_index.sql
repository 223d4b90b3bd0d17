-- The search index: one record per (node, level), its vector and its full text; the
-- recall signals every search leaves behind.

CREATE TABLE index_records (
    id           INTEGER PRIMARY KEY,
    account_id   TEXT    NOT NULL,
    uri          TEXT    NOT NULL,
    level        INTEGER NOT NULL CHECK (level IN (0, 1, 2)),
    owner_space  TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    context_type TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    node_version INTEGER NOT NULL,
    text         TEXT    NOT NULL,
    vector       BLOB    NOT NULL,  -- float32, little endian, L2-normalised
    model_id     TEXT    NOT NULL,
    seq          INTEGER NOT NULL,  -- the account's index clock when written (cache refresh)
    UNIQUE (account_id, uri, level)
);

CREATE INDEX index_records_by_seq ON index_records (account_id, seq);

-- Full text over the records' text; external content, kept in step by triggers.
CREATE VIRTUAL TABLE index_fts USING fts5(
    text, content = 'index_records', content_rowid = 'id', tokenize = 'porter unicode61'
);

CREATE TRIGGER index_records_after_insert AFTER INSERT ON index_records BEGIN
    INSERT INTO index_fts (rowid, text) VALUES (new.id, new.text);
END;

CREATE TRIGGER index_records_after_delete AFTER DELETE ON index_records BEGIN
    INSERT INTO index_fts (index_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;

CREATE TRIGGER index_records_after_update AFTER UPDATE OF text ON index_records BEGIN
    INSERT INTO index_fts (index_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO index_fts (rowid, text) VALUES (new.id, new.text);
END;

-- Per account, a counter bumped by every index change; removals leave a tombstone, so that an
-- in-memory vector cache (in this process or another) catches up with one cheap query.
CREATE TABLE index_clock (
    account_id TEXT    PRIMARY KEY,
    seq        INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE index_tombstones (
    account_id TEXT    NOT NULL,
    uri        TEXT    NOT NULL,
    level      INTEGER NOT NULL,
    seq        INTEGER NOT NULL
);

CREATE INDEX index_tombstones_by_seq ON index_tombstones (account_id, seq);

CREATE TABLE recall_signals (
    id          INTEGER PRIMARY KEY,
    account_id  TEXT    NOT NULL,
    uri         TEXT    NOT NULL,
    query_hash  TEXT    NOT NULL,
    rank        INTEGER NOT NULL,
    score       REAL    NOT NULL,
    recalled_at TEXT    NOT NULL
);

CREATE INDEX recall_signals_by_uri ON recall_signals (account_id, uri);

ALTER TABLE outbox_events ADD COLUMN claimed_by TEXT;
