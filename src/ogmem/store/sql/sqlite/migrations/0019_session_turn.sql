-- A turn's message as one statement: inserting a row into session_turn buffers the message
-- (unless its id is in the session already) and creates the session for its user or counts
-- the message in it; a row for another user's session writes nothing. Every turn holds the
-- store's write lock while its statements run, and under load turns queue for that lock
-- (stress `load`): a one-message turn is now one statement in autocommit, one call under
-- the lock instead of a transaction of five.
--
-- Each row changes, triggers included, 1 session row and 1 message row when the message is
-- new, the session row only when its id is known, nothing for another user's session: the
-- adapter reads how many messages a turn added from that (SqliteSessionStore.append).
CREATE VIEW session_turn (account_id, session_id, user_id, agent_id, now, message_id, role,
    name, content, created_at, tokens) AS
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;

CREATE TRIGGER session_turn_message INSTEAD OF INSERT ON session_turn
BEGIN
    INSERT INTO session_messages (account_id, session_id, message_id, role, name, content,
        created_at, tokens)
    SELECT NEW.account_id, NEW.session_id, NEW.message_id, NEW.role, NEW.name, NEW.content,
        NEW.created_at, NEW.tokens
    WHERE NOT EXISTS (SELECT 1 FROM sessions
                      WHERE account_id = NEW.account_id AND session_id = NEW.session_id
                          AND user_id <> NEW.user_id)
    ON CONFLICT (account_id, session_id, message_id) DO NOTHING;
    -- changes() is still the message insert's (1 or 0): inside a trigger each statement
    -- sets it as it completes
    INSERT INTO sessions (account_id, session_id, user_id, agent_id, created_at, updated_at,
        messages, uncommitted_tokens)
    VALUES (NEW.account_id, NEW.session_id, NEW.user_id, NEW.agent_id, NEW.now, NEW.now,
        changes(), changes() * NEW.tokens)
    ON CONFLICT (account_id, session_id) DO UPDATE
    SET messages = sessions.messages + excluded.messages,
        uncommitted_tokens = sessions.uncommitted_tokens + excluded.uncommitted_tokens,
        status = CASE WHEN sessions.status IN ('committed', 'failed') THEN 'open'
                      ELSE sessions.status END,
        updated_at = excluded.updated_at
    WHERE sessions.user_id = excluded.user_id;
END;
