package web

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/live"
	"github.com/orbitask/portal/search"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/ticketfeed"
	"github.com/orbitask/portal/tickets"
)

// testServices opens every service on real files in a temporary directory,
// with a live feed running, as `portal serve` wires them.
type testServices struct {
	Services
	dir    string
	dbPath string
	db     *sqlitedb.DB
	feed   *ticketfeed.Feed
}

func newTestServices(t testing.TB, ix *search.Index) *testServices {
	t.Helper()
	dir := t.TempDir()
	ts := &testServices{dir: dir, dbPath: filepath.Join(dir, "portal.db")}
	db, err := sqlitedb.Open(ts.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ts.db = db
	ev, err := events.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ev.Close() })
	tracker, err := deflect.Open(deflect.Config{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tracker.Close() })
	hub := live.New(0)
	ts.feed = ticketfeed.New(ticketfeed.Config{Hub: hub, Interval: 20 * time.Millisecond,
		Encoders: LiveEncoders})
	store, err := tickets.Open(tickets.Config{DB: db, DataDir: dir, OnEvent: ts.feed.Committed, OnFiledTx: tracker.TicketFiled})
	if err != nil {
		t.Fatal(err)
	}
	st, err := staff.Open(staff.Config{DB: db, HashMemoryKiB: 64, HashTime: 1}) // cheap hashes: tests sign in often
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.feed.Start(store); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.feed.Stop)
	ts.Services = Services{Search: ix, Events: ev, Tickets: store, Deflect: tracker, Hub: hub, Staff: st}
	return ts
}
