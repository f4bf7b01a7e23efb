package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/internal/testlog"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/live"
	"github.com/orbitask/portal/ticketfeed"
	"github.com/orbitask/portal/tickets"
)

// content makes a content folder with one article and returns it.
func content(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "en"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "en", "backup.md"), []byte("---\ntitle: Back up and restore\n---\nBack up often.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k, err := kb.Load(dir)
	if err != nil || len(k.Problems) > 0 {
		t.Fatalf("kb: %v %v", err, k.Problems)
	}
	return dir
}

// Open wires the services together: a filing marks its deflection session
// filed, and a change reaches the hub through the feed. Close releases
// everything, so the data directory opens again.
func TestOpenWiresAndCloses(t *testing.T) {
	k, dir := content(t), t.TempDir()
	live := ticketfeed.Encoders{Customers: func(ev tickets.Event) (live.Message, error) {
		return live.Message{Seq: ev.Seq, Data: []byte(ev.Kind)}, nil
	}}
	a, err := Open(Config{Data: dir, Content: k, FeedInterval: time.Hour, Live: live, HashMemoryKiB: 64, HashTime: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	session, err := a.Deflect.Start(ctx, "en")
	if err != nil {
		t.Fatal(err)
	}
	tk, _, err := a.Tickets.File(ctx, tickets.NewTicket{Name: "Jana", Company: "Acme", Phone: "+420 601 555 010",
		Email: "jana@acme.example", Subject: "Export fails", Description: "The export stops.", Severity: 3, DeflectionSession: session})
	if err != nil {
		t.Fatal(err)
	}
	trail, err := a.Deflect.Trail(ctx, session)
	if err != nil || len(trail) == 0 || trail[len(trail)-1].Kind != deflect.KindFiled {
		t.Fatalf("trail %+v, %v: want the session filed with the ticket", trail, err)
	}
	sub := a.Hub.Subscribe(ticketfeed.TicketTopic(tk.Number))
	if _, err := a.Tickets.SetStatus(ctx, tk.Number, tickets.StatusOpen, tickets.ActorCLI); err != nil {
		t.Fatal(err)
	}
	for kind := ""; kind != "status"; { // the feed reads when the store commits: the interval is an hour
		select {
		case m := <-sub.C:
			kind = string(m.Data) // "filed" may come first
		case <-time.After(5 * time.Second):
			t.Fatal("the change did not reach the hub")
		}
	}
	if _, err := a.Staff.Users(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	again, err := Open(Config{Data: dir, Content: k})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer again.Close()
	if again.SearchStats.Rebuilt {
		t.Errorf("the index was rebuilt (%s); want it reused", again.SearchStats.Reason)
	}
	if _, err := again.Tickets.GetByNumber(ctx, tk.Number); err != nil {
		t.Fatal(err)
	}
}

func TestOpenNeedsDataAndContent(t *testing.T) {
	if _, err := Open(Config{Data: t.TempDir()}); err == nil {
		t.Error("Open without a content folder succeeded")
	}
}

// A data directory that has been used (a search index, attachments) but
// has no database any more opens with an empty one, and says so loudly,
// with the path; a new data directory opens quietly.
func TestOpenComplainsOfAMissingDatabaseInAUsedDirectory(t *testing.T) {
	k := content(t)
	const warning = "empty ticket database in a used data directory"
	open := func(dir string) string {
		t.Helper()
		var logs testlog.Buffer
		a, err := Open(Config{Data: dir, Content: k, Logger: slog.New(slog.NewTextHandler(&logs, nil)), HashMemoryKiB: 64, HashTime: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		return logs.String()
	}
	dir := t.TempDir()
	if logs := open(dir); strings.Contains(logs, warning) {
		t.Fatalf("a new data directory: %s", logs)
	}
	if logs := open(dir); strings.Contains(logs, warning) {
		t.Fatalf("a data directory with its database: %s", logs)
	}
	for _, f := range []string{"portal.db", "portal.db-wal", "portal.db-shm"} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	logs := open(dir)
	dbPath := filepath.Join(dir, "portal.db")
	if !strings.Contains(logs, "level=ERROR msg=\""+warning+"\" path="+dbPath+" found=\"search index\"") {
		t.Errorf("the database gone, the index left: logged\n%s", logs)
	}

	// Attachments alone are enough.
	dir = t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "attachments"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "attachments", "0123abcd"), []byte("log"), 0o600); err != nil {
		t.Fatal(err)
	}
	if logs := open(dir); !strings.Contains(logs, "found=\"1 attachment(s)\"") {
		t.Errorf("attachments without a database: logged\n%s", logs)
	}
}
