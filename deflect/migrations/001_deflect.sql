-- A customer drafting a ticket is a deflection session (see docs/metrics.md,
-- "Deflection"). A session is open until it is solved, filed or abandoned.
CREATE TABLE deflect_sessions (
    id               TEXT PRIMARY KEY,         -- 128-bit random, base64url
    lang             TEXT NOT NULL,            -- as given at start; '' = unknown
    started_at       TEXT NOT NULL,            -- UTC, YYYY-MM-DDTHH:MM:SS.SSSZ
    last_activity_at TEXT NOT NULL,
    ended_at         TEXT,                     -- NULL while open
    outcome          TEXT CHECK (outcome IN ('solved', 'filed', 'abandoned')),
    article          TEXT,                     -- the article that solved it
    ticket           INTEGER,                  -- the ticket filed
    CHECK ((ended_at IS NULL) = (outcome IS NULL))
);
-- Open sessions are loaded at start.
CREATE INDEX deflect_sessions_open ON deflect_sessions (last_activity_at) WHERE ended_at IS NULL;

-- Append-only history of each session; id gives the order.
CREATE TABLE deflect_events (
    id         INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES deflect_sessions (id),
    kind       TEXT NOT NULL CHECK (kind IN ('started', 'suggested', 'opened', 'solved', 'continued', 'filed', 'abandoned')),
    at         TEXT NOT NULL,                  -- UTC, YYYY-MM-DDTHH:MM:SS.SSSZ
    query      TEXT,                           -- suggested: the search intent's final text
    articles   TEXT CHECK (articles IS NULL OR json_valid(articles)), -- suggested: JSON array of ids, rank order
    article    TEXT,                           -- opened, solved
    ticket     INTEGER                         -- filed
);
CREATE INDEX deflect_events_kind_at ON deflect_events (kind, at);
CREATE INDEX deflect_events_session ON deflect_events (session_id);
