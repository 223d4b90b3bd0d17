-- A user-bound key may also be bound to agents: it may then name them in its requests (the
-- agent learns from this user's sessions) and read their memories. A JSON list of agent ids.
ALTER TABLE api_keys ADD COLUMN agents TEXT NOT NULL DEFAULT '[]';
