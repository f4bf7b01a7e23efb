-- Staff accounts. Times are fixed-width UTC text, sqlitedb.TimeLayout
-- (migration 002; nanoseconds before it) so that they compare and sort as text.
-- Accounts are disabled, never deleted: the audit log refers to them.
CREATE TABLE staff_users (
    id                   INTEGER PRIMARY KEY,
    email                TEXT NOT NULL UNIQUE CHECK (email = lower(email)),
    name                 TEXT NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('agent', 'operator', 'writer')),
    password_hash        TEXT NOT NULL, -- argon2id PHC string
    must_change_password INTEGER NOT NULL CHECK (must_change_password IN (0, 1)),
    disabled_at          TEXT,          -- NULL while the account is active
    created_at           TEXT NOT NULL,
    last_login_at        TEXT
);

-- Browser sessions. The cookie holds the token; only its SHA-256 is stored.
CREATE TABLE staff_sessions (
    token_hash   BLOB PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id      INTEGER NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL, -- slides with use, never past created_at + the absolute limit
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);
CREATE INDEX staff_sessions_expires ON staff_sessions (expires_at);

-- Personal access tokens for scripts (Authorization: Bearer). Only the
-- token's SHA-256 is stored.
CREATE TABLE staff_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL DEFAULT '',
    token_hash   BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
);
CREATE INDEX staff_tokens_user ON staff_tokens (user_id);

-- Failed logins inside the rate-limit window; older rows are pruned.
CREATE TABLE staff_login_failures (
    email TEXT NOT NULL, -- as typed, lower-cased; need not be an account
    ip    TEXT NOT NULL,
    at    TEXT NOT NULL
);
CREATE INDEX staff_login_failures_email ON staff_login_failures (email, at);
CREATE INDEX staff_login_failures_ip ON staff_login_failures (ip, at);
CREATE INDEX staff_login_failures_at ON staff_login_failures (at);

-- Who did what, for operators. actor_id is NULL for the command line and
-- for failed logins; actor is a readable name either way.
CREATE TABLE staff_audit (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor_id INTEGER REFERENCES staff_users (id),
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    subject  TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT '{}' -- JSON object of strings
);
