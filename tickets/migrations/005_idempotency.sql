-- A filing's Idempotency-Key, stored in the filing's transaction: a client
-- that retries a filing whose answer it never received (a crash between
-- the commit and the answer, a dropped connection) gets the first ticket.
-- Only the key's SHA-256 is stored; the ticket's token is kept sealed with
-- a key derived from the Idempotency-Key, so only its holder can open it.
CREATE TABLE ticket_idempotency (
    key_hash     BLOB PRIMARY KEY,  -- SHA-256 of the Idempotency-Key
    ticket_id    INTEGER NOT NULL REFERENCES tickets(id),
    request_hash BLOB NOT NULL,     -- SHA-256 of the filing as validated
    sealed_token BLOB NOT NULL,     -- nonce || AES-256-GCM(token)
    created_at   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX ticket_idempotency_created ON ticket_idempotency (created_at);
