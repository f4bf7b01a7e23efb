-- One row per view of an article's page (docs/metrics.md). visitor is
-- VisitorID: a hash of address and user agent under the day's salt, never
-- the address itself. Appended in batches; votes look up the voter's view.
CREATE TABLE article_views (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    article_id TEXT NOT NULL,
    lang       TEXT NOT NULL,
    visitor    TEXT NOT NULL
);
CREATE INDEX article_views_visitor ON article_views (visitor, article_id, at);
CREATE INDEX article_views_at ON article_views (at);

-- The salt of each day's visitor ids: today's and yesterday's only (older
-- ones are deleted when a day's salt is made), so restarts keep the day's
-- ids and old ids cannot be traced back to an address.
CREATE TABLE visitor_salts (
    day  TEXT PRIMARY KEY, -- YYYY-MM-DD, UTC
    salt BLOB NOT NULL
);
