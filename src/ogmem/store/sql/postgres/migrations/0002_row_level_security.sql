-- Row-level security: the store's connections work as the role ogmem_app (SET ROLE on each
-- pooled connection), which owns nothing; every table lets it see and write only the rows of
-- the account that the transaction named (set_config('ogmem.account_id', ..., true), set by
-- the connector from each statement's account_id). A query that forgets its account filter
-- still reads one account; a connection that names none reads nothing.
--
-- The user of the URL (who runs the migrations) owns the tables and keeps a policy of its own
-- (FORCE makes the owner obey policies too): the few statements that span accounts on purpose
-- run as SECURITY DEFINER functions of the owner (below), each doing exactly one thing.
--
-- Creating the role needs CREATEROLE once per cluster; without it, a superuser creates the
-- role (CREATE ROLE ogmem_app NOLOGIN) and grants it to the user of the URL beforehand.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ogmem_app') THEN
        CREATE ROLE ogmem_app NOLOGIN;
    END IF;
    -- SET ROLE needs the SET option from PostgreSQL 16 on (a role created by a CREATEROLE
    -- user is granted to it with ADMIN only); before 16, membership is enough
    IF current_setting('server_version_num')::integer >= 160000 THEN
        IF NOT pg_has_role(current_user, 'ogmem_app', 'SET') THEN
            EXECUTE format('GRANT ogmem_app TO %I WITH SET TRUE', current_user);
        END IF;
    ELSIF NOT pg_has_role(current_user, 'ogmem_app', 'MEMBER') THEN
        EXECUTE format('GRANT ogmem_app TO %I', current_user);
    END IF;
END
$$;

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['context_nodes', 'context_node_versions', 'outbox_events',
        'applied_ops', 'index_records', 'index_clock', 'index_tombstones', 'recall_signals',
        'sessions', 'session_messages', 'api_keys']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format(
            'CREATE POLICY account_rows ON %I TO ogmem_app '
            'USING (account_id = current_setting(''ogmem.account_id'', true)) '
            'WITH CHECK (account_id = current_setting(''ogmem.account_id'', true))', t);
        EXECUTE format('CREATE POLICY owner_rows ON %I TO %I USING (true) WITH CHECK (true)',
            t, current_user);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO ogmem_app', t);
    END LOOP;
END
$$;

-- the migrations table holds no account data: only the owner reads it (ogmem_schema_version)
ALTER TABLE schema_migrations ENABLE ROW LEVEL SECURITY;
ALTER TABLE schema_migrations FORCE ROW LEVEL SECURITY;
DO $$
BEGIN
    EXECUTE format('CREATE POLICY owner_rows ON schema_migrations TO %I USING (true)',
        current_user);
END
$$;

-- ---- the statements that span accounts, as the owner ---------------------------------------
-- SECURITY DEFINER with a fixed search_path; EXECUTE for ogmem_app only.

-- The worker serves every account (see claim_events in queries.sql of the SQLite dialect):
-- due pending events and expired leases, oldest first, each taken by one worker
-- (SKIP LOCKED: concurrent workers never wait for each other nor take the same event).
CREATE FUNCTION ogmem_claim_events(p_worker text, p_limit integer, p_eager boolean,
    p_now timestamptz, p_locked_until timestamptz)
RETURNS SETOF outbox_events LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    WITH picked AS (
        SELECT id FROM outbox_events
        WHERE status IN ('PENDING', 'PROCESSING')
            AND ((status = 'PENDING' AND (available_at <= p_now OR (p_eager AND attempts = 0)))
              OR (status = 'PROCESSING' AND locked_until < p_now))
        ORDER BY id
        LIMIT p_limit
        FOR UPDATE SKIP LOCKED
    )
    UPDATE outbox_events AS e
    SET status = 'PROCESSING', locked_until = p_locked_until, claimed_by = p_worker,
        attempts = e.attempts
            + (e.status = 'PROCESSING' AND e.claimed_by IS DISTINCT FROM p_worker)::integer,
        last_error = CASE WHEN e.status = 'PROCESSING' AND e.claimed_by IS DISTINCT FROM p_worker
            THEN 'the lease of worker ' || coalesce(e.claimed_by, '?') || ' ended before it finished'
            ELSE e.last_error END
    FROM picked WHERE e.id = picked.id
    RETURNING e.*;
$$;

-- A worker's heartbeat over its own claims (which span accounts); one row per renewed lease.
CREATE FUNCTION ogmem_renew_leases(p_worker text, p_locked_until timestamptz)
RETURNS SETOF bigint LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    UPDATE outbox_events SET locked_until = p_locked_until
    WHERE claimed_by = p_worker AND status = 'PROCESSING'
    RETURNING id;
$$;

-- Housekeeping over every account: finished events past the retention; one row per deletion.
CREATE FUNCTION ogmem_purge_done_events(p_before timestamptz, p_limit integer)
RETURNS SETOF bigint LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    DELETE FROM outbox_events WHERE id IN (
        SELECT id FROM outbox_events WHERE status = 'DONE' AND created_at < p_before
        ORDER BY id LIMIT p_limit
    )
    RETURNING id;
$$;

-- Maintenance (repair, reindex, stats) walks every account; each step then filters on one.
CREATE FUNCTION ogmem_account_ids(p_after text)
RETURNS SETOF text LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT DISTINCT account_id FROM context_nodes WHERE account_id > p_after
    ORDER BY account_id;
$$;

-- How a request's account is found: the key's hash is all the caller brings.
CREATE FUNCTION ogmem_find_api_key(p_key_hash text)
RETURNS SETOF api_keys LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT * FROM api_keys WHERE key_hash = p_key_hash AND revoked_at IS NULL;
$$;

-- The operator's key commands name no account (NULL: every account's keys).
CREATE FUNCTION ogmem_list_api_keys(p_account text)
RETURNS SETOF api_keys LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT * FROM api_keys WHERE p_account IS NULL OR account_id = p_account
    ORDER BY account_id, created_at;
