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
