-- Dream runs (ogmem.dream): what each run merged, archived or created, and why, so that a
-- step can be undone later. Row-level security as every table (0002).

CREATE TABLE dream_runs (
    account_id   text COLLATE "C" NOT NULL,
    run_id       text        NOT NULL,
    user_id      text        NOT NULL,
    trigger      text        NOT NULL,
    status       text        NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    steps        jsonb       NOT NULL DEFAULT '{}',
    error        text,
    PRIMARY KEY (account_id, run_id)
);

CREATE INDEX dream_runs_by_user ON dream_runs (account_id, user_id, started_at);

ALTER TABLE dream_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE dream_runs FORCE ROW LEVEL SECURITY;
CREATE POLICY account_rows ON dream_runs TO ogmem_app
    USING (account_id = current_setting('ogmem.account_id', true))
    WITH CHECK (account_id = current_setting('ogmem.account_id', true));
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_rows ON dream_runs TO %I USING (true) WITH CHECK (true)',
        current_user);
END
$$;
GRANT SELECT, INSERT, UPDATE, DELETE ON dream_runs TO ogmem_app;
