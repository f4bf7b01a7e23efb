-- The queue's counts per deployment (the filter "bug report outside the
-- policy"), kept by triggers like ticket_queue_counts (migration 003), so
-- the queue never groups the open tickets: open tickets per deployment.
CREATE TABLE ticket_deployment_counts (
    deployment TEXT PRIMARY KEY,
    n          INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO ticket_deployment_counts
    SELECT deployment, count(*) FROM tickets WHERE status IN ('new', 'open', 'waiting') GROUP BY 1;

CREATE TRIGGER ticket_deployment_counts_insert AFTER INSERT ON tickets
WHEN NEW.status IN ('new', 'open', 'waiting')
BEGIN
    INSERT INTO ticket_deployment_counts VALUES (NEW.deployment, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_deployment_counts_update_old AFTER UPDATE OF status, deployment ON tickets
WHEN OLD.status IN ('new', 'open', 'waiting')
BEGIN
    UPDATE ticket_deployment_counts SET n = n - 1 WHERE deployment = OLD.deployment;
END;

CREATE TRIGGER ticket_deployment_counts_update_new AFTER UPDATE OF status, deployment ON tickets
WHEN NEW.status IN ('new', 'open', 'waiting')
BEGIN
    INSERT INTO ticket_deployment_counts VALUES (NEW.deployment, 1)
        ON CONFLICT DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER ticket_deployment_counts_delete AFTER DELETE ON tickets
WHEN OLD.status IN ('new', 'open', 'waiting')
BEGIN
    UPDATE ticket_deployment_counts SET n = n - 1 WHERE deployment = OLD.deployment;
END;

-- The queue filtered by deployment: the open tickets of one deployment in
-- queue order (tickets_queue_order's ORDER BY after the deployment), so a
-- page and its total read only that deployment's entries. Without it the
-- total of ?deployment=other read every open ticket's row (0.2 s with
-- 100,000 open).
CREATE INDEX tickets_open_deployment ON tickets
    (deployment, queue_rank, severity, call_required DESC, ifnull(sla_due, '~'), number, status)
    WHERE status IN ('new', 'open', 'waiting');
