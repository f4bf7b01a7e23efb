-- The queue with many tickets (docs/benchmarks.md, "Agent queue with 100,000
-- tickets").

-- A page of the open queue is the first entries of this index: the queue's
-- ORDER BY exactly (a missing due time sorts last), then the filtered
-- columns, so filters are tested before the table is read. Named in the
-- query (INDEXED BY): without statistics SQLite prefers an equality on
-- tickets_status and then sorts every open ticket.
CREATE INDEX tickets_queue_order ON tickets
    (queue_rank, severity, call_required DESC, ifnull(sla_due, '~'), number, plan, lang, assignee_id, sla_due, paused_at, status)
    WHERE status IN ('new', 'open', 'waiting');

-- The counts per filter value, kept by triggers as tickets are filed and
-- change: open tickets (new, open, waiting) per combination of the filtered
-- columns, one row per combination, so a filing costs one upsert and the
-- queue reads a few hundred rows instead of every open ticket (a GROUP BY
-- over 100,000 open tickets takes a quarter of a second).
CREATE TABLE ticket_queue_counts (
    status        TEXT NOT NULL,
    plan          TEXT NOT NULL,
    severity      INTEGER NOT NULL,
    lang          TEXT NOT NULL,
    assignee_id   INTEGER NOT NULL, -- -1: unassigned
    assignee_name TEXT NOT NULL,
    call_required INTEGER NOT NULL,
    n             INTEGER NOT NULL,
    PRIMARY KEY (status, plan, severity, lang, assignee_id, assignee_name, call_required)
) WITHOUT ROWID;

INSERT INTO ticket_queue_counts
    SELECT status, plan, severity, lang, coalesce(assignee_id, -1), assignee_name, call_required, count(*)
    FROM tickets WHERE status IN ('new', 'open', 'waiting')
    GROUP BY 1, 2, 3, 4, 5, 6, 7;

CREATE TRIGGER ticket_queue_counts_insert AFTER INSERT ON tickets
WHEN NEW.status IN ('new', 'open', 'waiting')
BEGIN
    INSERT INTO ticket_queue_counts
        VALUES (NEW.status, NEW.plan, NEW.severity, NEW.lang, coalesce(NEW.assignee_id, -1), NEW.assignee_name, NEW.call_required, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;

-- An update takes the old row out of the counts and puts the new one in.
CREATE TRIGGER ticket_queue_counts_update_old
AFTER UPDATE OF status, plan, severity, lang, assignee_id, assignee_name, call_required ON tickets
WHEN OLD.status IN ('new', 'open', 'waiting')
BEGIN
    UPDATE ticket_queue_counts SET n = n - 1
        WHERE status = OLD.status AND plan = OLD.plan AND severity = OLD.severity AND lang = OLD.lang
          AND assignee_id = coalesce(OLD.assignee_id, -1) AND assignee_name = OLD.assignee_name
          AND call_required = OLD.call_required;
END;

CREATE TRIGGER ticket_queue_counts_update_new
AFTER UPDATE OF status, plan, severity, lang, assignee_id, assignee_name, call_required ON tickets
WHEN NEW.status IN ('new', 'open', 'waiting')
BEGIN
    INSERT INTO ticket_queue_counts
        VALUES (NEW.status, NEW.plan, NEW.severity, NEW.lang, coalesce(NEW.assignee_id, -1), NEW.assignee_name, NEW.call_required, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_queue_counts_delete AFTER DELETE ON tickets
WHEN OLD.status IN ('new', 'open', 'waiting')
BEGIN
    UPDATE ticket_queue_counts SET n = n - 1
        WHERE status = OLD.status AND plan = OLD.plan AND severity = OLD.severity AND lang = OLD.lang
          AND assignee_id = coalesce(OLD.assignee_id, -1) AND assignee_name = OLD.assignee_name
          AND call_required = OLD.call_required;
END;

-- The SLA filters move with the clock, so they are counted per request, from
-- these: running clocks by due time, and paused ones (breached if due before
-- the pause). Status and pause are columns too, so the counts are read from
-- the indexes alone.
CREATE INDEX tickets_sla_running ON tickets (sla_due, status, paused_at)
    WHERE status IN ('new', 'open', 'waiting') AND paused_at IS NULL AND sla_due IS NOT NULL;
CREATE INDEX tickets_sla_paused ON tickets (sla_due, paused_at, status)
    WHERE status IN ('new', 'open', 'waiting') AND paused_at IS NOT NULL AND sla_due IS NOT NULL;
