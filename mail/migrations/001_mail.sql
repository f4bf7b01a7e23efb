-- The transactional outbox (issue 14): a mail is written in the same
-- transaction as the event that causes it, and mail.Sender delivers it over
-- SMTP afterwards, retrying with backoff. Rows are kept after sending.
CREATE TABLE mail_outbox (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,      -- the Message-ID header, angle brackets included; stable across retries
    ticket          INTEGER,                   -- the ticket the mail is about, if any
    kind            TEXT NOT NULL,             -- what the mail is: filed, reply, status, ...
    lang            TEXT NOT NULL,             -- the language it is written in
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    text_body       TEXT NOT NULL,
    html_body       TEXT,                      -- NULL: plain text only
    headers         TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(headers)), -- JSON object: In-Reply-To, References, Auto-Submitted, others
    created_at      TEXT NOT NULL,             -- UTC, YYYY-MM-DDTHH:MM:SS.SSSZ
    next_attempt_at TEXT NOT NULL,             -- queued: not before then
    attempts        INTEGER NOT NULL DEFAULT 0,
    state           TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    last_error      TEXT,
    sent_at         TEXT,
    CHECK ((state = 'sent') = (sent_at IS NOT NULL))
);
-- The sender picks due queued mails.
CREATE INDEX mail_outbox_due ON mail_outbox (state, next_attempt_at);
