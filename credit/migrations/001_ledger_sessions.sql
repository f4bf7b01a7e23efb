-- The server-support credit ledger: append-only entries in minutes per
-- organisation. The balance is their sum; it is never stored.
CREATE TABLE credit_entries (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    org        TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('topup', 'charge', 'fee', 'correction')),
    minutes    INTEGER NOT NULL CHECK (minutes % 10 = 0),
    by_whom    TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    ref        TEXT    NOT NULL DEFAULT '', -- a top-up's invoice reference
    reason     TEXT    NOT NULL DEFAULT '', -- a correction's reason
    session_id INTEGER                      -- a charge's or fee's session
);
-- (org, id, minutes) covers the balance: SUM reads the index alone.
CREATE INDEX credit_entries_org ON credit_entries (org, id, minutes);

CREATE TRIGGER credit_entries_no_update BEFORE UPDATE ON credit_entries
BEGIN
    SELECT RAISE(ABORT, 'credit: the ledger is append-only');
END;
CREATE TRIGGER credit_entries_no_delete BEFORE DELETE ON credit_entries
BEGIN
    SELECT RAISE(ABORT, 'credit: the ledger is append-only');
END;

-- Sessions: booked (estimate reserved), cancelled, proposed and disputed
-- (charge reserved), confirmed (charge written to the ledger).
CREATE TABLE credit_sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    org         TEXT    NOT NULL,
    ticket      INTEGER NOT NULL,
    start       TEXT    NOT NULL,
    estimate    INTEGER NOT NULL,
    technician  TEXT    NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN ('booked', 'cancelled', 'proposed', 'confirmed', 'disputed')),
    charge      INTEGER NOT NULL DEFAULT 0,
    proposed_at TEXT    NOT NULL DEFAULT '',
    comment     TEXT    NOT NULL DEFAULT '',
    debt        INTEGER NOT NULL DEFAULT 0, -- fees and charges the balance could not cover
    booked_by   TEXT    NOT NULL,
    booked_at   TEXT    NOT NULL
);
CREATE INDEX credit_sessions_org ON credit_sessions (org, status);
CREATE INDEX credit_sessions_status ON credit_sessions (status);
