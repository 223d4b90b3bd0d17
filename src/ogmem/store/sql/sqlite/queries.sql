-- Named queries for the SQLite store. Each block starts with "-- name: <query_name>".
-- Parameters are named (:account_id); every query filters on account_id.

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
    CASE WHEN instr(rest, '/') > 0 THEN substr(rest, 1, instr(rest, '/') - 1) ELSE rest END
        AS name,
    instr(rest, '/') > 0 AS is_dir
FROM (
    SELECT substr(uri, :prefix_length + 1) AS rest FROM context_nodes
    WHERE account_id = :account_id AND uri > :lower AND uri < :upper
)
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
WHERE account_id = :account_id AND fingerprint IN (SELECT value FROM json_each(:fingerprints));

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
    AND instr(substr(uri, :prefix_length + 1), '/') = 0
ORDER BY uri;

-- name: count_active_children
-- A directory summary needs how many memories sit in the directory and a bounded sample of
-- them, never every row: a directory of raw memories can hold a whole history. Both reads
-- go through the index of active memories by parent (its expression and condition, as
-- written in the migration that made it).
SELECT count(*) AS n FROM context_nodes
WHERE account_id = :account_id AND rtrim(uri, replace(uri, '/', '')) = :lower
    AND status = 'ACTIVE' AND context_type != 'DIRECTORY';

-- name: recent_active_children
SELECT * FROM context_nodes
WHERE account_id = :account_id AND rtrim(uri, replace(uri, '/', '')) = :lower
    AND status = 'ACTIVE' AND context_type != 'DIRECTORY'
ORDER BY updated_at DESC, uri DESC LIMIT :limit;

-- ---- outbox worker -------------------------------------------------------------------------

-- name: claim_events
-- The worker serves every account: the claim is the one query that spans accounts; all
-- processing that follows filters on the event's account_id. Taking over an event whose lease
-- another worker let expire counts that unfinished claim as an attempt (a worker killed by the
-- event every time must not retry it forever) and says so in last_error. A live worker taking
-- back its own (it could not finish them: the store refused the write) counts nothing.
UPDATE outbox_events
SET status = 'PROCESSING', locked_until = :locked_until, claimed_by = :worker,
    attempts = attempts + (status = 'PROCESSING' AND claimed_by IS NOT :worker),
    last_error = CASE WHEN status = 'PROCESSING' AND claimed_by IS NOT :worker
        THEN 'the lease of worker ' || coalesce(claimed_by, '?') || ' ended before it finished'
        ELSE last_error END
WHERE id IN (
    SELECT id FROM outbox_events
    WHERE (status = 'PENDING' AND (available_at <= :now OR (:eager AND attempts = 0)))
       OR (status = 'PROCESSING' AND locked_until < :now)
    ORDER BY id
    LIMIT :limit
)
RETURNING *;

-- name: renew_leases
-- A worker's heartbeat: its claims stay its own while it works on them (cross-account, like
-- the claim itself).
UPDATE outbox_events SET locked_until = :locked_until
WHERE claimed_by = :worker AND status = 'PROCESSING';

-- name: finish_events
UPDATE outbox_events SET status = 'DONE', locked_until = NULL, last_error = :note
WHERE account_id = :account_id AND id IN (SELECT value FROM json_each(:ids));

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
-- Housekeeping over every account: finished events past the retention (never DLQ or pending).
DELETE FROM outbox_events WHERE id IN (
    SELECT id FROM outbox_events WHERE status = 'DONE' AND created_at < :before
    ORDER BY id LIMIT :limit
);

-- name: oldest_pending_event
SELECT min(created_at) AS oldest FROM outbox_events
WHERE account_id = :account_id AND status = 'PENDING';

-- name: account_ids
-- Maintenance (repair, reindex) walks every account; each step then filters on one.
SELECT account_id FROM context_nodes WHERE account_id > :after_account_id
GROUP BY account_id ORDER BY account_id;

-- ---- search index --------------------------------------------------------------------------

-- name: tick_index_clock
INSERT INTO index_clock (account_id, seq) VALUES (:account_id, 1)
ON CONFLICT (account_id) DO UPDATE SET seq = seq + 1
RETURNING seq;

-- name: index_clock
SELECT seq FROM index_clock WHERE account_id = :account_id;

-- name: upsert_record
INSERT INTO index_records (account_id, uri, level, owner_space, category, context_type, status,
    node_version, text, terms, vector, model_id, seq, scope)
VALUES (:account_id, :uri, :level, :owner_space, :category, :context_type, :status,
    :node_version, :text, :terms, :vector, :model_id, :seq, :scope)
