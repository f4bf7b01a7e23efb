-- The indexes the operators' figures need (docs/metrics.md, "Operators'
-- figures"), on the tables of events, deflect and tickets, whose
-- migrations run first (app.Open opens insights after them). Each serves
-- a period's rows in time order and carries the columns the figures read,
-- so a month of a million events is read from the indexes alone.

-- Sessions by the time they started (the funnel counts those).
CREATE INDEX insights_sessions_started ON deflect_sessions (started_at, outcome, id, lang, article, ticket);
-- A session's events of one kind (an intent's article is NULL: its last
-- intent is the index's last entry for (session, 'suggested', NULL)).
CREATE INDEX insights_deflect_events_session ON deflect_events (session_id, kind, article);

-- Searches by time, with the fields read from their JSON.
CREATE INDEX insights_searches ON events (at, json_extract(data, '$.total'), json_extract(data, '$.id'),
    json_extract(data, '$.visitor')) WHERE kind = 'search';
-- Views by time, with article and visitor.
CREATE INDEX insights_views ON article_views (at, article_id, visitor);
-- Votes are read as they stand, never rolled up: a voter may change an
-- answer the next day.
CREATE INDEX insights_votes ON votes (at, article_id, helpful);

-- Tickets by filing time; a ticket's first reply, its solving and closing;
-- call flags by time.
CREATE INDEX insights_tickets_created ON tickets (created_at);
CREATE INDEX insights_ticket_replies ON ticket_messages (ticket_id, author, internal, created_at);
CREATE INDEX insights_ticket_status ON ticket_events (ticket_id, json_extract(data, '$.status'), at) WHERE kind = 'status';
CREATE INDEX insights_ticket_events_kind ON ticket_events (kind, at);
