package tickets

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// fileFrom files a ticket from email at the clock's time, without
// confirming the address.
func (e *env) fileFrom(tb testing.TB, email string) Ticket {
	tb.Helper()
	nt := validTicket()
	nt.Email = email
	tk, _, err := e.File(context.Background(), nt)
	if err != nil {
		tb.Fatal(err)
	}
	return tk
}

// mintConfirm mints a confirmation token as the filed mail does.
func (e *env) mintConfirm(tb testing.TB, email string) string {
	tb.Helper()
	var token string
	err := e.db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
		var err error
		token, err = e.MintConfirmTx(context.Background(), tx, email)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return token
}

func (e *env) queueOrder(tb testing.TB) []int {
	tb.Helper()
	q, err := e.Queue(context.Background(), QueueFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	var out []int
	for _, it := range q.Items {
		out = append(out, it.Number)
	}
	return out
}

// TestPendingPlanUntilConfirmed: a Priority domain's address not yet
// confirmed files as Basic with Priority pending (plan, queue, reply rule,
// SLA); the link's page (ConfirmPending) confirms nothing; confirming moves
// it up with the SLA from the filing time, announces an "sla" event the
// customer sees, and is idempotent; the next filing is Priority at once.
func TestPendingPlanUntilConfirmed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(dir string) { writeCustomers(t, dir, "customers.yaml", time.Now()) })
	other := e.fileFrom(t, "someone@basic.example") // filed first: ahead of a Basic ticket of the same severity
	e.clock.Add(time.Minute)
	tk := e.fileFrom(t, "Anyone@acme.example")
	cal := e.Calendar()
	basicDue, _ := cal.Due(cal.Target("basic"), tk.CreatedAt)
	prioDue, _ := cal.Due(cal.Target("priority"), tk.CreatedAt)
	if tk.Plan != PlanBasic || tk.PendingPlan != PlanPriority || !tk.SLADue.Equal(basicDue) || tk.CallAfterReplies != basicCallAfter {
		t.Fatalf("filed unconfirmed: plan %s pending %s due %s call after %d; want basic, priority, %s, 3",
			tk.Plan, tk.PendingPlan, tk.SLADue, tk.CallAfterReplies, basicDue)
	}
	if got := e.ticket(t, tk.Number); got.PendingPlan != PlanPriority || got.Plan != PlanBasic {
		t.Fatalf("read back: plan %s pending %s", got.Plan, got.PendingPlan)
	}
	q, err := e.Queue(ctx, QueueFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if order := e.queueOrder(t); order[0] != other.Number || q.Items[1].PendingPlan != PlanPriority {
		t.Fatalf("queue %v (pending %q), want the Basic ticket filed first ahead", order, q.Items[1].PendingPlan)
	}

	token := e.mintConfirm(t, tk.Email)
	e.clock.Add(3 * time.Hour)
	email, pending, err := e.ConfirmPending(ctx, token)
	if err != nil || email != "anyone@acme.example" || pending != 1 {
		t.Fatalf("ConfirmPending = %q, %d, %v", email, pending, err)
	}
	if ok, _, _, _ := e.Confirmed(ctx, "anyone@acme.example"); ok || e.ticket(t, tk.Number).Plan != PlanBasic {
		t.Fatal("looking at the link confirmed the address")
	}

	before := len(e.seen())
	c, err := e.ConfirmWithToken(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if c.Already || len(c.Moved) != 1 || c.Moved[0].Number != tk.Number || c.Moved[0].Plan != PlanPriority || !c.Moved[0].SLADue.Equal(prioDue) {
		t.Fatalf("confirmation = %+v; want #%d moved to priority due %s", c, tk.Number, prioDue)
	}
	got := e.ticket(t, tk.Number)
	if got.Plan != PlanPriority || got.PendingPlan != "" || !got.SLADue.Equal(prioDue) || got.CallAfterReplies != priorityCallAfter {
		t.Fatalf("after confirming: plan %s pending %q due %s call after %d", got.Plan, got.PendingPlan, got.SLADue, got.CallAfterReplies)
	}
	if order := e.queueOrder(t); order[0] != tk.Number {
		t.Fatalf("queue after confirming %v, want #%d first", order, tk.Number)
	}
	last := got.History[len(got.History)-1]
	if last.Kind != KindSLA || last.Plan != PlanPriority || last.Internal || last.Actor != ActorCustomer || !last.SLADue.Equal(prioDue) {
		t.Fatalf("event %+v, want a customer-visible sla event with the plan", last)
	}
	if seen := e.seen()[before:]; len(seen) != 1 || seen[0].Seq != last.Seq {
		t.Fatalf("OnEvent saw %+v", seen)
	}
	if ok, by, _, _ := e.Confirmed(ctx, "ANYONE@acme.example"); !ok || by != ViaMailLink {
		t.Fatalf("Confirmed = %v %q", ok, by)
	}

	// Again: nothing more.
	again, err := e.ConfirmWithToken(ctx, token)
	if err != nil || !again.Already || len(again.Moved) != 0 || again.By != ViaMailLink {
		t.Fatalf("second use = %+v, %v", again, err)
	}
	// Confirmed before: the plan at once.
	next := e.fileFrom(t, "anyone@ACME.example")
	if next.Plan != PlanPriority || next.PendingPlan != "" {
		t.Fatalf("after confirmation: plan %s pending %q", next.Plan, next.PendingPlan)
	}
	// Unknown and expired tokens.
	for _, bad := range []string{"", "nope", token + "x"} {
		if _, err := e.ConfirmWithToken(ctx, bad); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("token %q: %v, want ErrTokenInvalid", bad, err)
		}
	}
	e.clock.Add(ConfirmTTL)
	if _, _, err := e.ConfirmPending(ctx, token); !errors.Is(err, ErrTokenInvalid) {
		t.Errorf("after %s: %v, want ErrTokenInvalid", ConfirmTTL, err)
	}
}

