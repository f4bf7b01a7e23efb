-- Every stored time is now sqlitedb.TimeLayout, YYYY-MM-DDTHH:MM:SS.SSSZ
-- (milliseconds, as SQLite's strftime('%Y-%m-%dT%H:%M:%fZ') writes it), in
-- every package's tables; tickets stored nanoseconds before.
UPDATE tickets SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at),
    updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', updated_at),
    sla_due = strftime('%Y-%m-%dT%H:%M:%fZ', sla_due),
    paused_at = strftime('%Y-%m-%dT%H:%M:%fZ', paused_at);
UPDATE ticket_messages SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at);
UPDATE ticket_events SET at = strftime('%Y-%m-%dT%H:%M:%fZ', at);
UPDATE ticket_events SET data = json_set(data, '$.sla_due', strftime('%Y-%m-%dT%H:%M:%fZ', json_extract(data, '$.sla_due')))
    WHERE json_extract(data, '$.sla_due') IS NOT NULL;
