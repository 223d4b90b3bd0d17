-- The lease renewal (a worker's heartbeat thread) skips the claims that a transaction holds
-- locked: the worker's own finishing transaction, which marks them DONE anyway. Waiting for
-- them deadlocked: the finishing transaction locks its events chunk by chunk, and a renewal
-- that had locked the later chunks first waited for the earlier ones (seen under load in
-- `python -m bench pg_ingest`). A claim skipped now is renewed by the next heartbeat if the
-- transaction rolls back.
CREATE OR REPLACE FUNCTION ogmem_renew_leases(p_worker text, p_locked_until timestamptz)
RETURNS SETOF bigint LANGUAGE sql SECURITY DEFINER SET search_path FROM CURRENT AS $$
    UPDATE outbox_events SET locked_until = p_locked_until
    WHERE id IN (
        SELECT id FROM outbox_events
        WHERE claimed_by = p_worker AND status = 'PROCESSING'
        FOR UPDATE SKIP LOCKED
    )
    RETURNING id;
$$;
