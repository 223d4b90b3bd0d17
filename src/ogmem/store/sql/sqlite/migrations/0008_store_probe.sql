-- Readiness asks whether the store can still write after a write failed (disk full): a probe
-- writes and drops one row here. It holds no account's data.
CREATE TABLE store_probe (
    id        INTEGER PRIMARY KEY,
    probed_at TEXT    NOT NULL,
    pad       BLOB    NOT NULL
);
