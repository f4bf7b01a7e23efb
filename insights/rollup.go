package insights

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// settleMargin is how long after a day's end its figures are taken as
// final (if its drafts have all ended): searches and views reach the
// database within seconds, and a click on a result an hour later is rare.
const settleMargin = time.Hour

// split says how to compute p: the settled whole days, read from the
// rollups (computed and stored first if missing), and the rest — today,
// days with drafts still open, the ends of a period not cut at midnight —
// computed from the events as periods of their own.
type split struct {
	rolled []string // days, "YYYY-MM-DD"
	live   []Period
}

// rolledJSON is the rolled-up days as a JSON array, for `day IN (SELECT
// value FROM json_each(?))`.
func (sp split) rolledJSON() string {
	b, _ := json.Marshal(append([]string{}, sp.rolled...))
	return string(b)
}

// daySpan is the part of a period on one UTC day.
type daySpan struct {
	day   string
	p     Period
	whole bool
}

func (s *Store) split(ctx context.Context, p Period) (split, error) {
	// One at a time: figures asked at once (the dashboard's) would each
	// roll the same settled days up; the later ones find them stored.
	s.rollMu.Lock()
	defer s.rollMu.Unlock()
	var spans []daySpan
	for _, d := range p.days() {
		start, _ := time.Parse(time.DateOnly, d)
		end := start.AddDate(0, 0, 1)
		sp := daySpan{day: d, p: Period{From: later(start, p.From), To: earlier(end, p.To)}}
		sp.whole = sp.p.From.Equal(start) && sp.p.To.Equal(end)
		spans = append(spans, sp)
	}
	if len(spans) == 0 {
		return split{}, nil
	}
	from, to := p.bounds()
	unsettled, err := s.daySet(ctx, `SELECT DISTINCT substr(started_at, 1, 10) FROM deflect_sessions
		WHERE started_at >= ? AND started_at < ? AND outcome IS NULL`, from, to)
	if err != nil {
		return split{}, err
	}
	rolled, err := s.daySet(ctx, `SELECT day FROM insights_days WHERE day >= ? AND day <= ?`, spans[0].day, spans[len(spans)-1].day)
	if err != nil {
		return split{}, err
	}
	now := s.now()
	var out split
	var missing []Period // settled days not rolled up yet, in runs
	addTo := func(runs *[]Period, p Period) {
		if n := len(*runs); n > 0 && (*runs)[n-1].To.Equal(p.From) {
			(*runs)[n-1].To = p.To
			return
		}
		*runs = append(*runs, p)
	}
	for _, sp := range spans {
		settled := sp.whole && !unsettled[sp.day] && !now.Before(sp.p.To.Add(settleMargin))
		switch {
		case settled && rolled[sp.day]:
			out.rolled = append(out.rolled, sp.day)
		case settled:
			addTo(&missing, sp.p)
		default:
			addTo(&out.live, sp.p)
		}
	}
	for _, m := range missing {
		// Storing is an optimisation: if it fails (a full disk), the
		// figures are computed from the events, and it is tried again
		// next time.
		if err := s.rollUp(ctx, m); err != nil {
			s.log.Warn("insights: daily rollups not stored", "err", err)
			out.live = append(out.live, m)
			continue
		}
		out.rolled = append(out.rolled, m.days()...)
	}
	return out, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// daySet runs a query of days.
func (s *Store) daySet(ctx context.Context, query string, args ...any) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out[d] = true
	}
	return out, rows.Err()
}

// rollUp computes the figures of the settled whole days of p from the
// events and stores them. Concurrent dashboards may both do it: the rows
// are the same, the last write stands.
func (s *Store) rollUp(ctx context.Context, p Period) error {
	from, to := p.bounds()
	funnel, err := s.funnelDays(ctx, from, to)
	if err != nil {
		return err
	}
	articles, err := s.articleDays(ctx, from, to)
	if err != nil {
		return err
	}
	searches, err := s.searchDays(ctx, from, to)
	if err != nil {
		return err
	}
	weak, err := s.weakDays(ctx, from, to)
	if err != nil {
		return err
	}
	noMatch, err := s.noMatchDays(ctx, from, to)
	if err != nil {
		return err
	}
	err = s.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		for _, d := range p.days() {
			// A day's rows are replaced whole: a row an earlier computation
			// stored and this one has not must not survive.
			for _, table := range []string{"insights_day_articles", "insights_day_searches", "insights_day_weak", "insights_day_no_match"} {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE day = ?`, d); err != nil {
					return err
				}
			}
			f := Funnel{}
			if g := funnel[d]; g != nil {
				f = *g
			}
			if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO insights_days (day, drafts, shown, opened, solved, abandoned,
				abandoned_after_suggestions, filed, kb_visitors, filing_customers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				d, f.Drafts, f.Shown, f.Opened, f.Solved, f.Abandoned, f.AbandonedAfterSuggestions, f.Filed, f.KBVisitors, f.FilingCustomers); err != nil {
				return err
			}
			for _, a := range articles[d] {
				if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO insights_day_articles (day, article, views, suggested, opened, solved, filed_after)
					VALUES (?, ?, ?, ?, ?, ?, ?)`, d, a.ID, a.Views, a.Suggested, a.OpenedFromSuggestion, a.Solved, a.TicketsAfterReading); err != nil {
					return err
				}
			}
			for _, r := range searches[d] {
				if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO insights_day_searches (day, kind, lang, query, n) VALUES (?, ?, ?, ?, ?)`,
					d, r.kind, r.lang, r.query, r.n); err != nil {
					return err
				}
			}
			for _, r := range weak[d] {
				if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO insights_day_weak (day, ticket, lang, query) VALUES (?, ?, ?, ?)`,
					d, r.ticket, r.lang, r.query); err != nil {
					return err
				}
			}
			for _, r := range noMatch[d] {
				if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO insights_day_no_match (day, session, lang, query, ticket) VALUES (?, ?, ?, ?, ?)`,
					d, r.session, r.lang, r.query, r.ticket); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("roll up %s: %w", p.From.Format(time.DateOnly), err)
	}
	return nil
}