ON CONFLICT (account_id, uri, level) DO UPDATE SET
    owner_space = excluded.owner_space, category = excluded.category, scope = excluded.scope,
    context_type = excluded.context_type, status = excluded.status,
    node_version = excluded.node_version, text = excluded.text, terms = excluded.terms,
    vector = excluded.vector,
    model_id = excluded.model_id, seq = excluded.seq;

-- name: delete_record
DELETE FROM index_records WHERE account_id = :account_id AND uri = :uri AND level = :level;

-- name: insert_tombstone
-- Only for a record that exists (run just before delete_record): readers drop what it names.
INSERT INTO index_tombstones (account_id, uri, level, seq)
SELECT account_id, uri, level, :seq FROM index_records
WHERE account_id = :account_id AND uri = :uri AND level = :level;

-- name: records_since
SELECT uri, level, owner_space, category, context_type, status, vector, model_id
FROM index_records WHERE account_id = :account_id AND seq > :seq;

-- name: owner_records
-- One owner's records, as the vector cache loads them (index_records_by_owner).
SELECT uri, level, owner_space, category, context_type, status, vector, model_id
FROM index_records WHERE account_id = :account_id AND owner_space = :owner_space;

-- name: owner_spaces_of_account
SELECT DISTINCT owner_space FROM index_records WHERE account_id = :account_id
ORDER BY owner_space;

-- name: tombstones_since
SELECT uri, level FROM index_tombstones WHERE account_id = :account_id AND seq > :seq;

-- name: keyword_search
-- :match is the FTS5 query; its best :depth matches are ranked, then only those the filter
-- lets through are returned, at most :limit of them. A large reader's match holds its words
-- alone (sqlite_index.py), so the filter does the scoping here; a small reader's match applies
-- every filter already. The first row says how many matches were ranked, and is the only row
-- (uri NULL) when none passed: fewer than :limit passing out of :depth ranked tells the caller
-- the filter was narrow, and it looks deeper or falls back to keyword_search_filtered; fewer
-- than :depth ranked, that there is nothing more to find. The filtering stays in SQL: a large
-- reader ranks several hundred matches to return a hundred. MATERIALIZED: the count must not
-- run the match again.
-- bm25() is called, not the table's configured rank: ORDER BY rank sorts every match in FTS5
-- itself, while ORDER BY bm25() LIMIT keeps SQLite's top-N sorter (3.7 against 8.4 ms for the
-- same 500 of ~2,000 matches, LoCoMo dev). The weights are the rank's (the scope column: 0).
WITH f AS MATERIALIZED (
    SELECT rowid, bm25(index_fts, 1.0, 0.0, 1.0) AS bm25 FROM index_fts
    WHERE index_fts MATCH :match ORDER BY bm25 LIMIT :depth
), passing AS (
    SELECT r.uri, r.level, f.bm25
    FROM f JOIN index_records AS r ON r.id = f.rowid
    WHERE r.account_id = :account_id
        AND (:owner_spaces IS NULL OR r.owner_space IN (SELECT value FROM json_each(:owner_spaces)))
        AND (:categories IS NULL OR r.category IN (SELECT value FROM json_each(:categories)))
        AND (:context_types IS NULL
             OR r.context_type IN (SELECT value FROM json_each(:context_types)))
        AND (:statuses IS NULL OR r.status IN (SELECT value FROM json_each(:statuses)))
    ORDER BY f.bm25
    LIMIT :limit
)
SELECT (SELECT count(*) FROM f) AS ranked, passing.uri, passing.level, passing.bm25
FROM (SELECT 1) LEFT JOIN passing
ORDER BY passing.bm25;

-- name: index_size
-- The highest record id: the index's size as far as a cost decision needs (ids only grow).
SELECT max(id) AS n FROM index_records;

-- name: keyword_scope_reaches
-- Whether the scope clause matches more than :offset records (read no further than that).
SELECT rowid FROM index_fts WHERE index_fts MATCH :match LIMIT 1 OFFSET :offset;

-- name: keyword_search_filtered
SELECT r.uri, r.level, bm25(index_fts, 1.0, 0.0, 1.0) AS bm25
FROM index_fts JOIN index_records AS r ON r.id = index_fts.rowid
WHERE index_fts MATCH :match AND r.account_id = :account_id
    AND (:owner_spaces IS NULL OR r.owner_space IN (SELECT value FROM json_each(:owner_spaces)))
    AND (:categories IS NULL OR r.category IN (SELECT value FROM json_each(:categories)))
    AND (:context_types IS NULL OR r.context_type IN (SELECT value FROM json_each(:context_types)))
    AND (:statuses IS NULL OR r.status IN (SELECT value FROM json_each(:statuses)))
