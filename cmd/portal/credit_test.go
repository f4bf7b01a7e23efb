package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/credit"
	"github.com/orbitask/portal/sqlitedb"
)

func TestCreditCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("USER", "ops")
	for _, tt := range []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"credit", "topup", "--hours", "8", "--ref", "INV-1"}, "--org: required"},
		{[]string{"credit", "topup", "--org", "Acme Ltd", "--ref", "INV-1"}, "--hours: required"},
		{[]string{"credit", "topup", "--org", "Acme Ltd", "--hours", "-1", "--ref", "INV-1"}, "--hours: must be a number"},
		{[]string{"credit", "topup", "--org", "Acme Ltd", "--hours", "eight", "--ref", "INV-1"}, "--hours: must be a number"},
		{[]string{"credit", "topup", "--org", "Acme Ltd", "--hours", "8"}, "--ref: required"},
		{[]string{"credit", "topup", "--org", "Acme Ltd", "--hours", "7.5", "--ref", "INV-1"}, "--hours: the first top-up must be at least 480 minutes"},
		{[]string{"credit", "balance"}, "--org: required"},
		{[]string{"credit", "refund", "--org", "Acme Ltd"}, `unknown command "refund"`},
		{[]string{"credit"}, "usage: portal credit topup"},
	} {
		code, out, errs := runCmd(append(tt.args, "--data", dir)...)
		if code != 2 || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %q", tt.args, code, out, errs, tt.want)
		}
	}
	code, out, errs := runCmd("credit", "topup", "--org", "Acme Ltd", "--hours", "8", "--ref", "INV-2026-001", "--data", dir)
	if code != 0 || out != "Acme Ltd: balance 480 min (8 h), booked 0 min\n" {
		t.Fatalf("topup: exit %d %q %q", code, out, errs)
	}
	code, out, errs = runCmd("credit", "topup", "--org", "Acme Ltd", "--hours", "-0.17", "--ref", "x", "--data", dir)
	if code != 2 {
		t.Fatalf("negative hours accepted: %d %q %q", code, out, errs)
	}
	runCmd("credit", "topup", "--org", "Acme Ltd", "--hours", "0.17", "--ref", "INV, \"2\"", "--data", dir) // 10.2 min → 10
	code, out, errs = runCmd("credit", "balance", "--org", "Acme Ltd", "--data", dir)
	if code != 0 || out != "Acme Ltd: balance 490 min (8 h 10 min), booked 0 min\n" {
		t.Fatalf("balance: exit %d %q %q", code, out, errs)
	}
	code, out, _ = runCmd("credit", "ledger", "--org", "Acme Ltd", "--csv", "--data", dir)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || lines[0] != "id,at,org,kind,minutes,by,ref,reason,session" ||
		!strings.HasSuffix(lines[1], ",Acme Ltd,topup,480,cli:ops,INV-2026-001,,") ||
		!strings.HasSuffix(lines[2], `,Acme Ltd,topup,10,cli:ops,"INV, ""2""",,`) {
		t.Fatalf("csv: exit %d\n%s", code, out)
	}
	code, out, _ = runCmd("credit", "ledger", "--org", "Acme Ltd", "--data", dir)
	if code != 0 || !strings.Contains(out, "topup") || !strings.Contains(out, "+480 min     480 min  cli:ops") || !strings.Contains(out, "490 min") {
		t.Fatalf("ledger: exit %d\n%s", code, out)
	}
}

func TestCreditBalanceShowsDebt(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("USER", "ops")
	db, err := sqlitedb.Open(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	clock := func() time.Time { return now }
	st, err := credit.Open(credit.Config{DB: db, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := st.TopUp(ctx, "Acme Ltd", 480, "INV-1", "ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Correct(ctx, "Acme Ltd", -450, "refund", "ops"); err != nil {
		t.Fatal(err)
	}
	ses, err := st.Book(ctx, "Acme Ltd", 1, now.Add(2*time.Hour), 30, "tech", "ops")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Cancel(ctx, ses.ID, "ops"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	code, out, errs := runCmd("credit", "balance", "--org", "Acme Ltd", "--data", dir)
	if code != 0 || out != "Acme Ltd: balance 0 min (0 min), booked 0 min, debt 90 min\n" {
		t.Fatalf("balance: exit %d %q %q", code, out, errs)
	}
	code, out, errs = runCmd("credit", "topup", "--org", "Acme Ltd", "--hours", "8", "--ref", "INV-2", "--data", dir)
	if code != 0 || out != "Acme Ltd: balance 390 min (6 h 30 min), booked 0 min\n" {
		t.Fatalf("topup: exit %d %q %q", code, out, errs)
	}
	code, out, _ = runCmd("credit", "ledger", "--org", "Acme Ltd", "--data", dir)
	if code != 0 || !strings.Contains(out, "-90 min") || !strings.Contains(out, "session 1 debt settled") {
		t.Fatalf("ledger:\n%s", out)
	}
}
