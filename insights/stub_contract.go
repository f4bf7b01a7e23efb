// Package insights is a STUB of the contract in issue 12 (helper "dash"
// compiles against it); the lead deletes this file when merging the real
// package.
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
	Calendar  func() *calendar.Calendar
	Normalize func(lang, query string) string
	Logger    *slog.Logger
}

type Store struct{}

func Open(cfg Config) (*Store, error) { panic("stub") }

type Period struct{ From, To time.Time }

func (p Period) Previous() Period { panic("stub") }

func LastDays(now time.Time, n int) Period { panic("stub") }

type Funnel struct {
	Drafts, Shown, Opened, Solved, Abandoned, AbandonedAfterSuggestions, Filed int
	DeflectionRate                                                             *float64
	ImplicitRate                                                               *float64
	ClickThrough                                                               *float64
	KBVisitors                                                                 int
	FilingCustomers                                                            int
	SelfService                                                                *float64
}

func (s *Store) Funnel(ctx context.Context, p Period) (Funnel, error) { panic("stub") }

type Day struct {
	Day    time.Time
	Funnel Funnel
}

func (s *Store) Daily(ctx context.Context, p Period) ([]Day, error) { panic("stub") }

type ArticleRow struct {
	ID                                                                                       string
	Views, Suggested, OpenedFromSuggestion, Solved, Helpful, NotHelpful, TicketsAfterReading int
}

func (s *Store) Articles(ctx context.Context, p Period) ([]ArticleRow, error) { panic("stub") }

type Gap struct {
	Kind     string
	Query    string
	Count    int
	Examples []string
	Tickets  []int
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
	ByPlan, BySeverity, ByLang, ByStatus  []Count
	SLA                                   []SLARow
	MedianFirstResponse, MedianResolution time.Duration
	CallFlagged                           int
}

func (s *Store) Health(ctx context.Context, p Period) (Health, error) { panic("stub") }
