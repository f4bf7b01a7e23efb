-- The queue with many tickets (docs/benchmarks.md, "Agent queue with 100,000
-- tickets"). Without statistics SQLite prefers an equality on a leading
-- column, so the queue's queries went through tickets_status (status=?) and
-- read every open ticket's row from the table.

-- Counts: every column the queue's filters and its counts per filter read,
-- after status, so that the count of matching tickets and the counts per
-- filter are read from this index alone.
CREATE INDEX tickets_queue_counts ON tickets
    (status, plan, severity, lang, assignee_id, assignee_name, call_required, sla_due, paused_at)
    WHERE status IN ('new', 'open', 'waiting');

-- Order: the queue's ORDER BY exactly (a missing due time sorts last), then
-- the filters' columns, so that a page is the first rows of this index and
-- filters are tested before the table is read. SQLite takes it only when
-- named (FROM tickets INDEXED BY tickets_queue_order): an equality on
-- tickets_status looks cheaper to it.
CREATE INDEX tickets_queue_order ON tickets
    (queue_rank, severity, call_required DESC, ifnull(sla_due, '~'), number, plan, lang, assignee_id, sla_due, paused_at)
    WHERE status IN ('new', 'open', 'waiting');
