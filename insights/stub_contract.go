// Package insights is a STUB of the contract of issue 12, for the "prom"
// branch to compile against until the real package is merged; the lead
// deletes this file then. Every body panics.
package insights

import (
	"context"
	"log/slog"
	"time"

	"github.com/orbitask/portal/calendar"
	"github.com/orbitask/portal/sqlitedb"
)

type Config struct {
	DB        *sqlitedb.DB
	Calendar  func() *calendar.Calendar       // working hours for first-response/resolution medians (tickets.Store.Calendar)
	Normalize func(lang, query string) string // stemmed, stop words removed, for grouping gaps (search.Index.NormalizeQuery); nil: lowercase + collapse spaces
	Logger    *slog.Logger
}

type Store struct{}

func Open(cfg Config) (*Store, error) { panic("stub") } // its own migrations (indexes / daily rollups) if it needs any

type Period struct{ From, To time.Time } // [From, To), UTC

func (p Period) Previous() Period { panic("stub") } // the same length just before

func LastDays(now time.Time, n int) Period { panic("stub") } // the n whole UTC days ending today (today included)

type Funnel struct {
	Drafts, Shown, Opened, Solved, Abandoned, AbandonedAfterSuggestions, Filed int      // sessions started in the period; Shown = with ≥1 suggestion intent with ≥1 article; Opened = with ≥1 opened
	DeflectionRate                                                             *float64 // Solved ÷ (Solved+Filed); nil when both 0
	ImplicitRate                                                               *float64 // AbandonedAfterSuggestions ÷ (Solved+Filed+AbandonedAfterSuggestions) — shown apart, never mixed into DeflectionRate
	ClickThrough                                                               *float64 // Opened ÷ Shown
	KBVisitors                                                                 int      // distinct (UTC day, visitor) that viewed an article or searched
	FilingCustomers                                                            int      // distinct e-mail addresses (lowercased) that filed tickets
	SelfService                                                                *float64 // KBVisitors ÷ FilingCustomers
}

func (s *Store) Funnel(ctx context.Context, p Period) (Funnel, error) { panic("stub") }

type Day struct {
	Day    time.Time
	Funnel Funnel
} // one per UTC day of the period, days without events included (zeros)

func (s *Store) Daily(ctx context.Context, p Period) ([]Day, error) { panic("stub") }

type ArticleRow struct {
	ID                                                                                       string
	Views, Suggested, OpenedFromSuggestion, Solved, Helpful, NotHelpful, TicketsAfterReading int
}

func (s *Store) Articles(ctx context.Context, p Period) ([]ArticleRow, error) { panic("stub") } // every article with any figure > 0

type Gap struct {
	Kind     string /* "no_results" | "no_click" | "weak_suggestions" */
	Query    string /* normalised */
	Count    int
	Examples []string /* as typed, ≤3 */
	Tickets  []int    /* ticket numbers behind a weak_suggestions gap */
}

func (s *Store) Gaps(ctx context.Context, p Period, limit int) ([]Gap, error) { panic("stub") }

type Count struct {
	Key string
	N   int
}
type SLARow struct {
	Plan                string
	Severity            int
	Met, Breached, Open int
}
type Health struct {
	ByPlan, BySeverity, ByLang, ByStatus  []Count       // tickets filed in the period
	SLA                                   []SLARow      // per plan and severity: met (solved before sla_due), breached (solved after, or still open past it), open (not yet due)
	MedianFirstResponse, MedianResolution time.Duration // working time (calendar), over tickets filed in the period that have one
	CallFlagged                           int           // tickets whose call flag was raised by the reply rule in the period
}

func (s *Store) Health(ctx context.Context, p Period) (Health, error) { panic("stub") }
