-- API keys: a Bearer key maps to an account (and optionally to one user of it).
-- Only the SHA-256 of the key is stored; the plaintext is shown once, at creation.

CREATE TABLE api_keys (
    key_id        TEXT    NOT NULL PRIMARY KEY,
    account_id    TEXT    NOT NULL,
    user_id       TEXT,
    admin         INTEGER NOT NULL DEFAULT 0,
    name          TEXT    NOT NULL DEFAULT '',
    key_hash      TEXT    NOT NULL UNIQUE,
    created_at    TEXT    NOT NULL,
    revoked_at    TEXT,
    last_used_at  TEXT
);

CREATE INDEX api_keys_by_account ON api_keys (account_id, created_at);
