-- One commit of a session at a time: a commit claims the session (who, until when) and
-- renews the claim as it goes; a second commit (a job, or commit?wait=true) waits for it.
ALTER TABLE sessions ADD COLUMN commit_owner TEXT;
ALTER TABLE sessions ADD COLUMN commit_until TEXT;
