-- Where a session started: 'web' (a draft on /tickets/new) or 'email' (a
-- question mailed to the support address, answered with articles).
ALTER TABLE deflect_sessions ADD COLUMN source TEXT NOT NULL DEFAULT 'web' CHECK (source IN ('web', 'email'));
-- The sweeper abandons idle sessions by source.
CREATE INDEX deflect_sessions_open_source ON deflect_sessions (source, last_activity_at) WHERE ended_at IS NULL;