// TestConfirmKeepsPausedTime: the working time a pending ticket's clock
// stood still moves its new due time alike; a reply already given makes
// Priority's call due; staff confirmations name the agent.
func TestConfirmKeepsPausedTime(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(dir string) { writeCustomers(t, dir, "customers.yaml", time.Now()) })
	tk := e.fileFrom(t, "x@acme.example") // Wed 4 March 10:00 Prague
	if _, err := e.Post(ctx, tk.Number, alice, AgentReply{Body: "Which version?", Status: StatusWaiting}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Hour) // 2 working hours paused
	if _, err := e.Reply(ctx, tk.Number, ActorCustomer, "4.2"); err != nil {
		t.Fatal(err)
	}
	if got := e.ticket(t, tk.Number); got.CallRequired {
		t.Fatal("Basic: no call after one reply")
	}
	c, err := e.ConfirmAddress(ctx, "x@acme.example", Confirmer{Via: ViaStaff, Staff: alice})
	if err != nil {
		t.Fatal(err)
	}
	cal := e.Calendar()
	prioDue, _ := cal.Due(cal.Target("priority"), tk.CreatedAt)
	want := cal.AddWorking(prioDue, 2*time.Hour)
	got := e.ticket(t, tk.Number)
	if len(c.Moved) != 1 || !got.SLADue.Equal(want) {
		t.Fatalf("due %s, want %s (priority's from filing plus 2 working hours paused)", got.SLADue, want)
	}
	if !got.CallRequired || got.CallReason != callReasonReplyRule {
		t.Fatalf("call %v %q, want the reply rule's call (Priority: after the first reply)", got.CallRequired, got.CallReason)
	}
	sla := got.History[len(got.History)-2]
	if sla.Kind != KindSLA || sla.Staff != alice || sla.Actor != ActorSupport {
		t.Fatalf("event %+v, want alice's sla event", sla)
	}
	if ok, by, _, _ := e.Confirmed(ctx, "x@acme.example"); !ok || by != "staff: Alice Agent (id 7)" {
		t.Fatalf("confirmed by %q", by)
	}
	if _, err := e.ConfirmAddress(ctx, "not an address", Confirmer{Via: ViaCLI}); err == nil || !strings.Contains(err.Error(), "email") {
		t.Fatalf("bad address: %v, want an error naming email", err)
	}
}

// TestConcurrentConfirmations: many confirmations at once move each
// pending ticket once.
func TestConcurrentConfirmations(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(dir string) { writeCustomers(t, dir, "customers.yaml", time.Now()) })
	a, b := e.fileFrom(t, "x@acme.example"), e.fileFrom(t, "x@acme.example")
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		moved int
		first int
	)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e.ConfirmAddress(ctx, "x@acme.example", Confirmer{Via: ViaCLI, User: "ops"})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			moved += len(c.Moved)
			if !c.Already {
				first++
			}
		}()
	}
	wg.Wait()
	if moved != 2 || first != 1 {
		t.Fatalf("moved %d tickets in %d first confirmations; want 2 in 1", moved, first)
	}
	for _, n := range []int{a.Number, b.Number} {
		var slas int
		for _, ev := range e.ticket(t, n).History {
			if ev.Kind == KindSLA {
				slas++
			}
		}
		if slas != 1 {
			t.Errorf("#%d: %d sla events, want 1", n, slas)
		}
	}
}

