-- A session's debt settled from later top-ups (docs/server-support.md): the
-- outstanding debt is debt − settled; the settling entries are in the ledger.
ALTER TABLE credit_sessions ADD COLUMN settled INTEGER NOT NULL DEFAULT 0;
