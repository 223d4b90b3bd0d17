-- Validity in time and expiry: when a memory's fact held (valid_from, valid_to; apart from
-- when it was recorded) and when it stops being kept (expires_at). NULL: open, unknown, never.
-- History rows carry them too, so a version read back says what it said then.
ALTER TABLE context_nodes ADD COLUMN valid_from TEXT;
ALTER TABLE context_nodes ADD COLUMN valid_to TEXT;
ALTER TABLE context_nodes ADD COLUMN expires_at TEXT;
ALTER TABLE context_node_versions ADD COLUMN valid_from TEXT;
ALTER TABLE context_node_versions ADD COLUMN valid_to TEXT;
ALTER TABLE context_node_versions ADD COLUMN expires_at TEXT;
-- The worker's expiry sweep reads only the nodes that expire at all.
CREATE INDEX nodes_expiring ON context_nodes (account_id, expires_at)
    WHERE expires_at IS NOT NULL;
