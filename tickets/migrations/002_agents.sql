-- The agent console: who did what (staff id and name on messages and
-- events), internal notes and events the customer never sees, assignment,
-- the reply rule's counter and the call flag's reason, the SLA clock's pause
-- and the queue's order.

ALTER TABLE tickets ADD COLUMN assignee_id INTEGER;              -- staff user id; NULL = unassigned
ALTER TABLE tickets ADD COLUMN assignee_name TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN agent_replies INTEGER NOT NULL DEFAULT 0;      -- replies to the customer, in all
ALTER TABLE tickets ADD COLUMN replies_since_call INTEGER NOT NULL DEFAULT 0; -- the reply rule counts these
ALTER TABLE tickets ADD COLUMN call_reason TEXT NOT NULL DEFAULT ''          -- why call_required is set
    CHECK (call_reason IN ('', 'severity', 'reply_rule'));
ALTER TABLE tickets ADD COLUMN call_after_replies INTEGER NOT NULL DEFAULT 3; -- the plan's reply limit, fixed at filing
ALTER TABLE tickets ADD COLUMN paused_at TEXT;   -- the SLA clock stopped then (waiting on the customer, or solved)
ALTER TABLE tickets ADD COLUMN queue_rank INTEGER NOT NULL DEFAULT 2; -- 1 priority (and individual by default), 2 basic

UPDATE tickets SET call_reason = 'severity' WHERE call_required = 1;
UPDATE tickets SET call_after_replies = 1, queue_rank = 1 WHERE plan IN ('priority', 'individual');
UPDATE tickets SET paused_at = updated_at WHERE status IN ('waiting', 'solved');
-- The reply rule counts support's replies so far (no call was recorded before).
UPDATE tickets SET agent_replies = (SELECT count(*) FROM ticket_messages m WHERE m.ticket_id = tickets.id AND m.author = 'support');
UPDATE tickets SET replies_since_call = agent_replies;

-- Times are now stored fixed-width (nanoseconds always written) so that they
-- compare as text; rewrite the ones the queue compares.
UPDATE tickets SET sla_due = strftime('%Y-%m-%dT%H:%M:%f', sla_due) || '000000Z' WHERE sla_due IS NOT NULL;
UPDATE tickets SET paused_at = strftime('%Y-%m-%dT%H:%M:%f', paused_at) || '000000Z' WHERE paused_at IS NOT NULL;

DROP INDEX tickets_status;
-- The queue's own indexes are in 003.
CREATE INDEX tickets_status ON tickets (status, updated_at);
CREATE INDEX tickets_assignee ON tickets (assignee_id) WHERE assignee_id IS NOT NULL;

ALTER TABLE ticket_messages ADD COLUMN internal INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1)); -- an agent's note
ALTER TABLE ticket_messages ADD COLUMN call INTEGER NOT NULL DEFAULT 0 CHECK (call IN (0, 1));         -- a note recording a call
ALTER TABLE ticket_messages ADD COLUMN staff_id INTEGER;
ALTER TABLE ticket_messages ADD COLUMN staff_name TEXT NOT NULL DEFAULT '';

-- New kinds of events: SQLite cannot change a CHECK, so the table is
-- rebuilt, keeping every id (the live feed's sequence numbers).
CREATE TABLE ticket_events_new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('filed', 'status', 'reply', 'note', 'severity', 'assign', 'call', 'sla')),
    actor      TEXT NOT NULL CHECK (actor IN ('customer', 'support', 'cli')),
    staff_id   INTEGER,                        -- the agent, for actor 'support' from the console
    staff_name TEXT NOT NULL DEFAULT '',
    internal   INTEGER NOT NULL DEFAULT 0 CHECK (internal IN (0, 1)), -- never shown to the customer
    message_id INTEGER REFERENCES ticket_messages (id) ON DELETE CASCADE,
    data       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
    at         TEXT NOT NULL
);
INSERT INTO ticket_events_new (id, ticket_id, kind, actor, message_id, data, at)
    SELECT id, ticket_id, kind, actor, message_id, data, at FROM ticket_events ORDER BY id;
-- AUTOINCREMENT promises never to reuse an id, not even one whose row is
-- gone: carry the old table's counter over.
INSERT INTO sqlite_sequence (name, seq) SELECT 'ticket_events_new', 0
    WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'ticket_events_new');
UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'ticket_events'), 0))
    WHERE name = 'ticket_events_new';
DROP TABLE ticket_events;
ALTER TABLE ticket_events_new RENAME TO ticket_events;
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
