package insights

import (
	"context"
	"fmt"
	"time"
)

// Funnel is what became of the drafts started in a period, and how much
// the knowledge base is used besides.
type Funnel struct {
	// Sessions started in the period: all of them (Drafts); those shown at
	// least one article by a search intent (Shown); those in which a
	// suggestion was opened (Opened); and by outcome (a session still open
	// counts in Drafts only). AbandonedAfterSuggestions are the abandoned
	// ones that had been shown an article.
	Drafts, Shown, Opened, Solved, Abandoned, AbandonedAfterSuggestions, Filed int
	// DeflectionRate is Solved ÷ (Solved+Filed): explicit deflection
	// only; nil when both are 0.
	DeflectionRate *float64
	// ImplicitRate is AbandonedAfterSuggestions ÷ (Solved+Filed+
	// AbandonedAfterSuggestions): perhaps deflected, perhaps given up;
	// shown apart, never mixed into DeflectionRate.
	ImplicitRate *float64
	ClickThrough *float64 // Opened ÷ Shown
	// KBVisitors are the distinct (UTC day, visitor id) that viewed an
	// article or searched (visitor ids change daily, so a reader is one
	// visitor per day).
	KBVisitors int
	// FilingCustomers are the distinct e-mail addresses (lowercased) that
	// filed tickets in the period.
	FilingCustomers int
	SelfService     *float64 // KBVisitors ÷ FilingCustomers
}

// rates fills in the ratios from the counts.
func (f *Funnel) rates() {
	f.DeflectionRate = ratio(f.Solved, f.Solved+f.Filed)
	f.ImplicitRate = ratio(f.AbandonedAfterSuggestions, f.Solved+f.Filed+f.AbandonedAfterSuggestions)
	f.ClickThrough = ratio(f.Opened, f.Shown)
	f.SelfService = ratio(f.KBVisitors, f.FilingCustomers)
}

func (f *Funnel) add(g Funnel) {
	f.Drafts += g.Drafts
	f.Shown += g.Shown
	f.Opened += g.Opened
	f.Solved += g.Solved
	f.Abandoned += g.Abandoned
	f.AbandonedAfterSuggestions += g.AbandonedAfterSuggestions
	f.Filed += g.Filed
	f.KBVisitors += g.KBVisitors
}

// Day is one UTC day's funnel.
type Day struct {
	Day    time.Time
	Funnel Funnel
}

// Funnel is p's funnel. Its counts are the sums of Daily's, except
// FilingCustomers, distinct over the whole period.
func (s *Store) Funnel(ctx context.Context, p Period) (Funnel, error) {
	byDay, err := s.daily(ctx, p)
	if err != nil {
		return Funnel{}, fmt.Errorf("insights: funnel: %w", err)
	}
	var f Funnel
	for _, g := range byDay {
		f.add(*g)
	}
	from, to := p.bounds()
	if err := s.db.QueryRowContext(ctx, `SELECT count(DISTINCT lower(email)) FROM tickets
		WHERE created_at >= ? AND created_at < ?`, from, to).Scan(&f.FilingCustomers); err != nil {
		return Funnel{}, fmt.Errorf("insights: funnel: %w", err)
	}
	f.rates()
	return f, nil
}

// Daily is the funnel of each UTC day of p, in order, days without events
// included (zeros). A session counts on the day it started.
func (s *Store) Daily(ctx context.Context, p Period) ([]Day, error) {
	byDay, err := s.daily(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("insights: daily: %w", err)
	}
	var out []Day
	for _, d := range p.days() {
		t, _ := time.Parse(time.DateOnly, d)
		f := Funnel{}
		if g := byDay[d]; g != nil {
			f = *g
		}
		f.rates()
		out = append(out, Day{Day: t, Funnel: f})
	}
	return out, nil
}

