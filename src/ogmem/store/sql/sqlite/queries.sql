-- Named queries for the SQLite store. Each block starts with "-- name: <query_name>".
-- Parameters are named (:account_id); every query filters on account_id.

-- name: read_node
SELECT * FROM context_nodes WHERE account_id = :account_id AND uri = :uri;

-- name: node_version
SELECT version FROM context_nodes WHERE account_id = :account_id AND uri = :uri;

-- name: insert_node
INSERT INTO context_nodes (account_id, uri, context_type, category, owner_space, abstract,
    overview, content, metadata, status, version, created_at, updated_at)
VALUES (:account_id, :uri, :context_type, :category, :owner_space, :abstract, :overview,
    :content, :metadata, :status, :version, :created_at, :updated_at);

-- name: update_node
UPDATE context_nodes
SET context_type = :context_type, category = :category, owner_space = :owner_space,
    abstract = :abstract, overview = :overview, content = :content, metadata = :metadata,
    status = :status, version = :version, updated_at = :updated_at
WHERE account_id = :account_id AND uri = :uri AND version = :expected_version;

-- name: archive_node
UPDATE context_nodes
SET status = 'ARCHIVED', metadata = json_set(metadata, '$.archived_at', :archived_at),
    version = version + 1, updated_at = :archived_at
WHERE account_id = :account_id AND uri = :uri AND version = :expected_version;

-- name: delete_node
DELETE FROM context_nodes
WHERE account_id = :account_id AND uri = :uri AND version = :expected_version;

-- name: delete_versions
DELETE FROM context_node_versions WHERE account_id = :account_id AND uri = :uri;

-- name: move_node
UPDATE context_nodes
SET uri = :dst, version = version + 1, updated_at = :updated_at
WHERE account_id = :account_id AND uri = :src AND version = :expected_version;

-- name: move_versions
UPDATE context_node_versions SET uri = :dst WHERE account_id = :account_id AND uri = :src;

-- name: insert_version
INSERT INTO context_node_versions (account_id, uri, version, action, context_type, category,
    owner_space, abstract, overview, content, metadata, status, created_at, written_at)
SELECT account_id, uri, version, :action, context_type, category, owner_space, abstract,
    overview, content, metadata, status, created_at, updated_at
FROM context_nodes WHERE account_id = :account_id AND uri = :uri;

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

-- name: list_events
SELECT * FROM outbox_events WHERE account_id = :account_id ORDER BY id LIMIT :limit;

-- name: list_events_by_status
SELECT * FROM outbox_events WHERE account_id = :account_id AND status = :status
ORDER BY id LIMIT :limit;

-- name: outbox_counts
SELECT status, count(*) AS n FROM outbox_events WHERE account_id = :account_id GROUP BY status;

-- name: find_applied
SELECT * FROM applied_ops WHERE account_id = :account_id AND fingerprint = :fingerprint;

-- name: insert_applied
INSERT INTO applied_ops (account_id, fingerprint, uri, action, version, applied_at)
VALUES (:account_id, :fingerprint, :uri, :action, :version, :applied_at);

-- name: direct_children
SELECT * FROM context_nodes
WHERE account_id = :account_id AND uri > :lower AND uri < :upper
    AND instr(substr(uri, :prefix_length + 1), '/') = 0
ORDER BY uri;
