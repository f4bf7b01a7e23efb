package tickets

import (
	"context"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// A database made by the first schema keeps its tickets, events and their
// sequence numbers when the agent console's migration runs.
func TestMigrationFromTheFirstSchemaKeepsTickets(t *testing.T) {
	dir := t.TempDir()
	db, err := sqlitedb.Open(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	first, err := migrations.ReadFile("migrations/001_tickets.sql")
	if err != nil {
		t.Fatal(err)
	}
	old := fstest.MapFS{"m/001_tickets.sql": {Data: first}}
	if err := db.Migrate("tickets", old, "m"); err != nil {
		t.Fatal(err)
	}
	// A severity-2 ticket waiting on the customer, as the first build stored it.
	for _, q := range []string{
		`INSERT INTO tickets (id, number, token_hash, status, plan, severity, subject, lang, answer_in_english, name, company,
			phone, email, created_at, updated_at, sla_due, call_required)
			VALUES (1, 1001, zeroblob(32), 'waiting', 'priority', 2, 'Old', 'en', 0, 'N', 'C', '+1 555', 'n@acme.example',
			'2026-03-04T09:00:00Z', '2026-03-04T10:00:00.5Z', '2026-03-05T16:00:00Z', 1)`,
		`INSERT INTO ticket_messages (id, ticket_id, author, body, created_at) VALUES (1, 1, 'customer', 'Help', '2026-03-04T09:00:00Z')`,
		`INSERT INTO ticket_events (id, ticket_id, kind, actor, data, at) VALUES (5, 1, 'filed', 'customer', '{"status":"new","sla_due":"2026-03-05T16:00:00Z"}', '2026-03-04T09:00:00Z')`,
		`INSERT INTO ticket_events (id, ticket_id, kind, actor, message_id, data, at) VALUES (9, 1, 'reply', 'customer', 1, '{}', '2026-03-04T09:00:00Z')`,
	} {
		if _, err := db.Raw().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(Config{DB: db, DataDir: dir, Now: func() time.Time { return time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := s.GetByNumber(context.Background(), 1001)
	if err != nil {
		t.Fatal(err)
	}
	// Every time is in the one layout now, the SLA due time inside the
	// event's data too.
	var odd int
	if err := db.QueryRow(`SELECT
		(SELECT count(*) FROM tickets WHERE length(created_at) <> 24 OR length(updated_at) <> 24 OR length(sla_due) <> 24 OR length(paused_at) <> 24) +
		(SELECT count(*) FROM ticket_messages WHERE length(created_at) <> 24) +
		(SELECT count(*) FROM ticket_events WHERE length(at) <> 24 OR length(json_extract(data, '$.sla_due')) <> 24)`).Scan(&odd); err != nil || odd != 0 {
		t.Errorf("%d rows with times in another layout (%v)", odd, err)
	}
	var updated string
	db.QueryRow(`SELECT updated_at FROM tickets`).Scan(&updated)
	if updated != "2026-03-04T10:00:00.500Z" {
		t.Errorf("updated_at = %q", updated)
	}
	if tk.CallReason != callReasonSeverity || tk.CallAfterReplies != 1 || tk.SLAPausedAt.IsZero() {
		t.Errorf("migrated ticket: call reason %q, call after %d, paused at %s", tk.CallReason, tk.CallAfterReplies, tk.SLAPausedAt)
	}
	if len(tk.History) != 2 || tk.History[0].Seq != 5 || tk.History[1].Seq != 9 || tk.History[1].Message == nil {
		t.Fatalf("migrated history %+v", tk.History)
	}
	// New events continue after the old ids.
	ev, err := s.AgentStatus(context.Background(), 1001, StatusOpen, Staff{ID: 1, Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Seq <= 9 {
		t.Fatalf("new event seq %d, want > 9", ev.Seq)
	}
	q, err := s.Queue(context.Background(), QueueFilter{})
	if err != nil || len(q.Items) != 1 || q.Items[0].Number != 1001 {
		t.Fatalf("queue after migration: %+v, %v", q.Items, err)
	}
	if c := q.Counts; c.Open != 1 || c.Status[StatusOpen] != 1 || c.Plan[PlanPriority] != 1 || c.CallRequired != 1 {
		t.Fatalf("counts after migration: %+v", c)
	}
}
