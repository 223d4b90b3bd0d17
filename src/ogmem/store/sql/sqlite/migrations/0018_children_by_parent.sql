-- A directory summary reads how many active memories sit directly in a directory and the 200
-- most recently updated. Found by a URI range, that read visited and sorted every child:
-- 105 ms at 20,000 children, on every commit into the directory. This index keys each active
-- memory by its parent (its URI up to the last '/': rtrim strips every trailing character that
-- is not a '/') and orders it by update, so both reads are bounded by what they return.
CREATE INDEX nodes_active_by_parent ON context_nodes
    (account_id, rtrim(uri, replace(uri, '/', '')), updated_at, uri)
    WHERE status = 'ACTIVE' AND context_type != 'DIRECTORY';
