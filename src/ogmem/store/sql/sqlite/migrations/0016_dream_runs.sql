-- Dream runs (ogmem.dream): what each run merged, archived or created, and why, so that a
-- step can be undone later. Steps are a JSON object {"steps": [...]}.

CREATE TABLE dream_runs (
    account_id   TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    trigger      TEXT NOT NULL,
    status       TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    finished_at  TEXT,
    steps        TEXT NOT NULL DEFAULT '{}',
    error        TEXT,
    PRIMARY KEY (account_id, run_id)
);

CREATE INDEX dream_runs_by_user ON dream_runs (account_id, user_id, started_at);
