-- The first schema: context nodes with their full history, the outbox, idempotency records.
-- Every table carries account_id and every key starts with it (tenancy, and sharding later).
-- Node and version rows carry whole texts, so they stay rowid tables (SQLite advises
-- WITHOUT ROWID only for small rows); the small applied_ops table is WITHOUT ROWID.
-- Indexes are few on purpose: each one is another page written by every commit. Owner and
-- category are URI prefixes (range scans on the primary key); outbox ids need no
-- AUTOINCREMENT (ordering only, and that table is written on every commit).

CREATE TABLE context_nodes (
    account_id   TEXT    NOT NULL,
    uri          TEXT    NOT NULL,
    context_type TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    owner_space  TEXT    NOT NULL,
    abstract     TEXT    NOT NULL DEFAULT '',
    overview     TEXT    NOT NULL DEFAULT '',
    content      TEXT    NOT NULL DEFAULT '',
    metadata     TEXT    NOT NULL DEFAULT '{}',
    status       TEXT    NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'ARCHIVED')),
    version      INTEGER NOT NULL CHECK (version >= 1),
    created_at   TEXT    NOT NULL,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (account_id, uri)
);

CREATE TABLE context_node_versions (
    account_id   TEXT    NOT NULL,
    uri          TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    action       TEXT    NOT NULL,
    context_type TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    owner_space  TEXT    NOT NULL,
    abstract     TEXT    NOT NULL,
    overview     TEXT    NOT NULL,
    content      TEXT    NOT NULL,
    metadata     TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    created_at   TEXT    NOT NULL,
    written_at   TEXT    NOT NULL,
    PRIMARY KEY (account_id, uri, version)
);

CREATE TABLE outbox_events (
    id           INTEGER PRIMARY KEY,
    account_id   TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    uri          TEXT    NOT NULL,
    payload      TEXT    NOT NULL DEFAULT '{}',
    status       TEXT    NOT NULL DEFAULT 'PENDING'
                 CHECK (status IN ('PENDING', 'PROCESSING', 'DONE', 'DLQ')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    available_at TEXT    NOT NULL,
    locked_until TEXT,
    last_error   TEXT,
    created_at   TEXT    NOT NULL
);

CREATE INDEX outbox_events_claim ON outbox_events (status, available_at);

CREATE TABLE applied_ops (
    account_id  TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    uri         TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    applied_at  TEXT    NOT NULL,
    PRIMARY KEY (account_id, fingerprint)
) WITHOUT ROWID;
