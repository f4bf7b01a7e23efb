-- Drafts started on the day whose last search intent showed no article:
-- nothing matched, or nothing well enough to be shown (no_good_match),
-- with that intent's first line, the language and the ticket filed, if any.
CREATE TABLE insights_day_no_match (
    day     TEXT NOT NULL,
    session TEXT NOT NULL,
    lang    TEXT NOT NULL,
    query   TEXT NOT NULL,
    ticket  INTEGER NOT NULL, -- 0: not filed
    PRIMARY KEY (day, session)
) WITHOUT ROWID;

-- The days rolled up before lack it: they are computed again.
DELETE FROM insights_days;
