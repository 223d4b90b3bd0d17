-- Pending events are looked up by URI: at write time (is a summary of this directory already
-- pending?) and after a directory run (absorb the events it covered). Partial, so the index
-- holds only the pending events (a handful) and finished ones cost it nothing: the outbox
-- keeps finished events for a week.
CREATE INDEX outbox_events_pending_uri ON outbox_events (account_id, uri, type)
WHERE status = 'PENDING';