ORDER BY bm25
LIMIT :limit;

-- name: unscoped_owners
SELECT DISTINCT account_id, owner_space FROM index_records WHERE scope = ''
    AND account_id > :after_account_id;

-- name: set_scope
-- the (account, owner) token, then the filter tokens as sql_index.scope_text writes them
UPDATE index_records SET scope = :scope || ' k' || hex(context_type) || ' x' || hex(status)
    || ' c' || hex(category) || ' ' || :scope || 'k' || hex(context_type) || ' ' || :scope
    || 'x' || hex(status) || ' ' || :scope || 'c' || hex(category)
WHERE account_id = :account_id AND owner_space = :owner_space AND scope = '';

-- name: lagging_nodes
SELECT n.uri, n.version FROM context_nodes AS n
WHERE n.account_id = :account_id
    AND (SELECT min(r.node_version) FROM index_records AS r
         WHERE r.account_id = n.account_id AND r.uri = n.uri) IS NOT n.version;

-- name: orphan_record_uris
SELECT DISTINCT r.uri FROM index_records AS r
WHERE r.account_id = :account_id
    AND NOT EXISTS (SELECT 1 FROM context_nodes AS n
                    WHERE n.account_id = r.account_id AND n.uri = r.uri);

-- name: insert_recall_signals
-- A batch of the account's recall signals, given as a JSON array of rows.
INSERT INTO recall_signals (account_id, uri, query_hash, rank, score, recalled_at)
SELECT :account_id, s.value ->> 'uri', s.value ->> 'query_hash', s.value ->> 'rank',
    s.value ->> 'score', s.value ->> 'recalled_at'
FROM json_each(:signals) AS s ORDER BY s.key;

-- name: recall_signals_of_uri
SELECT uri, query_hash, rank, score, recalled_at FROM recall_signals
WHERE account_id = :account_id AND uri = :uri ORDER BY id;


-- name: read_nodes
SELECT * FROM context_nodes
WHERE account_id = :account_id AND uri IN (SELECT value FROM json_each(:uris));

-- name: record_levels_of_uris
SELECT uri, level FROM index_records
WHERE account_id = :account_id AND uri IN (SELECT value FROM json_each(:uris));

-- name: records_of_uris
SELECT uri, level, text, node_version, status, vector FROM index_records
WHERE account_id = :account_id AND uri IN (SELECT value FROM json_each(:uris))
ORDER BY uri, level;

-- ---- sessions ------------------------------------------------------------------------------

-- name: read_session
SELECT * FROM sessions WHERE account_id = :account_id AND session_id = :session_id;

-- name: list_sessions
SELECT * FROM sessions WHERE account_id = :account_id
    AND (:user_id IS NULL OR user_id = :user_id)
ORDER BY updated_at DESC LIMIT :limit;

-- name: session_totals
SELECT status, count(*) AS sessions, sum(proposed) AS proposed, sum(written) AS written,
    sum(skipped) AS skipped, sum(failed) AS failed, sum(llm_tokens) AS llm_tokens
FROM sessions WHERE account_id = :account_id GROUP BY status;

-- name: insert_turn_message
-- A message of a turn through the session_turn view (migration 0019): the message if its id
-- is new, the session created for its user or counting it; nothing for another user's session.
INSERT INTO session_turn (account_id, session_id, user_id, agent_id, now, message_id, role,
    name, content, created_at, tokens)
VALUES (:account_id, :session_id, :user_id, :agent_id, :now, :message_id, :role, :name,
    :content, :created_at, :tokens);

-- name: uncommitted_messages
-- The next step of a commit: the oldest uncommitted messages after :after_id (the step in
-- hand, not yet recorded), as many as fit in :max_tokens (at least one) and :limit. The
-- running sum reads ids and token counts only, never the texts of the whole backlog.
SELECT m.* FROM session_messages AS m JOIN (
    SELECT id FROM (
        SELECT id, tokens, sum(tokens) OVER (ORDER BY id) AS running FROM session_messages
        WHERE account_id = :account_id AND session_id = :session_id AND committed = 0
            AND id > :after_id
    ) WHERE running - tokens < :max_tokens ORDER BY id LIMIT :limit
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
UPDATE session_messages SET committed = 1
WHERE account_id = :account_id AND session_id = :session_id AND committed = 0 AND id <= :up_to_id;

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
            AND m.session_id = :session_id AND m.committed = 0) THEN 'open' ELSE 'committed' END,
    uncommitted_tokens = (SELECT coalesce(sum(tokens), 0) FROM session_messages AS m
        WHERE m.account_id = :account_id AND m.session_id = :session_id AND m.committed = 0),
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
VALUES (:key_id, :account_id, :user_id, :admin, :name, :key_hash, :created_at, :agents);

