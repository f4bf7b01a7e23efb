-- A view of an article opened from a search's results carries that
-- search's id (the `id` in the search event's data), so "searched, found,
-- and opened nothing" is a search id no view has (docs/metrics.md). NULL:
-- opened any other way, or before the id was recorded.
ALTER TABLE article_views ADD COLUMN search_id TEXT;
CREATE INDEX article_views_search ON article_views (search_id) WHERE search_id IS NOT NULL;
