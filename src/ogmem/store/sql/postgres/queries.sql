-- Named queries for the PostgreSQL store. Each block starts with "-- name: <query_name>".
-- Parameters are named (:account_id; the connector binds them); every query filters on
-- account_id, and row-level security filters again on the account that the connector sets
-- for each statement (see migrations/0002). The statements that span accounts on purpose call
-- SECURITY DEFINER functions of the table owner (same migration).

-- name: configure_connection
-- Run once on every pooled connection: work as the application role (which owns nothing and
-- obeys the policies), times in UTC, and an HNSW candidate list of 200 (twice the depth a
-- hybrid search asks for: pgvector filters after the graph walk) unless the operator set one
-- (ALTER DATABASE ... SET hnsw.ef_search, or the URL's options). 200 finds 0.999 of the exact
-- 50 nearest of 100k real MiniLM vectors in 12 ms, where 1,000 took 45 ms (docs/decisions.md,
-- "How wide the HNSW search looks"). Custom plans always: the
-- filters are written "(:x IS NULL OR col = ANY(:x))", which only a plan made for the values
-- can fold into an index condition, and the generic plan of a prepared statement (psycopg
-- prepares one after 5 runs) costed "account_id = $1" at the average account's size, which
-- 10,000 small accounts make tiny: a user of a crowded account was searched by scanning the
-- whole account (bench/scale_bench.py: 1 s at 100k records instead of ~0.1 s alone).
SET ROLE ogmem_app;
SET TIME ZONE 'UTC';
SELECT set_config('hnsw.ef_search', '200', false)
WHERE current_setting('hnsw.ef_search', true) IS NULL
    OR (SELECT source FROM pg_settings WHERE name = 'hnsw.ef_search') = 'default';
SET plan_cache_mode = force_custom_plan;

-- name: set_account
-- The account row-level security lets this transaction read and write (transaction-local:
-- it never outlives the transaction, nor reaches the next user of the pooled connection).
SELECT set_config('ogmem.account_id', :account_id, true);

-- name: listen_for_events
-- The wake-up channel: a trigger on outbox_events notifies it (migrations/0002).
LISTEN ogmem_outbox;

-- name: tables_with_unique_keys
-- The connector's look at the schema: an INSERT into one of these can hit a unique key that
-- the caller supplies (a generated id cannot collide), so inside a transaction it runs under
-- a savepoint (see postgres_db.may_conflict).
SELECT DISTINCT c.relname AS table_name
FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indrelid
WHERE i.indisunique AND c.relnamespace = current_schema()::regnamespace
    AND NOT EXISTS (SELECT 1 FROM pg_attribute AS a
                    WHERE a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
                        AND a.attidentity <> '');

-- name: read_node
SELECT * FROM context_nodes WHERE account_id = :account_id AND uri = :uri;

-- name: node_version
SELECT version FROM context_nodes WHERE account_id = :account_id AND uri = :uri;

-- name: insert_node
INSERT INTO context_nodes (account_id, uri, context_type, category, owner_space, abstract,
    overview, content, metadata, status, version, created_at, updated_at, valid_from, valid_to,
    expires_at)
VALUES (:account_id, :uri, :context_type, :category, :owner_space, :abstract, :overview,
    :content, :metadata, :status, :version, :created_at, :updated_at, :valid_from, :valid_to,
    :expires_at);

-- name: update_node
UPDATE context_nodes
SET context_type = :context_type, category = :category, owner_space = :owner_space,
    abstract = :abstract, overview = :overview, content = :content, metadata = :metadata,
    status = :status, version = :version, updated_at = :updated_at, valid_from = :valid_from,
    valid_to = :valid_to, expires_at = :expires_at
WHERE account_id = :account_id AND uri = :uri AND version = :expected_version;

-- name: delete_node
DELETE FROM context_nodes
WHERE account_id = :account_id AND uri = :uri AND version = :expected_version;

-- name: delete_versions
DELETE FROM context_node_versions WHERE account_id = :account_id AND uri = :uri;

-- name: move_node
UPDATE context_nodes SET uri = :dst
WHERE account_id = :account_id AND uri = :src AND version = :expected_version;

-- name: move_versions
UPDATE context_node_versions SET uri = :dst WHERE account_id = :account_id AND uri = :src;

-- name: insert_version
INSERT INTO context_node_versions (account_id, uri, version, action, context_type, category,
    owner_space, abstract, overview, content, metadata, status, created_at, written_at,
    valid_from, valid_to, expires_at)
SELECT account_id, uri, version, :action, context_type, category, owner_space, abstract,
    overview, content, metadata, status, created_at, updated_at, valid_from, valid_to, expires_at
FROM context_nodes WHERE account_id = :account_id AND uri = :uri;

-- name: insert_version_row
-- a version applied in memory and written in bulk (ContextWriter's chains of merges)
INSERT INTO context_node_versions (account_id, uri, version, action, context_type, category,
    owner_space, abstract, overview, content, metadata, status, created_at, written_at,
    valid_from, valid_to, expires_at)
VALUES (:account_id, :uri, :version, :action, :context_type, :category, :owner_space,
    :abstract, :overview, :content, :metadata, :status, :created_at, :written_at, :valid_from,
    :valid_to, :expires_at);

-- name: history
SELECT * FROM context_node_versions
WHERE account_id = :account_id AND uri = :uri ORDER BY version;

-- name: subtree
SELECT * FROM context_nodes
WHERE account_id = :account_id AND (uri = :uri OR (uri > :lower AND uri < :upper))
ORDER BY uri;

-- name: child_names
SELECT DISTINCT
    CASE WHEN strpos(rest, '/') > 0 THEN substr(rest, 1, strpos(rest, '/') - 1) ELSE rest END
        AS name,
    strpos(rest, '/') > 0 AS is_dir
FROM (
    SELECT substr(uri, :prefix_length + 1) AS rest FROM context_nodes
    WHERE account_id = :account_id AND uri > :lower AND uri < :upper
) AS below
ORDER BY name;

-- name: insert_event
INSERT INTO outbox_events (account_id, type, uri, payload, status, attempts, available_at,
    created_at)
VALUES (:account_id, :type, :uri, :payload, 'PENDING', 0, :available_at, :created_at);

-- name: insert_event_unless_pending
-- An event marked coalesce: an untried pending event of the same URI and type covers it.
INSERT INTO outbox_events (account_id, type, uri, payload, status, attempts, available_at,
    created_at)
SELECT :account_id, :type, :uri, :payload, 'PENDING', 0, :available_at, :created_at
WHERE NOT EXISTS (
    SELECT 1 FROM outbox_events
    WHERE account_id = :account_id AND uri = :uri AND type = :type AND status = 'PENDING'
        AND attempts = 0
);

-- name: list_events
SELECT * FROM outbox_events WHERE account_id = :account_id ORDER BY id LIMIT :limit;

-- name: list_events_by_status
SELECT * FROM outbox_events WHERE account_id = :account_id AND status = :status
ORDER BY id LIMIT :limit;

-- name: outbox_counts
SELECT status, count(*) AS n FROM outbox_events WHERE account_id = :account_id GROUP BY status;

-- name: find_applied
SELECT * FROM applied_ops WHERE account_id = :account_id AND fingerprint = :fingerprint;

-- name: applied_among
SELECT fingerprint FROM applied_ops
WHERE account_id = :account_id AND fingerprint = ANY(:fingerprints::text[]);

-- name: delete_applied_for_uri
DELETE FROM applied_ops WHERE account_id = :account_id AND uri = :uri;

-- name: move_applied
UPDATE applied_ops SET uri = :dst WHERE account_id = :account_id AND uri = :src;

-- name: insert_applied
INSERT INTO applied_ops (account_id, fingerprint, uri, action, version, applied_at)
VALUES (:account_id, :fingerprint, :uri, :action, :version, :applied_at);

-- name: direct_children
SELECT * FROM context_nodes
WHERE account_id = :account_id AND uri > :lower AND uri < :upper
    AND strpos(substr(uri, :prefix_length + 1), '/') = 0
ORDER BY uri;

-- name: count_active_children
-- A directory summary needs how many memories sit in the directory and a bounded sample of
-- them, never every row: a directory of raw memories can hold a whole history. (SQLite reads
-- both through an index by parent; here row-level security keeps the planner from taking an
-- expression index's order, see docs/decisions.md, so the directory's range is read.)
SELECT count(*) AS n FROM context_nodes
WHERE account_id = :account_id AND uri > :lower AND uri < :upper
    AND strpos(substr(uri, :prefix_length + 1), '/') = 0
    AND status = 'ACTIVE' AND context_type <> 'DIRECTORY';

-- name: recent_active_children
SELECT * FROM context_nodes
WHERE account_id = :account_id AND uri > :lower AND uri < :upper
    AND strpos(substr(uri, :prefix_length + 1), '/') = 0
    AND status = 'ACTIVE' AND context_type <> 'DIRECTORY'
ORDER BY updated_at DESC, uri DESC LIMIT :limit;

-- ---- outbox worker -------------------------------------------------------------------------

-- name: claim_events
-- Spans accounts (the worker serves them all): ogmem_claim_events, FOR UPDATE SKIP LOCKED.
SELECT * FROM ogmem_claim_events(:worker, :limit, :eager, :now, :locked_until);

-- name: renew_leases
SELECT * FROM ogmem_renew_leases(:worker, :locked_until);

-- name: finish_events
UPDATE outbox_events SET status = 'DONE', locked_until = NULL, last_error = :note
WHERE account_id = :account_id AND id = ANY(:ids::bigint[]);

-- name: defer_event
-- Not a failure: the event waits for something held elsewhere (a session's running commit).
UPDATE outbox_events
SET status = 'PENDING', available_at = :available_at, locked_until = NULL, last_error = :note
WHERE account_id = :account_id AND id = :id;

-- name: retry_event
UPDATE outbox_events
SET status = 'PENDING', attempts = attempts + 1, available_at = :available_at,
    locked_until = NULL, last_error = :error
WHERE account_id = :account_id AND id = :id;

-- name: dead_letter_event
UPDATE outbox_events
SET status = 'DLQ', attempts = :attempts, locked_until = NULL, last_error = :error
WHERE account_id = :account_id AND id = :id;

-- name: latest_pending_event_id
-- The watermark of a directory run: absorb only ever takes pending events, so only they count.
SELECT max(id) AS id FROM outbox_events
WHERE account_id = :account_id AND uri = :uri AND type = :type AND status = 'PENDING';

-- name: absorb_events
-- Pending events that a just-finished run already covered (written before its read).
UPDATE outbox_events SET status = 'DONE', locked_until = NULL, last_error = :note
WHERE account_id = :account_id AND uri = :uri AND type = :type AND status = 'PENDING'
    AND id <= :up_to_id;

-- name: purge_done_events
SELECT * FROM ogmem_purge_done_events(:before, :limit);

-- name: oldest_pending_event
SELECT min(created_at) AS oldest FROM outbox_events
WHERE account_id = :account_id AND status = 'PENDING';

-- name: account_ids
SELECT account_id FROM ogmem_account_ids(:after_account_id) AS account_id;

-- ---- search index --------------------------------------------------------------------------

-- name: tick_index_clock
-- The clock row stays locked until the transaction ends: the writers of one account's index
-- take turns, so clock values are handed out in commit order (a cache that read up to N
-- never misses a later commit with a smaller value).
INSERT INTO index_clock AS c (account_id, seq) VALUES (:account_id, 1)
ON CONFLICT (account_id) DO UPDATE SET seq = c.seq + 1
RETURNING seq;

-- name: index_clock
SELECT seq FROM index_clock WHERE account_id = :account_id;

-- name: upsert_record
INSERT INTO index_records (account_id, uri, level, owner_space, category, context_type, status,
    node_version, text, terms, embedding, dims, model_id, seq)
VALUES (:account_id, :uri, :level, :owner_space, :category, :context_type, :status,
    :node_version, :text, :terms, :vector, :dims, :model_id, :seq)
ON CONFLICT (account_id, uri, level) DO UPDATE SET
    owner_space = excluded.owner_space, category = excluded.category,
    context_type = excluded.context_type, status = excluded.status,
    node_version = excluded.node_version, text = excluded.text, terms = excluded.terms,
    embedding = excluded.embedding, dims = excluded.dims,
    model_id = excluded.model_id, seq = excluded.seq;

-- name: delete_record
DELETE FROM index_records WHERE account_id = :account_id AND uri = :uri AND level = :level;

-- name: insert_tombstone
-- Only for a record that exists (run just before delete_record): readers drop what it names.
INSERT INTO index_tombstones (account_id, uri, level, seq)
SELECT account_id, uri, level, :seq FROM index_records
WHERE account_id = :account_id AND uri = :uri AND level = :level;

-- name: records_since
SELECT uri, level, owner_space, category, context_type, status, embedding AS vector, model_id
FROM index_records WHERE account_id = :account_id AND seq > :seq;

-- name: owner_records
-- One owner's records, as the vector cache loads them (index_records_by_owner).
SELECT uri, level, owner_space, category, context_type, status, embedding AS vector, model_id
FROM index_records WHERE account_id = :account_id AND owner_space = :owner_space;

-- name: owner_spaces_of_account
SELECT DISTINCT owner_space FROM index_records WHERE account_id = :account_id
ORDER BY owner_space;

-- name: owner_records_count
-- How many records the owners hold, counted up to :most + 1 (index_records_by_owner): few
-- enough, and the searches read theirs instead of the whole table's indexes (OwnerSizes).
SELECT count(*) AS n FROM (
    SELECT 1 FROM index_records
    WHERE account_id = :account_id AND owner_space = ANY(:owner_spaces::text[])
    LIMIT :most + 1) AS owned;

-- name: tombstones_since
SELECT uri, level FROM index_tombstones WHERE account_id = :account_id AND seq > :seq;

-- name: keyword_search
-- Any of the words (websearch syntax cannot fail on any input), English stemming as the
-- generated tsvector; ranked by cover density. The filters are the SearchFilter's (NULL: no
-- restriction on that column). A function of the owner (migrations/0007): under row-level
-- security the GIN index could not serve @@, which is not LEAKPROOF. :few_owner_records:
-- whether the owners hold few records (OwnerSizes), which reads theirs instead (0014).
SELECT uri, level, rank FROM ogmem_keyword_search(:account_id, :words::text[],
    :owner_spaces::text[], :categories::text[], :context_types::text[], :statuses::text[],
    :limit, :few_owner_records);

-- name: vector_search
-- Nearest records by cosine over the HNSW index of this dimension ({dims}: an integer the
-- connector writes in, so the expression matches the partial index's). pgvector filters
-- after the graph walk: a narrow filter can leave fewer than :limit, and the caller then
-- runs vector_search_exact.
SELECT uri, level, 1 - (embedding::vector({dims}) <=> :query::vector({dims})) AS score
FROM index_records
WHERE dims = {dims} AND account_id = :account_id AND model_id = :model_id
    AND (:owner_spaces::text[] IS NULL OR owner_space = ANY(:owner_spaces::text[]))
    AND (:categories::text[] IS NULL OR category = ANY(:categories::text[]))
    AND (:context_types::text[] IS NULL OR context_type = ANY(:context_types::text[]))
    AND (:statuses::text[] IS NULL OR status = ANY(:statuses::text[]))
ORDER BY embedding::vector({dims}) <=> :query::vector({dims})
LIMIT :limit;

-- name: vector_search_exact
-- The same without the graph: every record of the account that passes the filter is scored.
SELECT uri, level, 1 - (embedding <=> :query::vector) AS score
FROM index_records
WHERE dims = :dims AND account_id = :account_id AND model_id = :model_id
    AND (:owner_spaces::text[] IS NULL OR owner_space = ANY(:owner_spaces::text[]))
    AND (:categories::text[] IS NULL OR category = ANY(:categories::text[]))
    AND (:context_types::text[] IS NULL OR context_type = ANY(:context_types::text[]))
    AND (:statuses::text[] IS NULL OR status = ANY(:statuses::text[]))
ORDER BY score DESC, id
LIMIT :limit;

-- name: vector_search_owners
-- The same, for owners who hold few records: their records, through index_records_by_owner.
-- The owner condition is plain (no "IS NULL OR"): psycopg prepares a statement run often, and
-- PostgreSQL's generic plan of the form above cannot use the index, so it scanned the whole
-- account (100k records: ~1 s).
SELECT uri, level, 1 - (embedding <=> :query::vector) AS score
FROM index_records
WHERE account_id = :account_id AND owner_space = ANY(:owner_spaces::text[])
    AND dims = :dims AND model_id = :model_id
    AND (:categories::text[] IS NULL OR category = ANY(:categories::text[]))
    AND (:context_types::text[] IS NULL OR context_type = ANY(:context_types::text[]))
    AND (:statuses::text[] IS NULL OR status = ANY(:statuses::text[]))
ORDER BY score DESC, id
LIMIT :limit;

-- name: ensure_vector_index
SELECT ogmem_ensure_vector_index(:dims);

-- name: lagging_nodes
SELECT n.uri, n.version FROM context_nodes AS n
WHERE n.account_id = :account_id
    AND (SELECT min(r.node_version) FROM index_records AS r
         WHERE r.account_id = n.account_id AND r.uri = n.uri) IS DISTINCT FROM n.version;

-- name: orphan_record_uris
SELECT DISTINCT r.uri FROM index_records AS r
WHERE r.account_id = :account_id
    AND NOT EXISTS (SELECT 1 FROM context_nodes AS n
                    WHERE n.account_id = r.account_id AND n.uri = r.uri);

-- name: insert_recall_signals
-- A batch of the account's recall signals, given as a JSON array of rows.
INSERT INTO recall_signals (account_id, uri, query_hash, rank, score, recalled_at)
SELECT :account_id, s.value ->> 'uri', s.value ->> 'query_hash',
    CAST(s.value ->> 'rank' AS integer), CAST(s.value ->> 'score' AS double precision),
    CAST(s.value ->> 'recalled_at' AS timestamptz)
FROM jsonb_array_elements(CAST(:signals AS jsonb)) WITH ORDINALITY AS s(value, position)
ORDER BY s.position;

-- name: recall_signals_of_uri
SELECT uri, query_hash, rank, score, recalled_at FROM recall_signals
WHERE account_id = :account_id AND uri = :uri ORDER BY id;

-- name: read_nodes
SELECT * FROM context_nodes WHERE account_id = :account_id AND uri = ANY(:uris::text[]);

-- name: record_levels_of_uris
SELECT uri, level FROM index_records
WHERE account_id = :account_id AND uri = ANY(:uris::text[]);

-- name: records_of_uris
SELECT uri, level, text, node_version, status, embedding AS vector FROM index_records
WHERE account_id = :account_id AND uri = ANY(:uris::text[])
ORDER BY uri, level;

-- ---- sessions ------------------------------------------------------------------------------

-- name: read_session
SELECT * FROM sessions WHERE account_id = :account_id AND session_id = :session_id;

-- name: list_sessions
SELECT * FROM sessions WHERE account_id = :account_id
    AND (:user_id::text IS NULL OR user_id = :user_id)
ORDER BY updated_at DESC LIMIT :limit;

-- name: session_totals
SELECT status, count(*) AS sessions, sum(proposed) AS proposed, sum(written) AS written,
    sum(skipped) AS skipped, sum(failed) AS failed, sum(llm_tokens) AS llm_tokens
FROM sessions WHERE account_id = :account_id GROUP BY status;

-- name: insert_message
-- A message of a turn, unless its id is in the session already or the session belongs to
-- another user (then the turn is refused: append_count returns no row, and the caller's
-- transaction is rolled back; the guard keeps the statement safe on its own as well).
INSERT INTO session_messages (account_id, session_id, message_id, role, name, content,
    created_at, tokens)
SELECT :account_id, :session_id, :message_id, :role, :name, :content, :created_at, :tokens
WHERE NOT EXISTS (SELECT 1 FROM sessions
                  WHERE account_id = :account_id AND session_id = :session_id
                      AND user_id <> :user_id)
ON CONFLICT (account_id, session_id, message_id) DO NOTHING;

-- name: append_count
-- The session after a turn, created for its user if new, counting what the turn added: one
-- statement per turn for the session row (every turn holds the store's write lock while its
-- statements run, and under load every turn queues for it: stress `load`). No row when the
-- session belongs to another user.
INSERT INTO sessions (account_id, session_id, user_id, agent_id, created_at, updated_at,
    messages, uncommitted_tokens)
VALUES (:account_id, :session_id, :user_id, :agent_id, :now, :now, :added, :tokens)
ON CONFLICT (account_id, session_id) DO UPDATE
SET messages = sessions.messages + excluded.messages,
    uncommitted_tokens = sessions.uncommitted_tokens + excluded.uncommitted_tokens,
    status = CASE WHEN sessions.status IN ('committed', 'failed') THEN 'open'
                  ELSE sessions.status END,
    updated_at = excluded.updated_at
WHERE sessions.user_id = excluded.user_id
RETURNING *;

-- name: uncommitted_messages
-- The next step of a commit: the oldest uncommitted messages after :after_id (the step in
-- hand, not yet recorded), as many as fit in :max_tokens (at least one) and :limit. The
-- running sum reads ids and token counts only, never the texts of the whole backlog.
SELECT m.* FROM session_messages AS m JOIN (
    SELECT id FROM (
        SELECT id, tokens, sum(tokens) OVER (ORDER BY id) AS running FROM session_messages
        WHERE account_id = :account_id AND session_id = :session_id AND NOT committed
            AND id > :after_id
    ) AS backlog WHERE running - tokens < :max_tokens ORDER BY id LIMIT :limit
) AS step ON step.id = m.id
WHERE m.account_id = :account_id
ORDER BY m.id;

-- name: message_before
SELECT * FROM session_messages
WHERE account_id = :account_id AND session_id = :session_id AND id < :before_id
ORDER BY id DESC LIMIT 1;

-- name: read_message
SELECT * FROM session_messages
WHERE account_id = :account_id AND session_id = :session_id AND message_id = :message_id;

-- name: message_after
SELECT * FROM session_messages
WHERE account_id = :account_id AND session_id = :session_id AND id > :after_id
ORDER BY id LIMIT 1;

-- name: redact_message
-- A forgotten memory's source message: its text replaced, its place in the session kept.
UPDATE session_messages SET content = :content
WHERE account_id = :account_id AND session_id = :session_id AND message_id = :message_id;

-- name: mark_committed
UPDATE session_messages SET committed = true
WHERE account_id = :account_id AND session_id = :session_id AND NOT committed
    AND id <= :up_to_id;

-- name: claim_session_commit
-- Take (or renew) the session's commit; refused while another live commit holds it.
UPDATE sessions
SET commit_owner = :owner, commit_until = :until, status = 'committing', updated_at = :now
WHERE account_id = :account_id AND session_id = :session_id
    AND (commit_owner IS NULL OR commit_owner = :owner OR commit_until < :now);

-- name: release_session_commit
UPDATE sessions SET commit_owner = NULL, commit_until = NULL
WHERE account_id = :account_id AND session_id = :session_id AND commit_owner = :owner;

-- name: set_session_status
UPDATE sessions SET status = :status, updated_at = :now
WHERE account_id = :account_id AND session_id = :session_id;

-- name: record_commit
-- One step of a commit: its counts are added; the last step (:final) also settles the status.
UPDATE sessions
SET status = CASE WHEN NOT :final THEN status WHEN EXISTS (
        SELECT 1 FROM session_messages AS m WHERE m.account_id = :account_id
            AND m.session_id = :session_id AND NOT m.committed) THEN 'open' ELSE 'committed' END,
    uncommitted_tokens = (SELECT coalesce(sum(tokens), 0) FROM session_messages AS m
        WHERE m.account_id = :account_id AND m.session_id = :session_id AND NOT m.committed),
    proposed = proposed + :proposed, written = written + :written, skipped = skipped + :skipped,
    failed = failed + :failed, llm_tokens = llm_tokens + :llm_tokens, last_reason = :reason,
    last_error = NULL, attempts = 0, committed_at = :now, updated_at = :now
WHERE account_id = :account_id AND session_id = :session_id;

-- name: record_failure
UPDATE sessions
SET status = 'failed', attempts = attempts + 1, last_error = :error,
    llm_tokens = llm_tokens + :llm_tokens, updated_at = :now
WHERE account_id = :account_id AND session_id = :session_id;

-- ---- api keys --------------------------------------------------------------------------------

-- name: insert_api_key
INSERT INTO api_keys (key_id, account_id, user_id, admin, name, key_hash, created_at, agents)
VALUES (:key_id, :account_id, :user_id, :admin, :name, :key_hash, :created_at,
    :agents::text[]);

-- name: find_api_key_by_hash
-- How a request's account is found: the key's hash is the only thing the caller brings.
SELECT * FROM ogmem_find_api_key(:key_hash);

-- name: schema_version
SELECT ogmem_schema_version() AS v;

-- name: touch_api_key
UPDATE api_keys SET last_used_at = :now WHERE account_id = :account_id AND key_id = :key_id;

-- name: list_api_keys
-- Without an account (the operator's `ogmem keys list`), every account's keys.
SELECT * FROM ogmem_list_api_keys(:account_id);

-- name: revoke_api_key
SELECT * FROM ogmem_revoke_api_key(:key_id, :account_id, :now);

-- name: count_active_api_keys
SELECT ogmem_count_active_api_keys(:account_id) AS n;

-- ---- store health --------------------------------------------------------------------------

-- name: store_probe_read
-- Readiness: the server answers and takes writes (not a standby in recovery, not read-only).
SELECT pg_is_in_recovery() AS standby, current_setting('transaction_read_only') = 'on' AS read_only;

-- ---- bulk export and import (ogmem copy) -----------------------------------------------------
-- A copy walks each kind of row by its key, a page at a time, and writes what the other store
-- lacks; the imports store rows as they are and leave an existing key alone (the copy compares
-- before it writes, and reports a key holding a different row).

-- name: export_nodes
SELECT * FROM context_nodes WHERE account_id = :account_id AND uri > :after_uri
ORDER BY uri LIMIT :limit;

-- name: history_of_uris
SELECT * FROM context_node_versions
WHERE account_id = :account_id AND uri = ANY(:uris::text[])
ORDER BY uri, version;

-- name: import_version
INSERT INTO context_node_versions (account_id, uri, version, action, context_type, category,
    owner_space, abstract, overview, content, metadata, status, created_at, written_at,
    valid_from, valid_to, expires_at)
VALUES (:account_id, :uri, :version, :action, :context_type, :category, :owner_space,
    :abstract, :overview, :content, :metadata, :status, :created_at, :written_at, :valid_from,
    :valid_to, :expires_at)
ON CONFLICT (account_id, uri, version) DO NOTHING;

-- name: export_applied
SELECT * FROM applied_ops WHERE account_id = :account_id AND fingerprint > :after
ORDER BY fingerprint LIMIT :limit;

-- name: export_events
-- What a store still has to do or to show: finished events stay behind.
SELECT * FROM outbox_events WHERE account_id = :account_id AND id > :after_id
    AND status <> 'DONE'
ORDER BY id LIMIT :limit;

-- name: event_exists
SELECT 1 AS found FROM outbox_events
WHERE account_id = :account_id AND type = :type AND uri = :uri AND created_at = :created_at
LIMIT 1;

-- name: import_event
-- An event has no key of its own: (type, uri, creation time) tells a copied one.
INSERT INTO outbox_events (account_id, type, uri, payload, status, attempts, available_at,
    last_error, created_at)
SELECT :account_id, :type, :uri, :payload, :status, :attempts, :available_at, :last_error,
    :created_at
WHERE NOT EXISTS (
    SELECT 1 FROM outbox_events WHERE account_id = :account_id AND type = :type AND uri = :uri
        AND created_at = :created_at
);

-- name: export_records
SELECT account_id, uri, level, owner_space, category, context_type, status, node_version,
    text, terms,
    embedding AS vector, model_id
FROM index_records
WHERE account_id = :account_id AND uri = ANY(:uris::text[])
ORDER BY uri, level;

-- name: session_account_ids
SELECT account_id FROM ogmem_session_account_ids(:after_account_id) AS account_id;

-- name: export_sessions
SELECT * FROM sessions WHERE account_id = :account_id AND session_id > :after
ORDER BY session_id LIMIT :limit;

-- name: import_session
INSERT INTO sessions (account_id, session_id, user_id, agent_id, status, attempts, last_error,
    messages, uncommitted_tokens, proposed, written, skipped, failed, llm_tokens, last_reason,
    created_at, updated_at, committed_at)
VALUES (:account_id, :session_id, :user_id, :agent_id, :status, :attempts, :last_error,
    :messages, :uncommitted_tokens, :proposed, :written, :skipped, :failed, :llm_tokens,
    :last_reason, :created_at, :updated_at, :committed_at)
ON CONFLICT (account_id, session_id) DO NOTHING;

-- name: export_messages
SELECT * FROM session_messages WHERE account_id = :account_id AND id > :after_id
ORDER BY id LIMIT :limit;

-- name: messages_by_id
SELECT * FROM session_messages
WHERE account_id = :account_id AND session_id = :session_id
    AND message_id = ANY(:message_ids::text[]);

-- name: import_message
INSERT INTO session_messages (account_id, session_id, message_id, role, name, content,
    created_at, tokens, committed)
VALUES (:account_id, :session_id, :message_id, :role, :name, :content, :created_at, :tokens,
    :committed)
ON CONFLICT (account_id, session_id, message_id) DO NOTHING;

-- name: import_api_key
INSERT INTO api_keys (key_id, account_id, user_id, admin, name, key_hash, created_at,
    revoked_at, last_used_at, agents)
VALUES (:key_id, :account_id, :user_id, :admin, :name, :key_hash, :created_at, :revoked_at,
    :last_used_at, :agents)
ON CONFLICT DO NOTHING;
-- name: requeue_dead_event
-- An operator's retry of a dead-lettered event: pending again, its attempts from zero.
UPDATE outbox_events
SET status = 'PENDING', attempts = 0, available_at = :available_at, locked_until = NULL
WHERE account_id = :account_id AND id = :id AND status = 'DLQ';

-- name: searches_per_day
-- A search that found anything left one signal of rank 1: counting those counts searches.
SELECT to_char(recalled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*) AS n
FROM recall_signals
WHERE account_id = :account_id AND rank = 1 AND recalled_at >= :since
GROUP BY day ORDER BY day;

-- name: subtree_counts
-- Memories (not directory summaries) at and below a URI, per category and status.
SELECT category, status, count(*) AS n FROM context_nodes
WHERE account_id = :account_id AND (uri = :uri OR (uri > :lower AND uri < :upper))
    AND context_type <> 'DIRECTORY'
GROUP BY category, status ORDER BY category, status;

-- name: subtree_page
-- The first nodes at and below a URI, by URI; an empty category or status does not filter.
SELECT * FROM context_nodes
WHERE account_id = :account_id AND (uri = :uri OR (uri > :lower AND uri < :upper))
    AND (CAST(:category AS text) = '' OR category = :category)
    AND (CAST(:status AS text) = '' OR status = :status)
ORDER BY uri LIMIT :limit;

-- name: child_directories
-- The directories directly below a URI (child_names without its leaves, which may be many).
SELECT DISTINCT substr(rest, 1, strpos(rest, '/') - 1) AS name
FROM (
    SELECT substr(uri, :prefix_length + 1) AS rest FROM context_nodes
    WHERE account_id = :account_id AND uri > :lower AND uri < :upper
) AS below
WHERE strpos(rest, '/') > 0
ORDER BY name;

-- ---- validity and expiry -------------------------------------------------------------------

-- name: expired_nodes
-- What the worker archives: active nodes whose expires_at has passed (the partial index
-- nodes_expiring keeps this a range scan over the few nodes that expire at all).
SELECT uri, version FROM context_nodes
WHERE account_id = :account_id AND status = 'ACTIVE' AND expires_at IS NOT NULL
    AND expires_at <= :now
ORDER BY expires_at LIMIT :limit;

-- name: last_recalls
-- Decay: when each URI was last returned first-ten by a search, and how often.
SELECT uri, max(recalled_at) AS last_recalled_at, count(*) AS n FROM recall_signals
WHERE account_id = :account_id AND uri = ANY(:uris::text[])
GROUP BY uri;

-- ---- erasing a user (ogmem.erase): the rows of URIs at and below the user's root ----------

-- name: erase_nodes
DELETE FROM context_nodes
WHERE account_id = :account_id AND (uri = :uri OR (uri > :lower AND uri < :upper));

-- name: erase_node_versions
DELETE FROM context_node_versions
WHERE account_id = :account_id AND (uri = :uri OR (uri > :lower AND uri < :upper));

-- name: erase_applied_ops
DELETE FROM applied_ops
WHERE account_id = :account_id AND (uri = :uri OR (uri > :lower AND uri < :upper));

-- name: erase_index_records
DELETE FROM index_records
WHERE account_id = :account_id AND (uri = :uri OR (uri > :lower AND uri < :upper));

-- name: erase_index_tombstones
DELETE FROM index_tombstones
WHERE account_id = :account_id AND (uri = :uri OR (uri > :lower AND uri < :upper));

-- name: erase_recall_signals
DELETE FROM recall_signals
WHERE account_id = :account_id AND (uri = :uri OR (uri > :lower AND uri < :upper));

-- name: insert_erased_tombstone
-- Names no record: the caches of the account reload it (core.storage_erase.ERASED_TOMBSTONE).
INSERT INTO index_tombstones (account_id, uri, level, seq) VALUES (:account_id, '', -1, :seq);

-- name: erase_session_messages
DELETE FROM session_messages
WHERE account_id = :account_id AND session_id IN (
    SELECT session_id FROM sessions WHERE account_id = :account_id AND user_id = :user_id
);

-- name: erase_sessions
DELETE FROM sessions WHERE account_id = :account_id AND user_id = :user_id;

-- name: erase_user_keys
DELETE FROM api_keys WHERE account_id = :account_id AND user_id = :user_id;

-- name: erase_dream_runs
DELETE FROM dream_runs WHERE account_id = :account_id AND user_id = :user_id;

-- name: events_containing
-- Any status, finished ones too: a payload or an error can quote what is erased.
SELECT * FROM outbox_events
WHERE account_id = :account_id
    AND (strpos(uri, :text) > 0 OR strpos(payload::text, :text) > 0
        OR strpos(coalesce(last_error, ''), :text) > 0)
ORDER BY id;

-- name: erase_events
DELETE FROM outbox_events WHERE account_id = :account_id AND id = :id;

-- ---- dream runs (ogmem.dream) -----------------------------------------------------------------

-- name: save_dream_run
-- A run is saved when it starts and again when it ends or a step of it is undone.
INSERT INTO dream_runs (account_id, run_id, user_id, trigger, status, started_at, finished_at,
    steps, error)
VALUES (:account_id, :run_id, :user_id, :trigger, :status, :started_at, :finished_at,
    :steps::jsonb, :error)
ON CONFLICT (account_id, run_id) DO UPDATE SET
    status = excluded.status, finished_at = excluded.finished_at, steps = excluded.steps,
    error = excluded.error;

-- name: find_dream_run
SELECT * FROM dream_runs WHERE account_id = :account_id AND run_id = :run_id;

-- name: list_dream_runs
-- An empty user id lists the runs of every user of the account.
SELECT * FROM dream_runs
WHERE account_id = :account_id AND (CAST(:user_id AS text) = '' OR user_id = :user_id)
ORDER BY started_at DESC, run_id DESC LIMIT :limit;

-- name: count_new_memories
-- Active memories (no directory summaries) below a URI created after a time, per category:
-- a dream is due once one category has enough.
SELECT category, count(*) AS n FROM context_nodes
WHERE account_id = :account_id AND uri > :lower AND uri < :upper
    AND context_type = 'MEMORY' AND status = 'ACTIVE' AND created_at > :since
GROUP BY category ORDER BY category;

-- name: dream_run_totals
SELECT status, count(*) AS n FROM dream_runs WHERE account_id = :account_id
GROUP BY status ORDER BY status;
