package tickets

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// writeCustomers writes customers.yaml from testdata and gives it a
// modification time that differs from any earlier version's.
func writeCustomers(tb testing.TB, dir, testdata string, mtime time.Time) {
	tb.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", testdata))
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(dir, "customers.yaml")
	if err := os.WriteFile(path, body, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		tb.Fatal(err)
	}
}

func TestPlanFromEmailDomain(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, func(dir string) { writeCustomers(t, dir, "customers.yaml", base) })
	ctx := context.Background()
	fileAs := func(email string) Ticket {
		t.Helper()
		e.confirmed(t, email)
		nt := validTicket()
		nt.Email = email
		tk, _, err := e.File(ctx, nt)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	for _, tt := range []struct {
		email, org string
		plan       Plan
	}{
		{"jana@acme.example", "Acme Ltd", PlanPriority},
		{"ops@ACME-Corp.example", "Acme Ltd", PlanPriority}, // second domain, any case
		{"boss@globex.example", "Globex", PlanIndividual},
		{"someone@initech.example", "Initech", PlanBasic},
		{"someone@gmail.example", "", PlanBasic},  // not listed: Basic
		{"jana@uk.acme.example", "", PlanBasic},   // a subdomain is another domain
		{"jana@acme.example.evil", "", PlanBasic}, // no suffix tricks
	} {
		tk := fileAs(tt.email)
		if tk.Plan != tt.plan || tk.Organisation != tt.org {
			t.Errorf("%s: plan %s, organisation %q; want %s, %q", tt.email, tk.Plan, tk.Organisation, tt.plan, tt.org)
		}
		got, err := e.GetByNumber(ctx, tk.Number)
		if err != nil || got.Plan != tt.plan || got.Organisation != tt.org {
			t.Errorf("%s read back: %s %q %v", tt.email, got.Plan, got.Organisation, err)
		}
		if (tt.plan == PlanIndividual) != tk.SLADue.IsZero() {
			t.Errorf("%s: SLADue %v for plan %s", tt.email, tk.SLADue, tt.plan)
		}
	}
}

func TestCustomersFileIsReReadWhenItChanges(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, func(dir string) { writeCustomers(t, dir, "customers.yaml", base) })
	ctx := context.Background()
	planOf := func(email string) Plan {
		t.Helper()
		e.confirmed(t, email)
		nt := validTicket()
		nt.Email = email
		tk, _, err := e.File(ctx, nt)
		if err != nil {
			t.Fatal(err)
		}
		return tk.Plan
	}
	if p := planOf("jana@acme.example"); p != PlanPriority {
		t.Fatalf("before the change: %s", p)
	}

	// Acme moves to individual terms; Initech is dropped.
	writeCustomers(t, e.dir, "customers-changed.yaml", base.Add(time.Hour))
	e.clock.Add(500 * time.Millisecond)
	if p := planOf("jana@acme.example"); p != PlanPriority {
		t.Errorf("within a second of the last check the file is not looked at; got %s", p)
	}
	e.clock.Add(time.Second)
	if p := planOf("jana@acme.example"); p != PlanIndividual {
		t.Errorf("after the change: %s, want individual", p)
	}

	// A malformed file keeps the last good version and is logged.
	for i, bad := range []string{"customers-bad-yaml.yaml", "customers-bad-plan.yaml", "customers-unknown-key.yaml", "customers-duplicate-domain.yaml"} {
		writeCustomers(t, e.dir, bad, base.Add(time.Duration(2+i)*time.Hour))
		e.clock.Add(2 * time.Second)
		if p := planOf("jana@acme.example"); p != PlanIndividual {
			t.Errorf("%s: plan %s, want the last good version's (individual)", bad, p)
		}
		if !strings.Contains(e.logs.String(), "customers file not loaded") {
			t.Errorf("%s: not logged; log:\n%s", bad, e.logs)
		}
	}

	// Fixed again: read.
	writeCustomers(t, e.dir, "customers.yaml", base.Add(10*time.Hour))
	e.clock.Add(2 * time.Second)
	if p := planOf("jana@acme.example"); p != PlanPriority {
		t.Errorf("after the fix: %s, want priority", p)
	}

	// Removed: everyone on Basic.
	if err := os.Remove(filepath.Join(e.dir, "customers.yaml")); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Second)
	if p := planOf("jana@acme.example"); p != PlanBasic {
		t.Errorf("after removal: %s, want basic", p)
	}
}

func TestMalformedCustomersFileFailsOpen(t *testing.T) {
	dir := t.TempDir()
	writeCustomers(t, dir, "customers-bad-plan.yaml", time.Now())
	db, err := sqlitedb.Open(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = Open(Config{DB: db, DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), `plan "gold"`) {
		t.Errorf("Open with a bad customers.yaml: %v, want an error naming the plan", err)
	}
}
