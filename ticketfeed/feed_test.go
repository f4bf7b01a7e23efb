package ticketfeed

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orbitask/portal/live"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

// encoder writes "SEQ KIND" and counts its calls.
type encoder struct{ calls atomic.Int64 }

func (e *encoder) encode(ev tickets.Event) (live.Message, error) {
	e.calls.Add(1)
	return live.Message{Seq: ev.Seq, Data: fmt.Appendf(nil, "%d %s", ev.Number, ev.Kind)}, nil
}

func openStore(t *testing.T, dir string, onEvent func(tickets.Event)) *tickets.Store {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := tickets.Open(tickets.Config{DB: db, DataDir: dir, OnEvent: onEvent})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func file(t *testing.T, s *tickets.Store) tickets.Ticket {
	t.Helper()
	tk, _, err := s.File(context.Background(), tickets.NewTicket{Name: "Jana", Company: "Acme", Phone: "+420 601 555 010",
		Email: "jana@acme.example", Subject: "Export fails", Description: "The export stops.", Severity: 3})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// next returns the data of sub's next message, failing after a while.
func next(t *testing.T, sub *live.Subscription) string {
	t.Helper()
	select {
	case m := <-sub.C:
		return string(m.Data)
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
		return ""
	}
}

// The store's commits reach each audience in commit order, promptly (the
// interval is an hour: only Committed makes the feed read), history
// excluded, internal events only for the agents, each encoded once.
func TestFeedPublishesCommits(t *testing.T) {
	hub := live.New(0)
	var customers, agents encoder
	f := New(Config{Hub: hub, Interval: time.Hour, Encoders: Encoders{Customers: customers.encode, Agents: agents.encode}})
	s := openStore(t, t.TempDir(), f.Committed)
	old := file(t, s) // history: never published
	if err := f.Start(s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)

	team, other := hub.Subscribe(AgentsTopic), hub.Subscribe(TicketTopic(old.Number))
	tk := file(t, s)
	if got, want := next(t, team), fmt.Sprintf("%d filed", tk.Number); got != want {
		t.Fatalf("the agents got %q, want %q", got, want)
	}
	ticket := hub.Subscribe(TicketTopic(tk.Number))
	ctx := context.Background()
	by := tickets.Staff{ID: 1, Name: "Alice"}
	if _, err := s.Post(ctx, tk.Number, by, tickets.AgentReply{Body: "It is the proxy.", Internal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Post(ctx, tk.Number, by, tickets.AgentReply{Body: "Please restart the export."}); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%d reply", tk.Number)
	if got := next(t, ticket); got != want {
		t.Errorf("the ticket's watchers got %q first, want %q (never the note)", got, want)
	}
	// The first reply to the customer opens the new ticket: a status event.
	if got, want := next(t, ticket), fmt.Sprintf("%d status", tk.Number); got != want {
		t.Errorf("the ticket's watchers got %q second, want %q", got, want)
	}
	for _, kind := range []string{"note", "reply", "status"} {
		if got, want := next(t, team), fmt.Sprintf("%d %s", tk.Number, kind); got != want {
			t.Errorf("the agents got %q, want %q", got, want)
		}
	}
	if n := customers.calls.Load(); n != 3 {
		t.Errorf("customers' encoder called %d times, want 3 (filed, reply, status; never the note)", n)
	}
	if n := agents.calls.Load(); n != 4 {
		t.Errorf("agents' encoder called %d times, want 4", n)
	}
	select {
	case m := <-other.C:
		t.Errorf("another ticket's watchers got %q", m.Data)
	default:
	}
}

// A change committed by another process (here: another store on the same
// file, as `portal ticket` opens it) arrives within the interval.
func TestFeedReadsOtherProcessesChanges(t *testing.T) {
	dir := t.TempDir()
	hub := live.New(0)
	var customers encoder
	f := New(Config{Hub: hub, Interval: 20 * time.Millisecond, Encoders: Encoders{Customers: customers.encode}})
	s := openStore(t, dir, f.Committed)
	tk := file(t, s)
	if err := f.Start(s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	sub := hub.Subscribe(TicketTopic(tk.Number))
	cli := openStore(t, dir, nil)
	if _, err := cli.SetStatus(context.Background(), tk.Number, tickets.StatusOpen, tickets.ActorCLI); err != nil {
		t.Fatal(err)
	}
	if got, want := next(t, sub), fmt.Sprintf("%d status", tk.Number); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestStopWithoutStart(t *testing.T) {
	New(Config{Hub: live.New(0)}).Stop()
}
