-- Events are looked up by URI: at write time (is a summary of this directory already pending?)
-- and after a directory run (absorb the events it covered). Without this index each look-up
-- scans the outbox, which keeps every finished event.
CREATE INDEX outbox_events_uri ON outbox_events (account_id, uri, type, status);
