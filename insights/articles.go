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
	rows, err := s.articles(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("insights: articles: %w", err)
	}
	return rows, nil
}

func (s *Store) articles(ctx context.Context, p Period) ([]ArticleRow, error) {
	sp, err := s.split(ctx, p)
	if err != nil {
		return nil, err
	}
	byID := map[string]*ArticleRow{}
	row := func(id string) *ArticleRow {
		r := byID[id]
		if r == nil {
			r = &ArticleRow{ID: id}
			byID[id] = r
		}
		return r
	}
	rows, err := s.db.QueryContext(ctx, `SELECT article, sum(views), sum(suggested), sum(opened), sum(solved), sum(filed_after)
		FROM insights_day_articles WHERE day IN (SELECT value FROM json_each(?)) GROUP BY article`, sp.rolledJSON())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var a ArticleRow
		if err := rows.Scan(&a.ID, &a.Views, &a.Suggested, &a.OpenedFromSuggestion, &a.Solved, &a.TicketsAfterReading); err != nil {
			return nil, err
		}
		byID[a.ID] = &a
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, l := range sp.live {
		from, to := l.bounds()
		live, err := s.articleDays(ctx, from, to)
		if err != nil {
			return nil, err
		}
		for _, day := range live {
			for _, a := range day {
				r := row(a.ID)
				r.Views += a.Views
				r.Suggested += a.Suggested
				r.OpenedFromSuggestion += a.OpenedFromSuggestion
				r.Solved += a.Solved
				r.TicketsAfterReading += a.TicketsAfterReading
			}
		}
	}
	// Votes as they stand now: a voter may still change an answer.
	from, to := p.bounds()
	err = s.scanCounts(ctx, `SELECT '', article_id, sum(helpful), sum(1 - helpful) FROM votes WHERE at >= ? AND at < ? GROUP BY article_id`,
		[]any{from, to}, func(_, id string, a, b int) { r := row(id); r.Helpful, r.NotHelpful = a, b })
	if err != nil {
		return nil, err
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

// articleDays computes the articles' figures (without votes) from the
// events of [from, to), by UTC day: views by the day of the view, the
// drafts' figures by the day the draft started.
func (s *Store) articleDays(ctx context.Context, from, to string) (map[string]map[string]*ArticleRow, error) {
	out := map[string]map[string]*ArticleRow{}
	row := func(day, id string) *ArticleRow {
		m := out[day]
		if m == nil {
			m = map[string]*ArticleRow{}
			out[day] = m
		}
		r := m[id]
		if r == nil {
			r = &ArticleRow{ID: id}
			m[id] = r
		}
		return r
	}
	queries := []struct {
		sql  string
		scan func(day, id string, a, b int)
	}{
		{`SELECT substr(at, 1, 10), article_id, count(*), 0 FROM article_views WHERE at >= ? AND at < ? GROUP BY 1, 2`,
			func(day, id string, a, _ int) { row(day, id).Views = a }},
		// An article shown by several intents of one draft counts once.
		{`SELECT substr(s.started_at, 1, 10), j.value, count(DISTINCT s.id), 0
			FROM deflect_sessions s
			JOIN deflect_events e ON e.session_id = s.id AND e.kind = 'suggested'
			JOIN json_each(e.articles) j
			WHERE s.started_at >= ? AND s.started_at < ?
			GROUP BY 1, 2`,
			func(day, id string, a, _ int) { row(day, id).Suggested = a }},
		{`SELECT substr(s.started_at, 1, 10), e.article, count(DISTINCT s.id), count(DISTINCT CASE WHEN s.outcome = 'filed' THEN s.id END)
			FROM deflect_sessions s
			JOIN deflect_events e ON e.session_id = s.id AND e.kind = 'opened'
			WHERE s.started_at >= ? AND s.started_at < ?
			GROUP BY 1, 2`,
			func(day, id string, a, b int) {
				r := row(day, id)
				r.OpenedFromSuggestion, r.TicketsAfterReading = a, b
			}},
		{`SELECT substr(started_at, 1, 10), article, count(*), 0 FROM deflect_sessions
			WHERE started_at >= ? AND started_at < ? AND outcome = 'solved' AND article IS NOT NULL
			GROUP BY 1, 2`,
			func(day, id string, a, _ int) { row(day, id).Solved = a }},
	}
	for _, q := range queries {
		if err := s.scanCounts(ctx, q.sql, []any{from, to}, q.scan); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanCounts runs a query of rows (day, id, a, b).
func (s *Store) scanCounts(ctx context.Context, query string, args []any, fn func(day, id string, a, b int)) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var day, id string
		var a, b int
		if err := rows.Scan(&day, &id, &a, &b); err != nil {
			return err
		}
		fn(day, id, a, b)
	}
	return rows.Err()
}