// daily is p's funnel counts by day: settled days from the rollups, the
// rest from the events.
func (s *Store) daily(ctx context.Context, p Period) (map[string]*Funnel, error) {
	sp, err := s.split(ctx, p)
	if err != nil {
		return nil, err
	}
	out := map[string]*Funnel{}
	rows, err := s.db.QueryContext(ctx, `SELECT day, drafts, shown, opened, solved, abandoned, abandoned_after_suggestions, filed,
		kb_visitors, filing_customers FROM insights_days WHERE day IN (SELECT value FROM json_each(?))`, sp.rolledJSON())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var day string
		var f Funnel
		if err := rows.Scan(&day, &f.Drafts, &f.Shown, &f.Opened, &f.Solved, &f.Abandoned, &f.AbandonedAfterSuggestions, &f.Filed,
			&f.KBVisitors, &f.FilingCustomers); err != nil {
			return nil, err
		}
		out[day] = &f
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, l := range sp.live {
		from, to := l.bounds()
		live, err := s.funnelDays(ctx, from, to)
		if err != nil {
			return nil, err
		}
		for d, f := range live {
			out[d] = f // a day is either rolled up or live, never both
		}
	}
	return out, nil
}

func dayOf(m map[string]*Funnel, day string) *Funnel {
	f := m[day]
	if f == nil {
		f = &Funnel{}
		m[day] = f
	}
	return f
}

// funnelDays counts, from the events, the sessions started in [from, to),
// the knowledge base's visitors and the filing customers, by UTC day
// (without rates).
func (s *Store) funnelDays(ctx context.Context, from, to string) (map[string]*Funnel, error) {
	out := map[string]*Funnel{}
	// One row per session: a keystroke burst is one "suggested" event
	// (deflect writes one per search intent), and EXISTS counts a session
	// once however many intents or openings it had.
	rows, err := s.db.QueryContext(ctx, `
		WITH sessions AS (
			SELECT substr(s.started_at, 1, 10) AS day, s.outcome,
				EXISTS (SELECT 1 FROM deflect_events e WHERE e.session_id = s.id AND e.kind = 'suggested' AND e.articles <> '[]') AS shown,
				EXISTS (SELECT 1 FROM deflect_events e WHERE e.session_id = s.id AND e.kind = 'opened') AS opened
			FROM deflect_sessions s
			WHERE s.started_at >= ? AND s.started_at < ?
		)
		SELECT day, count(*), sum(shown), sum(opened), sum(outcome IS 'solved'), sum(outcome IS 'abandoned'),
			sum(outcome IS 'abandoned' AND shown), sum(outcome IS 'filed')
		FROM sessions GROUP BY day`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var day string
		var f Funnel
		if err := rows.Scan(&day, &f.Drafts, &f.Shown, &f.Opened, &f.Solved, &f.Abandoned, &f.AbandonedAfterSuggestions, &f.Filed); err != nil {
			return nil, err
		}
		out[day] = &f
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	// Searches from before visitor ids have none and count nobody.
	err = s.dayCounts(ctx, `
		SELECT day, count(*) FROM (
			SELECT substr(at, 1, 10) AS day, visitor FROM article_views WHERE at >= ? AND at < ?
			UNION
			SELECT substr(at, 1, 10), json_extract(data, '$.visitor') FROM events INDEXED BY insights_searches
			WHERE kind = 'search' AND at >= ? AND at < ? AND json_extract(data, '$.visitor') IS NOT NULL
		) GROUP BY day`, []any{from, to, from, to}, func(day string, n int) { dayOf(out, day).KBVisitors = n })
	if err != nil {
		return nil, err
	}
	err = s.dayCounts(ctx, `SELECT substr(created_at, 1, 10), count(DISTINCT lower(email)) FROM tickets
		WHERE created_at >= ? AND created_at < ? GROUP BY 1`, []any{from, to}, func(day string, n int) { dayOf(out, day).FilingCustomers = n })
	return out, err
}

// dayCounts runs a query of rows (day, n).
func (s *Store) dayCounts(ctx context.Context, query string, args []any, fn func(day string, n int)) error {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var day string
		var n int
		if err := rows.Scan(&day, &n); err != nil {
			return err
		}
		fn(day, n)
	}
	return rows.Err()
}