// TestFindMyTickets: the same answer for an unknown address, one token for
// a known one, the link lists that address's tickets (any case) and only
// those with working private links, confirms the address, works once and
// for 30 minutes; the fourth request within an hour sends nothing.
func TestFindMyTickets(t *testing.T) {
	ctx := context.Background()
	type sent struct{ email, lang, token string }
	var mails []sent
	e := newEnv(t, func(dir string) { writeCustomers(t, dir, "customers.yaml", time.Now()) }, func(c *Config) {
		c.NotifyFindTx = func(_ context.Context, _ *sqlitedb.Tx, email, lang, token string) error {
			mails = append(mails, sent{email, lang, token})
			return nil
		}
	})
	mine1 := e.fileFrom(t, "jana@acme.example")
	e.fileFrom(t, "other@acme.example")
	mine2 := e.fileFrom(t, "JANA@acme.example")

	if r, err := e.RequestFind(ctx, "nobody@acme.example", "de"); err != nil || r != FindNoTickets || len(mails) != 0 {
		t.Fatalf("unknown address: %s, %v, %d mails", r, err, len(mails))
	}
	if _, err := e.RequestFind(ctx, "not-an-address", "en"); err == nil || !strings.Contains(err.Error(), "email") {
		t.Fatalf("bad address: %v, want an error naming email", err)
	}
	if r, err := e.RequestFind(ctx, " Jana@Acme.example ", "de"); err != nil || r != FindSent || len(mails) != 1 {
		t.Fatalf("known address: %s, %v, %d mails", r, err, len(mails))
	}
	m := mails[0]
	if m.email != "jana@acme.example" || m.lang != "de" || len(m.token) < 40 {
		t.Fatalf("mail %+v", m)
	}
	if email, err := e.FindValid(ctx, m.token); err != nil || email != "jana@acme.example" {
		t.Fatalf("FindValid = %q, %v", email, err)
	}
	email, found, c, err := e.UseFind(ctx, m.token)
	if err != nil {
		t.Fatal(err)
	}
	if email != "jana@acme.example" || len(found) != 2 || found[0].Number != mine2.Number || found[1].Number != mine1.Number {
		t.Fatalf("found %+v for %s, want #%d and #%d", found, email, mine2.Number, mine1.Number)
	}
	for _, f := range found {
		if _, err := e.Get(ctx, f.Number, f.Token); err != nil {
			t.Errorf("#%d: the listed link does not open it: %v", f.Number, err)
		}
	}
	if len(c.Moved) != 2 || c.By != ViaFindLink {
		t.Fatalf("the find link confirmed %+v, want both tickets moved up", c)
	}
	if _, _, _, err := e.UseFind(ctx, m.token); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("second use: %v, want ErrTokenInvalid", err)
	}
	if _, err := e.FindValid(ctx, m.token); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("used token valid: %v", err)
	}

	// Expiry: 30 minutes.
	if r, _ := e.RequestFind(ctx, "jana@acme.example", "en"); r != FindSent {
		t.Fatalf("second request: %s", r)
	}
	e.clock.Add(FindTTL + time.Second)
	if _, _, _, err := e.UseFind(ctx, mails[1].token); !errors.Is(err, ErrTokenInvalid) {
		t.Fatalf("after 30 minutes: %v, want ErrTokenInvalid", err)
	}
	// The limit: 3 mails an hour; the 4th request sends nothing.
	if r, _ := e.RequestFind(ctx, "jana@acme.example", "en"); r != FindSent {
		t.Fatalf("third request: %s", r)
	}
	if r, _ := e.RequestFind(ctx, "jana@acme.example", "en"); r != FindLimited || len(mails) != 3 {
		t.Fatalf("fourth request: %s, %d mails; want limited, 3", r, len(mails))
	}
	e.clock.Add(time.Hour)
	if r, _ := e.RequestFind(ctx, "jana@acme.example", "en"); r != FindSent {
		t.Fatalf("an hour later: %s", r)
	}
}

// BenchmarkFilePending is BenchmarkFile from a Priority domain's address
// not yet confirmed: the filing also looks the address up.
func BenchmarkFilePending(b *testing.B) {
	e := newEnv(b, func(dir string) { writeCustomers(b, dir, "customers.yaml", time.Now()) })
	ctx := context.Background()
	nt := validTicket() // jana@acme.example: Priority by its domain
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := e.File(ctx, nt); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "tickets/s")
	if tk := e.ticket(b, 1001); tk.PendingPlan != PlanPriority {
		b.Fatalf("pending %q", tk.PendingPlan)
	}
}
