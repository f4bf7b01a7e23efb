-- Every incoming mail acted on, by its Message-ID (or "sha256:HEX" of the
-- raw mail when it has none), written in the transaction of what it did: a
-- mail delivered again (IMAP after a crash, an SMTP retry) does nothing.
CREATE TABLE mailroute_seen (
    key     TEXT PRIMARY KEY,
    sender  TEXT NOT NULL,          -- From, lower-cased
    outcome TEXT NOT NULL CHECK (outcome IN ('reply', 'question', 'limited')),
    ticket  INTEGER,                -- reply: the ticket it landed on
    at      TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX mailroute_seen_at ON mailroute_seen (at);

-- The questions answered by mail. The answer's "file my ticket" link
-- carries a random token; only its SHA-256 is stored, with what the form
-- is prefilled with and the question's deflection session.
CREATE TABLE mailroute_questions (
    hash       BLOB PRIMARY KEY CHECK (length(hash) = 32),
    sender     TEXT NOT NULL,       -- lower-cased
    name       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    text       TEXT NOT NULL,
    lang       TEXT NOT NULL,
    session    TEXT NOT NULL,       -- deflect_sessions.id
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
-- The answers per sender and hour (the flood limit).
CREATE INDEX mailroute_questions_sender ON mailroute_questions (sender, created_at);
CREATE INDEX mailroute_questions_expires ON mailroute_questions (expires_at);
