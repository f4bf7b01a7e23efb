-- Plans that depend on the e-mail address (issue 14): a plan granted by the
-- address's domain (customers.yaml) takes effect once the address is
-- confirmed. Until then the ticket is Basic (plan, queue rank, reply rule,
-- SLA) and pending_plan holds the plan it moves up to on confirmation.
ALTER TABLE tickets ADD COLUMN pending_plan TEXT NOT NULL DEFAULT ''
    CHECK (pending_plan IN ('', 'priority', 'individual'));
CREATE INDEX tickets_pending ON tickets (lower(email)) WHERE pending_plan <> '';
-- "Find my tickets" lists an address's tickets, whatever its case.
CREATE INDEX tickets_email_lower ON tickets (lower(email));

-- Confirmed addresses, lower-cased: who confirmed ("mail link", "find
-- link", "staff: NAME (id N)", "command line: USER") and when.
CREATE TABLE confirmed_addresses (
    email        TEXT PRIMARY KEY,
    confirmed_by TEXT NOT NULL,
    confirmed_at TEXT NOT NULL
) WITHOUT ROWID;

-- Tokens mailed to an address: "confirm" (in the "ticket filed" mail,
-- valid 7 days, usable again within them) and "find" (the "find my
-- tickets" mail, 30 minutes, single use: used_at). Only the SHA-256 is
-- stored. The find rows also count an address's find mails per hour.
CREATE TABLE address_tokens (
    hash       BLOB PRIMARY KEY CHECK (length(hash) = 32),
    purpose    TEXT NOT NULL CHECK (purpose IN ('confirm', 'find')),
    email      TEXT NOT NULL,   -- lower-cased
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT
) WITHOUT ROWID;
CREATE INDEX address_tokens_email ON address_tokens (email, purpose, created_at);
