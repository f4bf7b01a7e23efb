package tickets

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// TestRevokeAccess: revoking ends every link and the ticket's own token in
// one transaction, hands the hook (the mail) a new token that opens the
// ticket, and the caller none; a second ask with an ended token within
// RevokeGrace changes nothing, after it or with a wrong token it is
// ErrNotFound; a hook that fails undoes it all; without a hook, refused.
func TestRevokeAccess(t *testing.T) {
	var mailed []string
	fail := false
	e := newEnv(t, nil, func(c *Config) {
		c.NotifyNewLinkTx = func(_ context.Context, _ *sqlitedb.Tx, tk Ticket, token string) error {
			if fail {
				return errors.New("outbox refuses")
			}
			if tk.Email == "" {
				t.Error("the hook got no ticket")
			}
			mailed = append(mailed, token)
			return nil
		}
	})
	ctx := context.Background()
	tk, own, err := e.File(ctx, validTicket())
	if err != nil {
		t.Fatal(err)
	}
	link, _ := e.MintLink(ctx, tk.Number, "reply")
	if _, err := e.RevokeAccess(ctx, tk.Number, "wrong"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a wrong token: %v", err)
	}
	fail = true
	if _, err := e.RevokeAccess(ctx, tk.Number, link); err == nil {
		t.Fatal("a failing mail did not fail the revocation")
	}
	fail = false
	for _, tok := range []string{own, link} {
		if _, err := e.Get(ctx, tk.Number, tok); err != nil {
			t.Fatalf("a failed revocation ended a token: %v", err)
		}
	}
	r, err := e.RevokeAccess(ctx, tk.Number, link)
	if err != nil || r.Already || r.Email != tk.Email || len(mailed) != 1 {
		t.Fatalf("revoke: %+v, %v, %d mailed", r, err, len(mailed))
	}
	for _, tok := range []string{own, link} {
		if _, err := e.Get(ctx, tk.Number, tok); !errors.Is(err, ErrNotFound) {
			t.Errorf("a token still opens the ticket after revoking: %v", err)
		}
	}
	if _, err := e.Get(ctx, tk.Number, mailed[0]); err != nil {
		t.Fatalf("the mailed token does not open the ticket: %v", err)
	}
	if r, err := e.RevokeAccess(ctx, tk.Number, own); err != nil || !r.Already || len(mailed) != 1 {
		t.Fatalf("asked again with the ended token: %+v, %v, %d mailed", r, err, len(mailed))
	}
	e.clock.Add(RevokeGrace + time.Second)
	if _, err := e.RevokeAccess(ctx, tk.Number, own); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an ended token after the grace: %v", err)
	}
	if _, err := e.Get(ctx, tk.Number, mailed[0]); err != nil {
		t.Fatalf("asking with ended tokens changed the token: %v", err)
	}

	plain := newEnv(t, nil)
	tk, own, err = plain.File(ctx, validTicket())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.RevokeAccess(ctx, tk.Number, own); !errors.Is(err, ErrNoLinkMail) {
		t.Fatalf("without a mail hook: %v", err)
	}
	if _, err := plain.Get(ctx, tk.Number, own); err != nil {
		t.Fatalf("a refused revocation ended the token: %v", err)
	}
}
