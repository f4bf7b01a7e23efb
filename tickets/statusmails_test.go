package tickets

import (
	"context"
	"errors"
	"testing"
)

func TestStatusMailsPreference(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	tk, _, err := e.File(ctx, validTicket())
	if err != nil {
		t.Fatal(err)
	}
	if !tk.StatusMails {
		t.Fatal("a new ticket's customer should receive status mails")
	}
	check := func(want bool) {
		t.Helper()
		got, err := e.GetByNumber(ctx, tk.Number)
		if err != nil || got.StatusMails != want {
			t.Fatalf("StatusMails = %v, %v; want %v", got.StatusMails, err, want)
		}
	}
	check(true)
	if err := e.SetStatusMails(ctx, tk.Number, false); err != nil {
		t.Fatal(err)
	}
	check(false)
	if err := e.SetStatusMails(ctx, tk.Number, true); err != nil {
		t.Fatal(err)
	}
	check(true)
	if err := e.SetStatusMails(ctx, 999999, false); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a ticket that does not exist: %v", err)
	}
}
