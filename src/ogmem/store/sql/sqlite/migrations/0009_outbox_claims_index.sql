-- A worker's heartbeat renews the leases of the events it claimed: partial, so the index holds
-- only the events being processed (at most a batch per worker).
CREATE INDEX outbox_events_claimed ON outbox_events (claimed_by) WHERE status = 'PROCESSING';