$$;

CREATE FUNCTION ogmem_revoke_api_key(p_key_id text, p_account text, p_now timestamptz)
RETURNS SETOF text LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    UPDATE api_keys SET revoked_at = p_now
    WHERE key_id = p_key_id AND (p_account IS NULL OR account_id = p_account)
        AND revoked_at IS NULL
    RETURNING key_id;
$$;

CREATE FUNCTION ogmem_count_active_api_keys(p_account text)
RETURNS bigint LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT count(*) FROM api_keys
    WHERE (p_account IS NULL OR account_id = p_account) AND revoked_at IS NULL;
$$;

CREATE FUNCTION ogmem_schema_version()
RETURNS integer LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$
    SELECT max(version) FROM schema_migrations;
$$;

-- The HNSW index of one vector dimension, built the first time a vector index of that
-- dimension opens (DDL needs the owner). It looks before it builds: CREATE INDEX locks the
-- table against writes even when the index exists. The advisory lock serialises two
-- processes opening the first index of a dimension at once.
CREATE FUNCTION ogmem_ensure_vector_index(p_dims integer)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    index_name text := 'index_records_hnsw_' || p_dims;
BEGIN
    IF p_dims IS NULL OR p_dims < 1 OR p_dims > 2000 THEN
        RAISE EXCEPTION 'pgvector indexes up to 2000 dimensions, not %', p_dims;
    END IF;
    IF to_regclass(index_name) IS NOT NULL THEN
        RETURN;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('ogmem_ensure_vector_index'));
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON index_records '
        'USING hnsw ((embedding::vector(%s)) vector_cosine_ops) WHERE dims = %s',
        index_name, p_dims, p_dims);
END
$$;

DO $$
DECLARE
    f text;
BEGIN
    FOREACH f IN ARRAY ARRAY[
        'ogmem_claim_events(text, integer, boolean, timestamptz, timestamptz)',
        'ogmem_renew_leases(text, timestamptz)',
        'ogmem_purge_done_events(timestamptz, integer)',
        'ogmem_account_ids(text)',
        'ogmem_find_api_key(text)',
        'ogmem_list_api_keys(text)',
        'ogmem_revoke_api_key(text, text, timestamptz)',
        'ogmem_count_active_api_keys(text)',
        'ogmem_schema_version()',
        'ogmem_ensure_vector_index(integer)']
    LOOP
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO ogmem_app', f);
    END LOOP;
END
$$;

-- ---- wake-ups ------------------------------------------------------------------------------
-- Every transaction that adds outbox events tells the listening workers once, at its commit
-- (NOTIFY is transactional; one per statement, and PostgreSQL folds identical ones).
CREATE FUNCTION ogmem_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ogmem_outbox', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events
    FOR EACH STATEMENT EXECUTE FUNCTION ogmem_notify_outbox();
