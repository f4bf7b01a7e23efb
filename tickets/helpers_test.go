package tickets

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/orbitask/portal/internal/testclock"
	"github.com/orbitask/portal/internal/testlog"
	"github.com/orbitask/portal/sqlitedb"
)

// env is a store on a real SQLite file in a temporary directory.
type env struct {
	*Store
	dir    string
	dbPath string
	db     *sqlitedb.DB
	clock  *testclock.Clock
	logs   *testlog.Buffer

	mu     sync.Mutex
	events []Event // as OnEvent saw them
}

func (e *env) seen() []Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Event(nil), e.events...)
}

// prague returns a time in the support desk's zone.
func prague(tb testing.TB, y int, m time.Month, d, h, min int) time.Time {
	tb.Helper()
	loc, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		tb.Fatal(err)
	}
	return time.Date(y, m, d, h, min, 0, 0, loc)
}

// newEnv opens a store; prepare, if given, runs on the data directory first
// (to write a customers.yaml); options change the store's Config.
func newEnv(tb testing.TB, prepare func(dir string), options ...func(*Config)) *env {
	tb.Helper()
	dir := tb.TempDir()
	if prepare != nil {
		prepare(dir)
	}
	e := &env{dir: dir, dbPath: filepath.Join(dir, "portal.db"), logs: &testlog.Buffer{},
		clock: testclock.New(prague(tb, 2026, time.March, 4, 10, 0))} // a Wednesday
	db, err := sqlitedb.Open(e.dbPath)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	e.db = db
	cfg := Config{
		DB: db, DataDir: dir, Now: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(e.logs, nil)),
		OnEvent: func(ev Event) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.events = append(e.events, ev)
		},
	}
	for _, o := range options {
		o(&cfg)
	}
	s, err := Open(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	e.Store = s
	return e
}

// count returns the rows of a table.
func (e *env) count(tb testing.TB, table string) int {
	tb.Helper()
	var n int
	if err := e.db.QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func validTicket() NewTicket {
	return NewTicket{
		Name:        "Jana Nováková",
		Company:     "Acme Ltd",
		Phone:       "+420 777 123 456",
		Email:       "jana@acme.example",
		Subject:     "The invoice export does not work",
		Description: "When I click the export button, nothing happens and the page shows an error. It worked before the upgrade.",
		Severity:    3,
	}
}

// confirmed confirms an address as staff would.
func (e *env) confirmed(tb testing.TB, email string) {
	tb.Helper()
	if _, err := e.ConfirmAddress(context.Background(), email, Confirmer{Via: ViaCLI, User: "test"}); err != nil {
		tb.Fatal(err)
	}
}
