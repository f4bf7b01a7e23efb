-- Append-only log of what happened; data is a JSON object whose shape
-- depends on kind (see docs/metrics.md).
CREATE TABLE events (
    id   INTEGER PRIMARY KEY,
    at   TEXT NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL CHECK (json_valid(data))
);
CREATE INDEX events_kind_at ON events (kind, at);

-- Current answer of each voter to "Was this helpful?"; the history is in events.
CREATE TABLE votes (
    article_id TEXT NOT NULL,
    voter      TEXT NOT NULL,
    helpful    INTEGER NOT NULL CHECK (helpful IN (0, 1)),
    at         TEXT NOT NULL,
    PRIMARY KEY (article_id, voter)
);
