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
