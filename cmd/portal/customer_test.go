package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

// TestCustomerConfirm: `portal customer confirm EMAIL` moves the address's
// pending tickets up, prints them, records who (the command line and the
// user) in the tickets' history and the confirmed addresses; again, it
// says so and moves nothing; a bad address is refused with exit 2.
func TestCustomerConfirm(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "customers.yaml"),
		[]byte("organisations:\n  - name: Acme Ltd\n    domains: [acme.example]\n    plan: priority\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sqlitedb.Open(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := tickets.Open(tickets.Config{DB: db, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tk, _, err := ts.File(ctx, tickets.NewTicket{Name: "Jana", Company: "Acme", Phone: "+420 601 555 010",
		Email: "jana@acme.example", Subject: "Export fails", Description: "The export stops half way.", Severity: 3})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Plan != tickets.PlanBasic || tk.PendingPlan != tickets.PlanPriority {
		t.Fatalf("filed as %s pending %s", tk.Plan, tk.PendingPlan)
	}
	db.Close()

	t.Setenv("USER", "ops")
	code, out, errs := runCmd("customer", "confirm", "Jana@acme.example", "--data", dir)
	if code != 0 || !strings.Contains(out, "jana@acme.example: confirmed") || !strings.Contains(out, "#1001 Export fails: moved up to Priority, due ") {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	code, out, _ = runCmd("customer", "confirm", "jana@acme.example", "--data", dir)
	if code != 0 || !strings.Contains(out, "already confirmed (command line: ops") || !strings.Contains(out, "no ticket was waiting") {
		t.Fatalf("again: exit %d:\n%s", code, out)
	}
	if code, _, errs = runCmd("customer", "confirm", "not-an-address", "--data", dir); code != 2 || !strings.Contains(errs, "EMAIL") {
		t.Fatalf("bad address: exit %d: %s", code, errs)
	}
	if code, _, _ = runCmd("customer", "confirm", "--data", dir); code != 2 {
		t.Fatalf("no address: exit %d", code)
	}

	db, err = sqlitedb.Open(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ts, err = tickets.Open(tickets.Config{DB: db, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ts.GetByNumber(ctx, tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	last := got.History[len(got.History)-1]
	if got.Plan != tickets.PlanPriority || last.Kind != tickets.KindSLA || last.Actor != tickets.ActorCLI || last.Plan != tickets.PlanPriority {
		t.Fatalf("plan %s, last event %+v", got.Plan, last)
	}
	if ok, by, _, _ := ts.Confirmed(ctx, "jana@acme.example"); !ok || by != "command line: ops" {
		t.Fatalf("confirmed %v by %q", ok, by)
	}
}

// TestCustomerConfirmMailsTheCall: a confirmation that moves a ticket up to
// Priority after support's first reply raises the reply rule's call, and
// `portal customer confirm` writes the "we will call you" mail for it, as
// the console and the mailed link do.
func TestCustomerConfirmMailsTheCall(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "customers.yaml"),
		[]byte("organisations:\n  - name: Acme Ltd\n    domains: [acme.example]\n    plan: priority\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := sqlitedb.Open(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := tickets.Open(tickets.Config{DB: db, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tk, _, err := ts.File(ctx, tickets.NewTicket{Name: "Jana", Company: "Acme", Phone: "+420 601 555 010",
		Email: "jana@acme.example", Subject: "Export fails", Description: "The export stops half way.", Severity: 3, Lang: "de"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Reply(ctx, tk.Number, tickets.ActorSupport, "Bitte senden Sie das Log."); err != nil {
		t.Fatal(err)
	}
	db.Close()

	t.Setenv("PORTAL_PUBLIC_URL", "https://help.example")
	t.Setenv("PORTAL_MAIL_FROM", "Support <support@help.example>")
	if code, out, errs := runCmd("customer", "confirm", "jana@acme.example", "--data", dir); code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out, errs)
	}
	db, err = sqlitedb.Open(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var kind, lang, text string
	if err := db.QueryRow(`SELECT kind, lang, text_body FROM mail_outbox WHERE ticket = ? ORDER BY id DESC LIMIT 1`, tk.Number).
		Scan(&kind, &lang, &text); err != nil {
		t.Fatalf("no mail for #%d after the confirmation: %v", tk.Number, err)
	}
	if kind != "call" || lang != "de" || !strings.Contains(text, "+420 601 555 010") {
		t.Errorf("mail %s in %s, want the call mail in German with the phone:\n%s", kind, lang, text)
	}
}