-- name: find_api_key_by_hash
-- How a request's account is found: the key's hash is the only thing the caller brings.
SELECT * FROM api_keys WHERE key_hash = :key_hash AND revoked_at IS NULL;

-- name: schema_version
SELECT max(version) AS v FROM schema_migrations;

-- name: touch_api_key
UPDATE api_keys SET last_used_at = :now WHERE account_id = :account_id AND key_id = :key_id;

-- name: list_api_keys
-- Without an account (the operator's `ogmem keys list`), every account's keys.
SELECT * FROM api_keys WHERE (:account_id IS NULL OR account_id = :account_id)
ORDER BY account_id, created_at;

-- name: revoke_api_key
UPDATE api_keys SET revoked_at = :now
WHERE key_id = :key_id AND (:account_id IS NULL OR account_id = :account_id)
    AND revoked_at IS NULL;

-- name: count_active_api_keys
SELECT count(*) AS n FROM api_keys
WHERE (:account_id IS NULL OR account_id = :account_id) AND revoked_at IS NULL;

-- ---- store health --------------------------------------------------------------------------

-- name: store_probe_read
SELECT count(*) AS n FROM store_probe;

-- name: store_probe_write
-- A row of :size bytes: it needs free pages or room to grow, as a real write would.
INSERT INTO store_probe (probed_at, pad) VALUES (:now, zeroblob(:size));

-- name: store_probe_clear
DELETE FROM store_probe;

-- ---- bulk export and import (ogmem copy) -----------------------------------------------------
-- A copy walks each kind of row by its key, a page at a time, and writes what the other store
-- lacks; the imports store rows as they are and leave an existing key alone (the copy compares
-- before it writes, and reports a key holding a different row).

-- name: export_nodes
SELECT * FROM context_nodes WHERE account_id = :account_id AND uri > :after_uri
ORDER BY uri LIMIT :limit;

-- name: history_of_uris
SELECT * FROM context_node_versions
WHERE account_id = :account_id AND uri IN (SELECT value FROM json_each(:uris))
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
    vector, model_id
FROM index_records
WHERE account_id = :account_id AND uri IN (SELECT value FROM json_each(:uris))
ORDER BY uri, level;

-- name: session_account_ids
SELECT DISTINCT account_id FROM sessions WHERE account_id > :after_account_id
ORDER BY account_id;

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
    AND message_id IN (SELECT value FROM json_each(:message_ids));

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
SELECT substr(recalled_at, 1, 10) AS day, count(*) AS n FROM recall_signals
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
SELECT DISTINCT substr(rest, 1, instr(rest, '/') - 1) AS name
FROM (
    SELECT substr(uri, :prefix_length + 1) AS rest FROM context_nodes
    WHERE account_id = :account_id AND uri > :lower AND uri < :upper
)
WHERE instr(rest, '/') > 0
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
WHERE account_id = :account_id AND uri IN (SELECT value FROM json_each(:uris))
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
    AND (instr(uri, :text) > 0 OR instr(payload, :text) > 0
        OR instr(coalesce(last_error, ''), :text) > 0)
ORDER BY id;

-- name: erase_events
DELETE FROM outbox_events WHERE account_id = :account_id AND id = :id;

-- name: secure_delete
PRAGMA secure_delete;

-- name: secure_delete_on
-- Deleted content is overwritten with zeros (pages of this connection only; restored after).
PRAGMA secure_delete = ON;

-- name: secure_delete_off
PRAGMA secure_delete = OFF;

-- name: merge_full_text
-- Rewrites the full-text index into one segment: the terms of deleted rows stay in older
-- segments (behind delete markers) until such a merge.
INSERT INTO index_fts (index_fts) VALUES ('optimize');

-- ---- dream runs (ogmem.dream) -----------------------------------------------------------------

-- name: save_dream_run
-- A run is saved when it starts and again when it ends or a step of it is undone.
INSERT INTO dream_runs (account_id, run_id, user_id, trigger, status, started_at, finished_at,
    steps, error)
VALUES (:account_id, :run_id, :user_id, :trigger, :status, :started_at, :finished_at,
    :steps, :error)
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
