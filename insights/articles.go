package insights

import (
	"context"
	"fmt"
	"sort"
)

// ArticleRow is one article's figures over a period.
type ArticleRow struct {
	ID string
	// Views of its page in the period.
	Views int
	// Of the drafts started in the period: those it was suggested in (at
	// least one search intent showed it), those in which it was opened
	// from the suggestions, those it solved, and those filed as tickets
	// after it was opened (the article did not help).
	Suggested, OpenedFromSuggestion, Solved int
	// Votes whose current answer was given in the period.
	Helpful, NotHelpful int
	TicketsAfterReading int
}

// Articles lists every article with any figure above zero in p, most
// deflections first, then most views, then by id.
func (s *Store) Articles(ctx context.Context, p Period) ([]ArticleRow, error) {
	from, to := p.bounds()
	byID := map[string]*ArticleRow{}
	row := func(id string) *ArticleRow {
		r := byID[id]
		if r == nil {
			r = &ArticleRow{ID: id}
			byID[id] = r
		}
		return r
	}
	queries := []struct {
		sql  string
		args []any
		scan func(id string, a, b int)
	}{
		{`SELECT article_id, count(*), 0 FROM article_views WHERE at >= ? AND at < ? GROUP BY article_id`,
			[]any{from, to}, func(id string, a, _ int) { row(id).Views = a }},
		// An article shown by several intents of one draft counts once.
		{`SELECT j.value, count(DISTINCT s.id), 0
			FROM deflect_sessions s
			JOIN deflect_events e ON e.session_id = s.id AND e.kind = 'suggested'
			JOIN json_each(e.articles) j
			WHERE s.started_at >= ? AND s.started_at < ?
			GROUP BY j.value`,
			[]any{from, to}, func(id string, a, _ int) { row(id).Suggested = a }},
		{`SELECT e.article, count(DISTINCT s.id), count(DISTINCT CASE WHEN s.outcome = 'filed' THEN s.id END)
			FROM deflect_sessions s
			JOIN deflect_events e ON e.session_id = s.id AND e.kind = 'opened'
			WHERE s.started_at >= ? AND s.started_at < ?
			GROUP BY e.article`,
			[]any{from, to}, func(id string, a, b int) { r := row(id); r.OpenedFromSuggestion, r.TicketsAfterReading = a, b }},
		{`SELECT article, count(*), 0 FROM deflect_sessions
			WHERE started_at >= ? AND started_at < ? AND outcome = 'solved' AND article IS NOT NULL
			GROUP BY article`,
			[]any{from, to}, func(id string, a, _ int) { row(id).Solved = a }},
		{`SELECT article_id, sum(helpful), sum(1 - helpful) FROM votes WHERE at >= ? AND at < ? GROUP BY article_id`,
			[]any{from, to}, func(id string, a, b int) { r := row(id); r.Helpful, r.NotHelpful = a, b }},
	}
	for _, q := range queries {
		if err := s.scanCounts(ctx, q.sql, q.args, q.scan); err != nil {
			return nil, fmt.Errorf("insights: articles: %w", err)
		}
	}
	out := make([]ArticleRow, 0, len(byID))
	for _, r := range byID {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Solved != b.Solved {
			return a.Solved > b.Solved
		}
		if a.Views != b.Views {
			return a.Views > b.Views
		}
		return a.ID < b.ID
	})
	return out, nil
}

// scanCounts runs a query of rows (id, a, b).
func (s *Store) scanCounts(ctx context.Context, query string, args []any, fn func(id string, a, b int)) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a, b int
		if err := rows.Scan(&id, &a, &b); err != nil {
			return err
		}
		fn(id, a, b)
	}
	return rows.Err()
}
