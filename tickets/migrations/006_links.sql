-- Link tokens: every mail after the "filed" one carries a private link of
-- its own, minted for that mail. Like the ticket's token, only its SHA-256
-- is stored. A link opens the ticket as the ticket's token does, until it
-- expires or the customer revokes the ticket's links.
CREATE TABLE ticket_links (
    hash       BLOB PRIMARY KEY CHECK (length(hash) = 32),
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL,   -- what minted it: a mail's kind, "find", ...
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
) WITHOUT ROWID;
CREATE INDEX ticket_links_ticket ON ticket_links (ticket_id);
