-- A ticket's earlier mails, for threading headers (ThreadTx), read inside
-- every agent reply's write transaction: without it a scan of the outbox.
CREATE INDEX mail_outbox_ticket ON mail_outbox (ticket, id);
