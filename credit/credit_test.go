package credit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func open(t testing.TB, now time.Time) (*Store, *clock) {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	c := &clock{t: now}
	s, err := Open(Config{DB: db, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s, c
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday

func mustBalance(t *testing.T, s *Store, org string) Balance {
	t.Helper()
	b, err := s.Balance(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func topUp(t *testing.T, s *Store, org string, minutes int) {
	t.Helper()
	if _, err := s.TopUp(ctx, org, minutes, "INV-1", "cli: jana"); err != nil {
		t.Fatal(err)
	}
}

func TestRound(t *testing.T) {
	for _, tt := range []struct{ in, want int }{{0, 0}, {1, 0}, {4, 0}, {5, 10}, {9, 10}, {10, 10}, {11, 10}, {14, 10}, {15, 20}, {MaxMinutes, MaxMinutes}} {
		got, err := Round(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Round(%d) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []int{-1, -10, MaxMinutes + 1, 1 << 62} {
		var fe *fields.Error
		if _, err := Round(in); !errors.As(err, &fe) || !fe.Has("minutes") {
			t.Errorf("Round(%d) = %v, want a minutes error", in, err)
		}
	}
}

func TestHoursMinutes(t *testing.T) {
	for in, want := range map[int]string{0: "0 min", 470: "7 h 50 min", 120: "2 h", 50: "50 min", -130: "-2 h 10 min"} {
		if got := HoursMinutes(in); got != want {
			t.Errorf("HoursMinutes(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestTopUpFirstAtLeastOneManDay(t *testing.T) {
	s, _ := open(t, t0)
	var fe *fields.Error
	if _, err := s.TopUp(ctx, "Acme Ltd", 470, "INV-1", "cli: jana"); !errors.As(err, &fe) || fe.Fields["minutes"].Code != fields.CreditFirstTopUp {
		t.Fatalf("first top-up of 470 min: %v, want %s", err, fields.CreditFirstTopUp)
	}
	if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 0 {
		t.Fatalf("refused top-up stored: %+v", b)
	}
	topUp(t, s, "Acme Ltd", 480)
	topUp(t, s, " Acme Ltd ", 64) // later top-ups may be small; rounded to 60; the name trimmed
	if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 540 || b.Available != 540 {
		t.Fatalf("balance %+v, want 540", b)
	}
	if _, err := s.TopUp(ctx, "Acme Ltd", 60, "INV\n2", "cli: jana"); !errors.As(err, &fe) || fe.Fields["ref"].Code != fields.SingleLine {
		t.Fatalf("top-up with a two-line ref: %v", err)
	}
	if _, err := s.TopUp(ctx, "Acme Ltd", 60, "", "cli: jana"); !errors.As(err, &fe) || !fe.Has("ref") {
		t.Fatalf("top-up without ref: %v", err)
	}
	if _, err := s.TopUp(ctx, "", 600, "INV", "cli: jana"); !errors.As(err, &fe) || !fe.Has("org") {
		t.Fatalf("top-up without org: %v", err)
	}
	es, err := s.Ledger(ctx, "Acme Ltd")
	if err != nil || len(es) != 2 || es[0].Kind != "topup" || es[0].Ref != "INV-1" || es[0].By != "cli: jana" || !es[0].At.Equal(t0) {
		t.Fatalf("ledger %+v, %v", es, err)
	}
}

func TestLedgerAppendOnly(t *testing.T) {
	s, _ := open(t, t0)
	topUp(t, s, "Acme Ltd", 480)
	if _, err := s.db.Raw().Exec(`UPDATE credit_entries SET minutes = 9990`); err == nil {
		t.Error("UPDATE of the ledger succeeded")
	}
	if _, err := s.db.Raw().Exec(`DELETE FROM credit_entries`); err == nil {
		t.Error("DELETE of the ledger succeeded")
	}
	if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 480 {
		t.Fatalf("balance %d after refused edits", b.Balance)
	}
}

func TestCorrection(t *testing.T) {
	s, _ := open(t, t0)
	topUp(t, s, "Acme Ltd", 480)
	var fe *fields.Error
	if _, err := s.Correct(ctx, "Acme Ltd", -500, "typo", "cli: jana"); !errors.As(err, &fe) || fe.Fields["minutes"].Code != fields.CreditBelowZero {
		t.Fatalf("correction below zero: %v", err)
	}
	if _, err := s.Correct(ctx, "Acme Ltd", -61, "", "cli: jana"); !errors.As(err, &fe) || !fe.Has("reason") {
		t.Fatalf("correction without reason: %v", err)
	}
	e, err := s.Correct(ctx, "Acme Ltd", -61, "invoice INV-1 was for 7 h", "cli: jana")
	if err != nil || e.Minutes != -60 {
		t.Fatalf("correction %+v, %v", e, err)
	}
	if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 420 {
		t.Fatalf("balance %d, want 420", b.Balance)
	}
}

func TestBookNeedsCredit(t *testing.T) {
	s, _ := open(t, t0)
	start := t0.Add(48 * time.Hour)
	var need *NeedTopUp
	if _, err := s.Book(ctx, "Acme Ltd", 1001, start, 60, "tech", "agent"); !errors.As(err, &need) || need.Needed != 60 || need.Balance != 0 || err.Error() != "top up needed" {
		t.Fatalf("booking without credit: %v %+v", err, need)
	}
	topUp(t, s, "Acme Ltd", 480)
	a, err := s.Book(ctx, "Acme Ltd", 1001, start, 301, "tech", "agent")
	if err != nil || a.Estimate != 300 || a.Status != Booked {
		t.Fatalf("book: %+v %v", a, err)
	}
	if _, err := s.Book(ctx, "Acme Ltd", 1002, start, 240, "tech", "agent"); !errors.As(err, &need) || need.Needed != 60 || need.Balance != 480 || need.Booked != 300 {
		t.Fatalf("over-booking: %v %+v", err, need)
	}
	if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 480 || b.Booked != 300 || b.Available != 180 {
		t.Fatalf("balance %+v", b)
	}
	var fe *fields.Error
	if _, err := s.Book(ctx, "Acme Ltd", 1001, t0.Add(-time.Minute), 60, "tech", "agent"); !errors.As(err, &fe) || !fe.Has("start") {
		t.Fatalf("past start: %v", err)
	}
	if _, err := s.Book(ctx, "Acme Ltd", 1001, start, 4, "tech", "agent"); !errors.As(err, &fe) || !fe.Has("estimate_minutes") {
		t.Fatalf("zero estimate: %v", err)
	}
}

// Fifty agents booking at once against 480 minutes of credit: exactly eight
// hour-long sessions get through, and the balance is never over-committed.
func TestConcurrentBookings(t *testing.T) {
	s, _ := open(t, t0)
	topUp(t, s, "Acme Ltd", 480)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Book(ctx, "Acme Ltd", int64(1000+i), t0.Add(72*time.Hour), 60, "tech", fmt.Sprint("agent", i))
			var need *NeedTopUp
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.As(err, &need):
				refused++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 8 || refused != 42 {
		t.Fatalf("%d booked, %d refused; want 8 and 42", ok, refused)
	}
	if b := mustBalance(t, s, "Acme Ltd"); b.Booked != 480 || b.Available != 0 {
		t.Fatalf("balance %+v", b)
	}
	// Charging and confirming every session keeps the ledger at zero.
	ses, _ := s.Sessions(ctx, "Acme Ltd")
	s.cfg.Now = func() time.Time { return t0.Add(80 * time.Hour) }
	for _, x := range ses {
		if _, err := s.Charge(ctx, x.ID, 60, "tech"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Confirm(ctx, x.ID, "customer"); err != nil {
			t.Fatal(err)
		}
	}
	if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 0 || b.Booked != 0 {
		t.Fatalf("after charges %+v", b)
	}
}

func TestPostponeBoundary(t *testing.T) {
	prague, err := time.LoadLocation("Europe/Prague")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		start  time.Time
		notice time.Duration // elapsed time before the start when postponing
		fee    int
	}{
		{"exactly 24 h", t0.Add(72 * time.Hour), 24 * time.Hour, 0},
		{"23 h 59 min", t0.Add(72 * time.Hour), 24*time.Hour - time.Minute, 120},
		{"one minute", t0.Add(72 * time.Hour), time.Minute, 120},
		// Summer time ends on 25 October 2026 at 03:00 in Prague: from
		// 26 Oct 09:00 back to 25 Oct 09:00 on the clock is 25 hours of
		// elapsed time, so postponing at the same wall-clock time the day
		// before is free; 24 h elapsed is 25 Oct 10:00 on the clock.
		{"clock back, same wall time", time.Date(2026, 10, 26, 9, 0, 0, 0, prague), 25 * time.Hour, 0},
		{"clock back, 24 h elapsed", time.Date(2026, 10, 26, 9, 0, 0, 0, prague), 24 * time.Hour, 0},
		{"clock back, 23 h 59 elapsed", time.Date(2026, 10, 26, 9, 0, 0, 0, prague), 24*time.Hour - time.Minute, 120},
		// Summer time begins on 29 March 2026: from 30 Mar 09:00 back to
		// 29 Mar 09:00 on the clock is only 23 hours: not free.
		{"clock forward, same wall time", time.Date(2026, 3, 30, 9, 0, 0, 0, prague), 23 * time.Hour, 120},
		{"clock forward, 24 h elapsed", time.Date(2026, 3, 30, 9, 0, 0, 0, prague), 24 * time.Hour, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now := tt.start.Add(-tt.notice - 7*24*time.Hour)
			s, c := open(t, now)
			topUp(t, s, "Acme Ltd", 480)
			ses, err := s.Book(ctx, "Acme Ltd", 1001, tt.start, 60, "tech", "agent")
			if err != nil {
				t.Fatal(err)
			}
			c.Set(tt.start.Add(-tt.notice))
			got, fee, err := s.Postpone(ctx, ses.ID, tt.start.Add(7*24*time.Hour), "agent")
			if err != nil || fee.Charged != tt.fee || fee.Debt != 0 {
				t.Fatalf("postpone: %+v %v, want fee %d", fee, err, tt.fee)
			}
			if !got.Start.Equal(tt.start.Add(7 * 24 * time.Hour)) {
				t.Errorf("start %v", got.Start)
			}
			if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 480-tt.fee || b.Booked != 60 {
				t.Errorf("balance %+v", b)
			}
		})
	}
	// The zone a start is given in only affects display: the same instant
	// in UTC and in Prague is stored alike.
	s, _ := open(t, t0)
	topUp(t, s, "Acme Ltd", 480)
	a, _ := s.Book(ctx, "Acme Ltd", 1, time.Date(2026, 3, 5, 10, 0, 0, 0, prague), 60, "tech", "agent")
	b, _ := s.Book(ctx, "Acme Ltd", 1, time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC), 60, "tech", "agent")
	ra, _ := s.Session(ctx, a.ID)
	rb, _ := s.Session(ctx, b.ID)
	if !ra.Start.Equal(rb.Start) || ra.Start.Location() != time.UTC {
		t.Errorf("starts %v and %v", ra.Start, rb.Start)
	}
}

func TestCancelLateFeeAndDebt(t *testing.T) {
	s, c := open(t, t0)
	topUp(t, s, "Acme Ltd", 480)
	start := t0.Add(72 * time.Hour)
	a, _ := s.Book(ctx, "Acme Ltd", 1, start, 60, "tech", "agent")
	b, _ := s.Book(ctx, "Acme Ltd", 2, start, 60, "tech", "agent")
	_, fee, err := s.Cancel(ctx, a.ID, "agent")
	if err != nil || fee.Charged != 0 {
		t.Fatalf("early cancel: %+v %v", fee, err)
	}
	if _, _, err := s.Cancel(ctx, a.ID, "agent"); err == nil {
		t.Fatal("cancelled twice")
	}
	if _, err := s.Correct(ctx, "Acme Ltd", -390, "refund", "cli: jana"); err != nil {
		t.Fatal(err)
	}
	c.Set(start.Add(-time.Hour))
	got, fee, err := s.Cancel(ctx, b.ID, "customer")
	if err != nil || fee.Charged != 90 || fee.Debt != 30 || got.Debt != 30 || got.Status != Cancelled {
		t.Fatalf("late cancel with 90 min left: %+v %+v %v", got, fee, err)
	}
	if bal := mustBalance(t, s, "Acme Ltd"); bal.Balance != 0 || bal.Booked != 0 {
		t.Fatalf("balance %+v", bal)
	}
	es, _ := s.Ledger(ctx, "Acme Ltd")
	if last := es[len(es)-1]; last.Kind != "fee" || last.Minutes != -90 || last.SessionID != b.ID || last.By != "customer" {
		t.Fatalf("fee entry %+v", last)
	}
}

func TestChargeConfirmDispute(t *testing.T) {
	s, c := open(t, t0)
	topUp(t, s, "Acme Ltd", 480)
	start := t0.Add(48 * time.Hour)
	a, _ := s.Book(ctx, "Acme Ltd", 1, start, 60, "tech", "agent")
	var fe *fields.Error
	if _, err := s.Charge(ctx, a.ID, 70, "tech"); !errors.As(err, &fe) || fe.Fields["session"].Code != fields.CreditNotStarted {
		t.Fatalf("charge before start: %v", err)
	}
	c.Set(start.Add(2 * time.Hour))
	got, err := s.Charge(ctx, a.ID, 94, "tech")
	if err != nil || got.Status != Proposed || got.Charge != 90 {
		t.Fatalf("charge: %+v %v", got, err)
	}
	if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 480 || b.Booked != 90 {
		t.Fatalf("proposed charge not reserved: %+v", b)
	}
	if _, err := s.Charge(ctx, a.ID, 90, "tech"); err == nil {
		t.Fatal("charged twice")
	}
	if got, err = s.Confirm(ctx, a.ID, "customer"); err != nil || got.Status != Confirmed {
		t.Fatalf("confirm: %+v %v", got, err)
	}
	if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 390 || b.Booked != 0 {
		t.Fatalf("after confirm %+v", b)
	}
	if _, err := s.Confirm(ctx, a.ID, "customer"); err == nil {
		t.Fatal("confirmed twice")
	}

	d, _ := s.Book(ctx, "Acme Ltd", 2, start.Add(24*time.Hour), 60, "tech", "agent")
	c.Set(start.Add(26 * time.Hour))
	s.Charge(ctx, d.ID, 60, "tech")
	if _, err := s.Dispute(ctx, d.ID, ""); !errors.As(err, &fe) || !fe.Has("comment") {
		t.Fatalf("dispute without comment: %v", err)
	}
	if _, err := s.Dispute(ctx, d.ID, "bell\a"); !errors.As(err, &fe) || fe.Fields["comment"].Code != fields.ControlCharacters {
		t.Fatalf("dispute with a control character: %v", err)
	}
	got, err = s.Dispute(ctx, d.ID, "we worked 40 minutes,\nnot 60")
	if err != nil || got.Status != Disputed || got.Comment != "we worked 40 minutes,\nnot 60" {
		t.Fatalf("dispute %+v %v", got, err)
	}
	if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 390 || b.Booked != 60 {
		t.Fatalf("disputed charge not reserved: %+v", b)
	}
	if _, err := s.Session(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing session: %v", err)
	}
}

func TestAutoConfirmAfterFiveWorkingDays(t *testing.T) {
	s, c := open(t, t0)
	topUp(t, s, "Acme Ltd", 480)
	a, _ := s.Book(ctx, "Acme Ltd", 1, t0.Add(time.Hour), 60, "tech", "agent")
	proposed := time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC) // Wednesday
	c.Set(proposed)
	if _, err := s.Charge(ctx, a.ID, 60, "tech"); err != nil {
		t.Fatal(err)
	}
	// Five working days after Wednesday 4 March is Wednesday 11 March,
	// confirmed at its closing time: 17:00 in Prague, 16:00 UTC.
	if n, err := s.AutoConfirm(ctx, time.Date(2026, 3, 11, 15, 59, 0, 0, time.UTC)); err != nil || n != 0 {
		t.Fatalf("auto-confirmed %d early, %v", n, err)
	}
	if n, err := s.AutoConfirm(ctx, time.Date(2026, 3, 11, 16, 0, 0, 0, time.UTC)); err != nil || n != 1 {
		t.Fatalf("auto-confirmed %d, %v", n, err)
	}
	got, _ := s.Session(ctx, a.ID)
	es, _ := s.Ledger(ctx, "Acme Ltd")
	if got.Status != Confirmed || es[len(es)-1].By != "auto-confirmed" || mustBalance(t, s, "Acme Ltd").Balance != 420 {
		t.Fatalf("%+v %+v", got, es)
	}
}

func TestOrgs(t *testing.T) {
	s, _ := open(t, t0)
	topUp(t, s, "Beta", 600)
	topUp(t, s, "Acme Ltd", 480)
	os, err := s.Orgs(ctx)
	if err != nil || len(os) != 2 || os[0].Org != "Acme Ltd" || os[1].Balance != 600 {
		t.Fatalf("%+v %v", os, err)
	}
}

// Late cancellations and confirmations at once, asking for more than the
// balance holds: every entry takes only what is left, the rest is debt, and
// no prefix of the ledger goes below zero.
func TestConcurrentFeesAndChargesNeverBelowZero(t *testing.T) {
	s, c := open(t, t0)
	topUp(t, s, "Acme Ltd", 480)
	start := t0.Add(48 * time.Hour)
	var ids []int64
	for i := range 4 {
		ses, err := s.Book(ctx, "Acme Ltd", int64(i+1), start.Add(time.Duration(i/2)*4*time.Hour), 120, "tech", "agent")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ses.ID)
	}
	c.Set(start.Add(2 * time.Hour)) // sessions 0 and 1 have started, 2 and 3 start in 2 h
	for _, id := range ids[:2] {
		if _, err := s.Charge(ctx, id, 200, "tech"); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if i < 2 {
				_, err = s.Confirm(ctx, id, "customer")
			} else {
				_, _, err = s.Cancel(ctx, id, "customer")
			}
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	es, _ := s.Ledger(ctx, "Acme Ltd")
	sum := 0
	for _, e := range es {
		if sum += e.Minutes; sum < 0 {
			t.Fatalf("the ledger goes below zero at entry %+v", e)
		}
	}
	debt := 0
	for _, id := range ids {
		ses, _ := s.Session(ctx, id)
		debt += ses.Debt
	}
	if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 0 || b.Booked != 0 || debt != 640-480 {
		t.Fatalf("balance %+v, debt %d; want 0 and 160", b, debt)
	}
}

// TestDebtSettledByTopUp is the reviewer's repro: a late fee larger than the
// balance leaves debt, which counts against Available and the next top-up
// pays.
func TestDebtSettledByTopUp(t *testing.T) {
	s, c := open(t, t0)
	topUp(t, s, "Acme Ltd", 480)
	start := t0.Add(72 * time.Hour)
	// (The reviewer booked 60 before correcting −450; a correction may no
	// longer take reserved credit, so the booking is 30, after it.)
	if _, err := s.Correct(ctx, "Acme Ltd", -450, "refund", "cli: jana"); err != nil {
		t.Fatal(err)
	}
	a, err := s.Book(ctx, "Acme Ltd", 1, start, 30, "tech", "agent")
	if err != nil {
		t.Fatal(err)
	}
	c.Set(start.Add(-time.Hour))
	_, fee, err := s.Cancel(ctx, a.ID, "customer")
	if err != nil || fee.Charged != 30 || fee.Debt != 90 {
		t.Fatalf("late cancel: %+v %v", fee, err)
	}
	if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 0 || b.Debt != 90 || b.Available != -90 {
		t.Fatalf("after the fee: %+v", b)
	}
	topUp(t, s, "Acme Ltd", 480)
	if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 390 || b.Debt != 0 || b.Available != 390 {
		t.Fatalf("after the top-up: %+v", b)
	}
	es, _ := s.Ledger(ctx, "Acme Ltd")
	if last := es[len(es)-1]; last.Kind != "fee" || last.Minutes != -90 || last.SessionID != a.ID || last.Reason != "debt settled" {
		t.Fatalf("settling entry %+v", last)
	}
	if ses, _ := s.Session(ctx, a.ID); ses.Debt != 90 || ses.Settled != 90 {
		t.Fatalf("session %+v", ses)
	}
	var nt *NeedTopUp
	if _, err := s.Book(ctx, "Acme Ltd", 2, start.Add(72*time.Hour), 480, "tech", "agent"); !errors.As(err, &nt) || nt.Needed != 90 {
		t.Fatalf("booking 480 of 390: %v", err)
	}
}

// TestCorrectionKeepsReservations: a negative correction may take only what
// is available, not credit booked sessions reserve.
func TestCorrectionKeepsReservations(t *testing.T) {
	s, _ := open(t, t0)
	topUp(t, s, "Acme Ltd", 480)
	if _, err := s.Book(ctx, "Acme Ltd", 1, t0.Add(72*time.Hour), 480, "tech", "agent"); err != nil {
		t.Fatal(err)
	}
	var fe *fields.Error
	if _, err := s.Correct(ctx, "Acme Ltd", -480, "refund", "cli: jana"); !errors.As(err, &fe) || fe.Fields["minutes"].Code != fields.CreditBelowZero {
		t.Fatalf("correction of reserved credit: %v", err)
	}
	if b := mustBalance(t, s, "Acme Ltd"); b.Balance != 480 || b.Available != 0 {
		t.Fatalf("%+v", b)
	}
	if _, err := s.Correct(ctx, "Acme Ltd", 60, "goodwill", "cli: jana"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Correct(ctx, "Acme Ltd", -60, "goodwill undone", "cli: jana"); err != nil {
		t.Fatal(err)
	}
}
