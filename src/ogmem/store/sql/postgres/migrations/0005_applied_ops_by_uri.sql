-- A delete forgets the idempotency records of the node it removes (a memory deleted can be
-- remembered again) and a move carries them to the new URI: both look them up by URI.
CREATE INDEX applied_ops_by_uri ON applied_ops (account_id, uri);
