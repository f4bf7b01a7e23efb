package events_test

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/internal/testlog"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/sqlitedb"
)

// With the database full for real, batch after batch of search events
// fails; the log gets one ERROR line for them, not one each, and a line
// when writing works again.
func TestFullDatabaseIsLoggedOnce(t *testing.T) {
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var logs testlog.Buffer
	s, err := events.Open(db, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	testportal.FillDatabase(t, db)
	long := strings.Repeat("export fails ", 500) // needs new pages
	for range 50 {
		s.RecordSearch(events.Search{Query: long, Lang: "en", Source: "page"})
		time.Sleep(2 * time.Millisecond) // several batches
	}
	waitFor := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !strings.Contains(logs.String(), what); {
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the log:\n%s", what, logs.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(`level=ERROR msg="recording events" err="events: write: storage unavailable: database or disk is full"`)
	s.Flush() // the last batch too has failed (its error is the point)
	testportal.FreeDatabase(t, db)
	s.RecordSearch(events.Search{Query: "export", Lang: "en", Source: "page"})
	waitFor(`level=INFO msg="recording events works again"`)
	if n := strings.Count(logs.String(), "level=ERROR"); n != 1 {
		t.Errorf("%d ERROR lines for 50 failed events:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "lost=50") {
		t.Errorf("the recovery line does not count the events lost:\n%s", logs.String())
	}
}
