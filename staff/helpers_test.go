package staff

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/orbitask/portal/internal/testclock"
	"github.com/orbitask/portal/sqlitedb"
)

// testParams keep argon2 cheap in tests; production uses defaultParams.
const (
	testMemoryKiB = 64
	testTime      = 1
)

// env is a store on a real SQLite file in a temporary directory.
type env struct {
	*Store
	db     *sqlitedb.DB
	dbPath string
	clock  *testclock.Clock
	ctx    context.Context
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	e := &env{dbPath: filepath.Join(tb.TempDir(), "portal.db"), ctx: context.Background(),
		clock: testclock.New(time.Date(2026, time.March, 4, 10, 0, 0, 0, time.UTC))}
	db, err := sqlitedb.Open(e.dbPath)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	e.db = db
	s, err := Open(Config{DB: db, Now: e.clock.Now, HashMemoryKiB: testMemoryKiB, HashTime: testTime})
	if err != nil {
		tb.Fatal(err)
	}
	e.Store = s
	return e
}

// addUser adds an account and gives it a known password.
func (e *env) addUser(tb testing.TB, email string, role Role) (User, string) {
	tb.Helper()
	u, once, err := e.AddUser(e.ctx, email, "Test "+email, role, "test")
	if err != nil {
		tb.Fatal(err)
	}
	return u, once
}

// login logs in and fails the test on error.
func (e *env) login(tb testing.TB, email, password string) Session {
	tb.Helper()
	s, err := e.Login(e.ctx, Attempt{Email: email, Password: password, IP: "192.0.2.1", UserAgent: "test-agent"})
	if err != nil {
		tb.Fatalf("login %s: %v", email, err)
	}
	return s
}

func (e *env) count(tb testing.TB, query string, args ...any) int {
	tb.Helper()
	var n int
	if err := e.db.QueryRow(query, args...).Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

func wantErr(tb testing.TB, err, target error) {
	tb.Helper()
	if !errors.Is(err, target) {
		tb.Fatalf("err = %v, want %v", err, target)
	}
}

func fieldErrors(tb testing.TB, err error) map[string]string {
	tb.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		tb.Fatalf("err = %v, want a *ValidationError", err)
	}
	return ve.Messages()
}

// fieldCodes are the codes of a *ValidationError by field.
func fieldCodes(tb testing.TB, err error) map[string]string {
	tb.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		tb.Fatalf("err = %v, want a *ValidationError", err)
	}
	codes := map[string]string{}
	for f, p := range ve.Fields {
		codes[f] = p.Code
	}
	return codes
}
