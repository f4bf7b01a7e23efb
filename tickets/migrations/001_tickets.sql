-- Tickets filed by customers. The customer reaches a ticket with a private
-- token; only its SHA-256 is stored. Plan and organisation are a snapshot of
-- customers.yaml at filing time.
CREATE TABLE tickets (
    id                 INTEGER PRIMARY KEY,
    number             INTEGER NOT NULL UNIQUE CHECK (number >= 1001),
    token_hash         BLOB NOT NULL CHECK (length(token_hash) = 32),
    status             TEXT NOT NULL CHECK (status IN ('new', 'open', 'waiting', 'solved', 'closed')),
    plan               TEXT NOT NULL CHECK (plan IN ('basic', 'priority', 'individual')),
    organisation       TEXT NOT NULL DEFAULT '',
    severity           INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),
    subject            TEXT NOT NULL,
    lang               TEXT NOT NULL,
    answer_in_english  INTEGER NOT NULL CHECK (answer_in_english IN (0, 1)),
    name               TEXT NOT NULL,
    company            TEXT NOT NULL,
    phone              TEXT NOT NULL,
    email              TEXT NOT NULL,
    version            TEXT NOT NULL DEFAULT '',
    deployment         TEXT NOT NULL DEFAULT '' CHECK (deployment IN ('', 'cloud', 'own-server', 'other')),
    environment        TEXT NOT NULL DEFAULT '',
    error_messages     TEXT NOT NULL DEFAULT '',
    created_at         TEXT NOT NULL, -- RFC 3339, UTC
    updated_at         TEXT NOT NULL,
    sla_due            TEXT,          -- NULL when the plan has no fixed target (individual)
    call_required      INTEGER NOT NULL CHECK (call_required IN (0, 1)),
    deflection_session TEXT NOT NULL DEFAULT ''
);
-- The queue: open work by status, then plan and severity, oldest first.
CREATE INDEX tickets_status ON tickets (status, plan, severity, created_at);
CREATE INDEX tickets_email ON tickets (email);
CREATE INDEX tickets_deflection_session ON tickets (deflection_session) WHERE deflection_session <> '';

-- The conversation; the first message is the ticket's description.
CREATE TABLE ticket_messages (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author     TEXT NOT NULL CHECK (author IN ('customer', 'support')),
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (ticket_id, id);

-- Files live in DATA/attachments/<sha256>, shared by content; these rows say
-- which ticket carries which file under which name.
CREATE TABLE ticket_attachments (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256       TEXT NOT NULL CHECK (length(sha256) = 64),
    size         INTEGER NOT NULL CHECK (size > 0),
    UNIQUE (ticket_id, sha256, name)
);
CREATE INDEX ticket_attachments_sha256 ON ticket_attachments (sha256);

-- What happened to a ticket, in order. The row id is the live feed's
-- sequence number: AUTOINCREMENT never reuses one, and SQLite's single writer
-- makes ids become visible in increasing order, so a poller that remembers
-- the last id it saw misses nothing. data is a JSON object whose shape
-- depends on kind (filed: status, plan, sla_due; status: status, from).
CREATE TABLE ticket_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('filed', 'status', 'reply', 'sla')),
    actor      TEXT NOT NULL CHECK (actor IN ('customer', 'support', 'cli')),
    message_id INTEGER REFERENCES ticket_messages (id) ON DELETE CASCADE,
    data       TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
    at         TEXT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);
