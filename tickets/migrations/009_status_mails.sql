-- Whether the customer receives the mails of status changes (waiting on
-- you, solved, the reply rule's call). They can stop them from the link in
-- those mails, and turn them on again; replies are always mailed.
ALTER TABLE tickets ADD COLUMN status_mails INTEGER NOT NULL DEFAULT 1;
