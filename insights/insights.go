// Package insights computes the operators' figures — the deflection funnel,
// per-article figures, content gaps and support health — by SQL over what
// events, deflect and tickets record (docs/metrics.md, "Operators'
// figures"). It writes only its own daily rollups (the figures of days
// that can no longer change, rollup.go); its migrations add the indexes
// the figures need. It knows nothing of HTTP or of search: the query
// normaliser that groups gaps is injected.
package insights

import (
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/orbitask/portal/calendar"
	"github.com/orbitask/portal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Config configures a Store. Only DB is required.
type Config struct {
	DB *sqlitedb.DB
	// Calendar is the business calendar in force (tickets.Store.Calendar),
	// for working-time medians; nil is calendar.Default.
	Calendar func() *calendar.Calendar
	// Normalize groups queries for the content gaps: stemmed, stop words
	// removed (search.Index.NormalizeQuery); nil lowercases and collapses
	// spaces.
	Normalize func(lang, query string) string
	Logger    *slog.Logger     // nil = discard
	Now       func() time.Time // nil = time.Now; whether an open ticket's SLA is breached yet
}

// Store computes the figures.
type Store struct {
	db        *sqlitedb.DB
	calendar  func() *calendar.Calendar
	normalize func(lang, query string) string
	log       *slog.Logger
	now       func() time.Time
	rollMu    sync.Mutex // serialises finding and storing rollups (split)
}

// Open applies the migrations (indexes on the other packages' tables:
// open it after events, deflect and tickets, and the rollups' tables).
func Open(cfg Config) (*Store, error) {
	if cfg.DB == nil {
		return nil, errors.New("insights: open: Config.DB is required")
	}
	s := &Store{db: cfg.DB, calendar: cfg.Calendar, normalize: cfg.Normalize, log: cfg.Logger, now: cfg.Now}
	if s.calendar == nil {
		s.calendar = calendar.Default
	}
	if s.normalize == nil {
		s.normalize = func(_, q string) string { return strings.Join(strings.Fields(strings.ToLower(q)), " ") }
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.db.Migrate("insights", migrations, "migrations"); err != nil {
		return nil, fmt.Errorf("insights: open: %w", err)
	}
	return s, nil
}

// Period is a span of time, [From, To), in UTC.
type Period struct{ From, To time.Time }

// Previous is the period of the same length just before p, for comparison.
func (p Period) Previous() Period {
	return Period{From: p.From.Add(-p.To.Sub(p.From)), To: p.From}
}

// LastDays is the n whole UTC days ending with now's day (today included).
func LastDays(now time.Time, n int) Period {
	now = now.UTC()
	end := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
	return Period{From: end.AddDate(0, 0, -n), To: end}
}

// bounds are p's ends as stored times, for text comparison.
func (p Period) bounds() (string, string) {
	return sqlitedb.FormatTime(p.From), sqlitedb.FormatTime(p.To)
}

// days lists the UTC days p touches, in order, as stored ("YYYY-MM-DD").
func (p Period) days() []string {
	var out []string
	from, to := p.From.UTC(), p.To.UTC()
	for d := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC); d.Before(to); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

// ratio is a ÷ b, nil when b is 0.
func ratio(a, b int) *float64 {
	if b == 0 {
		return nil
	}
	r := float64(a) / float64(b)
	return &r
}
