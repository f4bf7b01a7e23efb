-- Daily rollups: the figures of each settled UTC day, computed once from
-- the events and kept, so that a month's dashboard sums 30 rows instead of
-- reading a million events. A day is settled when it ended over an hour ago
-- and every draft started on it has ended: nothing of its figures can
-- change after that (docs/metrics.md, "Daily rollups"). A migration that
-- changes a figure's definition deletes these rows; they are computed again.

-- The funnel's counts of the drafts started on the day; its visitors
-- (distinct visitor ids) and filing customers (distinct e-mail addresses).
-- A row, even of zeros, marks the day as rolled up.
CREATE TABLE insights_days (
    day                         TEXT PRIMARY KEY, -- YYYY-MM-DD, UTC
    drafts                      INTEGER NOT NULL,
    shown                       INTEGER NOT NULL,
    opened                      INTEGER NOT NULL,
    solved                      INTEGER NOT NULL,
    abandoned                   INTEGER NOT NULL,
    abandoned_after_suggestions INTEGER NOT NULL,
    filed                       INTEGER NOT NULL,
    kb_visitors                 INTEGER NOT NULL,
    filing_customers            INTEGER NOT NULL
) WITHOUT ROWID;

-- Per article: views on the day, and of the drafts started on the day
-- those it was suggested in, opened in, solved, and filed after reading.
CREATE TABLE insights_day_articles (
    day         TEXT NOT NULL,
    article     TEXT NOT NULL,
    views       INTEGER NOT NULL,
    suggested   INTEGER NOT NULL,
    opened      INTEGER NOT NULL,
    solved      INTEGER NOT NULL,
    filed_after INTEGER NOT NULL,
    PRIMARY KEY (day, article)
) WITHOUT ROWID;

-- Searches without results (no_results) and with results but no click
-- (no_click), per query as typed.
CREATE TABLE insights_day_searches (
    day   TEXT NOT NULL,
    kind  TEXT NOT NULL CHECK (kind IN ('no_results', 'no_click')),
    lang  TEXT NOT NULL,
    query TEXT NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (day, kind, lang, query)
) WITHOUT ROWID;

-- Filed drafts started on the day whose last search intent was weak
-- (weak_suggestions), with that intent's first line and the language.
CREATE TABLE insights_day_weak (
    day    TEXT NOT NULL,
    ticket INTEGER NOT NULL,
    lang   TEXT NOT NULL,
    query  TEXT NOT NULL,
    PRIMARY KEY (day, ticket)
) WITHOUT ROWID;
