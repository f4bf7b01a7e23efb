package tickets

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

func TestLinkTokensOpenTheirTicketUntilExpiredOrRevoked(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	tk, own, err := e.File(ctx, validTicket())
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := e.File(ctx, validTicket())
	if err != nil {
		t.Fatal(err)
	}
	link, err := e.MintLink(ctx, tk.Number, "reply")
	if err != nil {
		t.Fatal(err)
	}
	if link == own || len(link) < 40 {
		t.Fatalf("link token %q: want a fresh random token", link)
	}
	if _, err := e.Get(ctx, tk.Number, link); err != nil {
		t.Fatalf("the link does not open its ticket: %v", err)
	}
	if _, err := e.Get(ctx, other.Number, link); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the link opens another ticket: %v", err)
	}
	var stored []byte
	if err := e.db.QueryRow(`SELECT hash FROM ticket_links`).Scan(&stored); err != nil || len(stored) != 32 || string(stored) == link {
		t.Fatalf("stored %x, %v: want only the 32-byte hash", stored, err)
	}
	if _, err := e.MintLink(ctx, 999999, "reply"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a link for a ticket that does not exist: %v", err)
	}

	// Expiry: valid on its last day, not after.
	e.clock.Add(LinkTTL - time.Minute)
	if _, err := e.Get(ctx, tk.Number, link); err != nil {
		t.Fatalf("the link expired early: %v", err)
	}
	e.clock.Add(2 * time.Minute)
	if _, err := e.Get(ctx, tk.Number, link); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an expired link still opens the ticket: %v", err)
	}

	// Revoking ends every valid link, and only links.
	a, _ := e.MintLink(ctx, tk.Number, "status")
	b, _ := e.MintLink(ctx, tk.Number, "find")
	keep, _ := e.MintLink(ctx, other.Number, "reply")
	n, err := e.RevokeLinks(ctx, tk.Number)
	if err != nil || n != 2 {
		t.Fatalf("revoked %d, %v; want 2 (the expired one is not counted)", n, err)
	}
	for _, l := range []string{a, b} {
		if _, err := e.Get(ctx, tk.Number, l); !errors.Is(err, ErrNotFound) {
			t.Fatalf("a revoked link still opens the ticket: %v", err)
		}
	}
	if _, err := e.Get(ctx, tk.Number, own); err != nil {
		t.Fatalf("revoking links closed the ticket's own token: %v", err)
	}
	if _, err := e.Get(ctx, other.Number, keep); err != nil {
		t.Fatalf("revoking one ticket's links revoked another's: %v", err)
	}
}

func TestNotifyTxSeesTheChangeAndCanUndoIt(t *testing.T) {
	var (
		seen   []Event
		status Status
		fail   error
	)
	var store *Store
	e := newEnv(t, nil, func(c *Config) {
		c.NotifyTx = func(ctx context.Context, tx *sqlitedb.Tx, number int, evs []Event) error {
			seen = append([]Event(nil), evs...)
			tk, err := store.GetTx(ctx, tx, number)
			if err != nil {
				return err
			}
			status = tk.Status
			return fail
		}
	})
	store = e.Store
	ctx := context.Background()
	tk, _, err := e.File(ctx, validTicket())
	if err != nil {
		t.Fatal(err)
	}
	agentA := Staff{ID: 1, Name: "Eva"}
	if _, err := e.Post(ctx, tk.Number, agentA, AgentReply{Body: "Could you send the log?", Status: StatusWaiting}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0].Kind != KindReply || seen[1].Kind != KindStatus || seen[1].Status != StatusWaiting {
		t.Fatalf("the hook saw %+v; want the reply and the status change", seen)
	}
	if status != StatusWaiting {
		t.Fatalf("GetTx in the hook read status %q; want the change's own %q", status, StatusWaiting)
	}

	fail = errors.New("outbox full")
	if _, err := e.AgentStatus(ctx, tk.Number, StatusSolved, agentA); err == nil {
		t.Fatal("a failing hook did not fail the change")
	}
	got, err := e.GetByNumber(ctx, tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusWaiting {
		t.Fatalf("status %q after a failed hook; want the change undone (waiting)", got.Status)
	}
}
