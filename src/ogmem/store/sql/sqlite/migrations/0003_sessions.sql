-- Sessions: the message buffer of each conversation and the state of its commits.

CREATE TABLE sessions (
    account_id          TEXT    NOT NULL,
    session_id          TEXT    NOT NULL,
    user_id             TEXT    NOT NULL,
    agent_id            TEXT,
    status              TEXT    NOT NULL DEFAULT 'open'
                        CHECK (status IN ('open', 'committing', 'committed', 'failed')),
    attempts            INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT,
    messages            INTEGER NOT NULL DEFAULT 0,
    uncommitted_tokens  INTEGER NOT NULL DEFAULT 0,
    proposed            INTEGER NOT NULL DEFAULT 0,
    written             INTEGER NOT NULL DEFAULT 0,
    skipped             INTEGER NOT NULL DEFAULT 0,
    failed              INTEGER NOT NULL DEFAULT 0,
    llm_tokens          INTEGER NOT NULL DEFAULT 0,
    last_reason         TEXT,
    created_at          TEXT    NOT NULL,
    updated_at          TEXT    NOT NULL,
    committed_at        TEXT,
    PRIMARY KEY (account_id, session_id)
) WITHOUT ROWID;

CREATE INDEX sessions_by_user ON sessions (account_id, user_id, updated_at);

CREATE TABLE session_messages (
    id          INTEGER PRIMARY KEY,
    account_id  TEXT    NOT NULL,
    session_id  TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    name        TEXT,
    content     TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    tokens      INTEGER NOT NULL,
    committed   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account_id, session_id, message_id)
);

CREATE INDEX session_messages_uncommitted ON session_messages (account_id, session_id, committed, id);
