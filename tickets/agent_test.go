package tickets

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/orbitask/portal/fields"
)

var (
	alice = Staff{ID: 7, Name: "Alice Agent"}
	bob   = Staff{ID: 8, Name: "Bob Agent"}
)

// fileAt files a ticket from email with severity at time at, the address
// confirmed first (so the plan its domain grants applies: confirm_test.go
// tests what happens before).
func (e *env) fileAt(tb testing.TB, at time.Time, email string, severity int) Ticket {
	tb.Helper()
	e.clock.Set(at)
	e.confirmed(tb, email)
	nt := validTicket()
	nt.Email, nt.Severity = email, severity
	tk, _, err := e.File(context.Background(), nt)
	if err != nil {
		tb.Fatal(err)
	}
	return tk
}

func (e *env) ticket(tb testing.TB, number int) Ticket {
	tb.Helper()
	tk, err := e.GetByNumber(context.Background(), number)
	if err != nil {
		tb.Fatal(err)
	}
	return tk
}

func TestReplyRule(t *testing.T) {
	ctx := context.Background()
	type step struct {
		do       string // "reply", "reply+solved", "reply+waiting", "call", "customer", "severity2"
		wantCall bool
	}
	tests := []struct {
		name     string
		email    string
		severity int
		steps    []step
	}{
		{"basic: a call after the third reply", "x@basic.example", 3, []step{
			{"reply", false}, {"customer", false}, {"reply", false}, {"reply+waiting", true}}},
		{"basic: a call clears the flag and the count restarts", "x@basic.example", 3, []step{
			{"reply", false}, {"reply", false}, {"reply", true}, {"call", false}, {"reply", false}, {"reply", false}, {"reply", true}}},
		{"basic: solved by the third reply: no call", "x@basic.example", 4, []step{
			{"reply", false}, {"reply", false}, {"reply+solved", false}}},
		{"basic: reopened after three replies: call", "x@basic.example", 4, []step{
			{"reply", false}, {"reply", false}, {"reply+solved", false}, {"customer", true}}},
		{"priority: a call after the first reply", "x@acme.example", 3, []step{{"reply", true}}},
		{"priority: solved by the first reply: no call", "x@acme.example", 3, []step{{"reply+solved", false}}},
		{"individual terms: after the second reply", "x@globex.example", 3, []step{{"reply", false}, {"reply", true}}},
		{"severity 1: flagged at filing, cleared by the call", "x@basic.example", 1, []step{{"call", false}}},
		{"severity 2: flagged at filing, notes do not count", "x@basic.example", 2, []step{{"note", true}, {"call", false}, {"note", false}}},
		{"raised to severity 2: flagged", "x@basic.example", 3, []step{{"severity2", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(dir string) { writeCustomers(t, dir, "customers-terms.yaml", time.Now()) })
			tk := e.fileAt(t, prague(t, 2026, time.March, 4, 10, 0), tt.email, tt.severity)
			if want := tt.severity <= 2; tk.CallRequired != want || e.ticket(t, tk.Number).CallRequired != want {
				t.Fatalf("at filing: call required %v, want %v", tk.CallRequired, want)
			}
			for i, s := range tt.steps {
				e.clock.Add(10 * time.Minute)
				var err error
				switch s.do {
				case "reply":
					_, err = e.Post(ctx, tk.Number, alice, AgentReply{Body: "Try this."})
				case "reply+solved":
					_, err = e.Post(ctx, tk.Number, alice, AgentReply{Body: "Fixed.", Status: StatusSolved})
				case "reply+waiting":
					_, err = e.Post(ctx, tk.Number, alice, AgentReply{Body: "Which version?", Status: StatusWaiting})
				case "note":
					_, err = e.Post(ctx, tk.Number, alice, AgentReply{Body: "Looks like the export bug.", Internal: true})
				case "call":
					_, err = e.Post(ctx, tk.Number, alice, AgentReply{Body: "Called Jana; sending a fix.", Internal: true, Call: true})
				case "customer":
					_, err = e.Reply(ctx, tk.Number, ActorCustomer, "Still broken.")
				case "severity2":
					_, err = e.ChangeSeverity(ctx, tk.Number, 2, "Whole team blocked", alice)
				}
				if err != nil {
					t.Fatalf("step %d %s: %v", i+1, s.do, err)
				}
				got := e.ticket(t, tk.Number)
				if got.CallRequired != s.wantCall {
					t.Fatalf("after step %d %s: call required %v (reason %q, replies since call %d), want %v",
						i+1, s.do, got.CallRequired, got.CallReason, got.RepliesSinceCall, s.wantCall)
				}
			}
		})
	}
}

func TestSLAClock(t *testing.T) {
	ctx := context.Background()
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name     string
		calendar string // calendar.yaml, "" for none
		email    string
		filed    string
		wantDue  string
	}{
		// March 2026: Wed 4, Thu 5, Fri 6, Sat 7, Sun 8, Mon 9. CET = UTC+1.
		{"basic, default calendar", "", "x@basic.example", "2026-03-04T09:00:00Z", "2026-03-09T09:00:00Z"},
		{"basic, filed Saturday", "", "x@basic.example", "2026-03-07T10:00:00Z", "2026-03-11T16:00:00Z"},
		{"priority, default calendar", "", "x@acme.example", "2026-03-04T09:00:00Z", "2026-03-05T16:00:00Z"},
		{"priority, next day a holiday", "holidays:\n  - {date: 2026-03-05, name: Test day}\n", "x@acme.example", "2026-03-04T09:00:00Z", "2026-03-06T16:00:00Z"},
		{"basic, holiday inside", "holidays: [2026-03-05]\n", "x@basic.example", "2026-03-04T09:00:00Z", "2026-03-10T09:00:00Z"},
		{"individual terms: 4 working hours", "", "x@globex.example", "2026-03-04T15:00:00Z", "2026-03-05T11:00:00Z"},
		{"individual, as agreed: no due time", "", "x@hooli.example", "2026-03-04T09:00:00Z", ""},
		{"basic, calendar with other hours", "working_hours: {start: \"08:00\", end: \"12:00\"}\n", "x@basic.example", "2026-03-04T09:00:00Z", "2026-03-12T09:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(dir string) {
				writeCustomers(t, dir, "customers-terms.yaml", time.Now())
				if tt.calendar != "" {
					if err := os.WriteFile(filepath.Join(dir, "calendar.yaml"), []byte(tt.calendar), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			})
			tk := e.fileAt(t, utc(tt.filed), tt.email, 3)
			if tt.wantDue == "" {
				if !tk.SLADue.IsZero() {
					t.Fatalf("due %s, want none", tk.SLADue)
				}
				return
			}
			if !tk.SLADue.Equal(utc(tt.wantDue)) {
				t.Fatalf("due %s, want %s", tk.SLADue.UTC().Format(time.RFC3339), tt.wantDue)
			}
		})
	}

	t.Run("paused while waiting on the customer", func(t *testing.T) {
		e := newEnv(t, nil)
		tk := e.fileAt(t, utc("2026-03-04T09:00:00Z"), "x@basic.example", 3) // Wed 10:00 CET → due Mon 10:00 CET
		e.clock.Set(utc("2026-03-05T14:00:00Z"))                             // Thu 15:00
		if _, err := e.Post(ctx, tk.Number, alice, AgentReply{Body: "Which version?", Status: StatusWaiting}); err != nil {
			t.Fatal(err)
		}
		got := e.ticket(t, tk.Number)
		if !got.SLAPausedAt.Equal(utc("2026-03-05T14:00:00Z")) {
			t.Fatalf("paused at %s", got.SLAPausedAt)
		}
		// While paused, the clock shows the working time that was left.
		c := e.TicketClock(got, utc("2026-03-09T08:00:00Z"))
		if c.State != SLAPaused || c.Left != 11*time.Hour {
			t.Fatalf("clock while paused: %+v, want paused with 11h left", c)
		}
		e.clock.Set(utc("2026-03-09T10:00:00Z")) // Mon 11:00: the customer answers; paused Thu 15–17, Fri, Mon 9–11 = 12 h
		if _, err := e.Reply(ctx, tk.Number, ActorCustomer, "Version 5.2."); err != nil {
			t.Fatal(err)
		}
		got = e.ticket(t, tk.Number)
		if want := utc("2026-03-10T13:00:00Z"); !got.SLADue.Equal(want) || !got.SLAPausedAt.IsZero() || got.Status != StatusOpen {
			t.Fatalf("after the answer: due %s paused %s status %s; want due %s, running, open", got.SLADue, got.SLAPausedAt, got.Status, want)
		}
		last := got.History[len(got.History)-1]
		if last.Kind != KindSLA || !last.SLADue.Equal(got.SLADue) || last.Internal {
			t.Fatalf("last event %+v, want a public sla event with the new due time", last)
		}
	})

	t.Run("states: ok, at risk, breached", func(t *testing.T) {
		e := newEnv(t, nil)
		tk := e.fileAt(t, utc("2026-03-04T09:00:00Z"), "x@basic.example", 3) // due Mon 2026-03-09 10:00 CET
		for _, c := range []struct {
			now   string
			state string
			left  time.Duration
		}{
			{"2026-03-06T13:00:00Z", SLAOK, 4 * time.Hour},            // Fri 14:00: 3 h on Friday, 1 h on Monday
			{"2026-03-06T16:30:00Z", SLAAtRisk, 1 * time.Hour},        // Fri 17:30, after hours: Mon 9–10 left
			{"2026-03-07T12:00:00Z", SLAAtRisk, 1 * time.Hour},        // Saturday
			{"2026-03-09T09:00:00Z", SLABreached, 0},                  // Mon 10:00 exactly
			{"2026-03-09T11:30:00Z", SLABreached, -150 * time.Minute}, // Mon 12:30
		} {
			got := e.TicketClock(tk, utc(c.now))
			if got.State != c.state || got.Left != c.left {
				t.Errorf("at %s: %s %v, want %s %v", c.now, got.State, got.Left, c.state, c.left)
			}
		}
	})
}

func TestInternalNotesNeverReachTheCustomer(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	nt := validTicket()
	tk, token, err := e.File(ctx, nt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Post(ctx, tk.Number, alice, AgentReply{Body: "Customer seems annoyed; be gentle.", Internal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Assign(ctx, tk.Number, bob, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Post(ctx, tk.Number, alice, AgentReply{Body: "Please try again now."}); err != nil {
		t.Fatal(err)
	}
	cust, err := e.Get(ctx, tk.Number, token)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range cust.Messages {
		if m.Internal {
			t.Errorf("customer sees note %q", m.Body)
		}
	}
	for _, ev := range cust.History {
		if ev.Internal || ev.Kind == KindNote || ev.Kind == KindAssign {
			t.Errorf("customer sees event %+v", ev)
		}
	}
	if len(cust.Messages) != 2 {
		t.Errorf("customer sees %d messages, want description and reply", len(cust.Messages))
	}
	missed, err := e.EventsAfter(ctx, tk.Number, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range missed {
		if ev.Internal {
			t.Errorf("EventsAfter gives the customer %+v", ev)
		}
	}
	full := e.ticket(t, tk.Number)
	if len(full.Messages) != 3 || full.Assignee != bob {
		t.Fatalf("agent view: %d messages, assignee %+v", len(full.Messages), full.Assignee)
	}
	// The audit trail: every staff action with who and when.
	var who []string
	for _, ev := range full.History {
		if ev.Actor == ActorSupport {
			who = append(who, ev.Kind+" by "+ev.Staff.Name)
		}
	}
	// (Assigning the new ticket opened it.)
	if want := []string{"note by Alice Agent", "assign by Alice Agent", "status by Alice Agent", "reply by Alice Agent"}; !equalStrings(who, want) {
		t.Fatalf("audit trail %q, want %q", who, want)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAgentActionsValidate(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	tk := e.fileAt(t, prague(t, 2026, time.March, 4, 10, 0), "x@basic.example", 3)
	for _, c := range []struct {
		name  string
		do    func() error
		field string
		code  string
	}{
		{"blank reply", func() error { _, err := e.Post(ctx, tk.Number, alice, AgentReply{Body: "  "}); return err }, "body", fields.Required},
		{"call as a public reply", func() error {
			_, err := e.Post(ctx, tk.Number, alice, AgentReply{Body: "Called", Call: true})
			return err
		}, "call", fields.CallNotInternal},
		{"bad status", func() error {
			_, err := e.Post(ctx, tk.Number, alice, AgentReply{Body: "x", Status: "done"})
			return err
		}, "status", fields.Status},
		{"severity 5", func() error { _, err := e.ChangeSeverity(ctx, tk.Number, 5, "why not", alice); return err }, "severity", fields.AgentSeverity},
		{"severity without reason", func() error { _, err := e.ChangeSeverity(ctx, tk.Number, 2, " ", alice); return err }, "reason", fields.Required},
		{"same severity", func() error { _, err := e.ChangeSeverity(ctx, tk.Number, 3, "same", alice); return err }, "severity", fields.SameSeverity},
		{"unassign an unassigned ticket", func() error { _, err := e.Assign(ctx, tk.Number, Staff{}, alice); return err }, "assignee", fields.SameAssignee},
	} {
		err := c.do()
		var ve *ValidationError
		if !errors.As(err, &ve) || ve.Fields[c.field].Code != c.code {
			t.Errorf("%s: %v, want a validation error %s on %s", c.name, err, c.code, c.field)
		}
	}
	if got := e.ticket(t, tk.Number); len(got.Messages) != 1 || len(got.History) != 1 {
		t.Fatalf("refused actions stored something: %d messages, %d events", len(got.Messages), len(got.History))
	}
	if _, err := e.AgentStatus(ctx, tk.Number, StatusClosed, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Post(ctx, tk.Number, alice, AgentReply{Body: "late"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("reply on a closed ticket: %v, want ErrClosed", err)
	}
	if _, err := e.Post(ctx, 99999, alice, AgentReply{Body: "x"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("reply on a missing ticket: %v, want ErrNotFound", err)
	}
}

func TestQueueOrderFiltersAndCounts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(dir string) { writeCustomers(t, dir, "customers-terms.yaml", time.Now()) })
	at := func(d, h int) time.Time { return prague(t, 2026, time.March, d, h, 0) }
	basic4 := e.fileAt(t, at(2, 10), "a@basic.example", 4)  // due Thu 5 10:00
	basic3 := e.fileAt(t, at(3, 10), "b@basic.example", 3)  // due Fri 6 10:00
	basic3b := e.fileAt(t, at(2, 11), "c@basic.example", 3) // due Thu 5 11:00
	prio4 := e.fileAt(t, at(3, 12), "d@acme.example", 4)    // due Wed 4 17:00
	hooli := e.fileAt(t, at(2, 9), "e@hooli.example", 3)    // individual with Basic's place, as agreed: no due time
	globex := e.fileAt(t, at(3, 9), "f@globex.example", 2)  // individual (priority place), severity 2: call
	solved := e.fileAt(t, at(3, 9), "g@basic.example", 1)
	if _, err := e.AgentStatus(ctx, solved.Number, StatusSolved, alice); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Assign(ctx, basic3.Number, bob, alice); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(at(5, 9)) // Thu 09:00: basic4 due in 1 working hour, basic3b in 2; prio4 and globex breached
	numbers := func(f QueueFilter) []int {
		t.Helper()
		q, err := e.Queue(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		out := []int{}
		for _, it := range q.Items {
			out = append(out, it.Number)
		}
		return out
	}
	eq := func(name string, got, want []int) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %v, want %v", name, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%s: %v, want %v", name, got, want)
			}
		}
	}
	// Priority place first (call first within it), then Basic by severity
	// and due time; no due time last among equals.
	q, err := e.Queue(ctx, QueueFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := []int{}
	for _, it := range q.Items {
		got = append(got, it.Number)
	}
	want := []int{globex.Number, prio4.Number, basic3b.Number, basic3.Number, hooli.Number, basic4.Number}
	eq("queue order", got, want)
	if q.Counts.Open != 6 || q.Counts.CallRequired != 1 || q.Counts.Breached != 2 || q.Counts.AtRisk != 2 ||
		q.Counts.Plan[PlanBasic] != 3 || q.Counts.Plan[PlanIndividual] != 2 || q.Counts.Severity[3] != 3 ||
		q.Counts.Assignee[bob.ID] != 1 || q.Counts.Assignee[Unassigned] != 5 {
		t.Fatalf("counts %+v", q.Counts)
	}
	eq("at risk", numbers(QueueFilter{AtRisk: true}), []int{basic3b.Number, basic4.Number})
	eq("breached", numbers(QueueFilter{Breached: true}), []int{globex.Number, prio4.Number})
	eq("call required", numbers(QueueFilter{CallRequired: true}), []int{globex.Number})
	eq("plan and severity", numbers(QueueFilter{Plan: PlanBasic, Severity: 3}), []int{basic3b.Number, basic3.Number})
	eq("assignee", numbers(QueueFilter{Assignee: bob.ID}), []int{basic3.Number})
	eq("unassigned", numbers(QueueFilter{Assignee: Unassigned, Plan: PlanBasic}), []int{basic3b.Number, basic4.Number})
	eq("solved", numbers(QueueFilter{Statuses: []Status{StatusSolved}}), []int{solved.Number})
	eq("page 2", numbers(QueueFilter{Limit: 2, Offset: 2}), []int{basic3b.Number, basic3.Number})
}

// The counts are cached, but never stale after a change, nor for more
// than a minute as the clock moves.
func TestQueueCountsFollowChangesAndTime(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	open := func() QueueCounts {
		t.Helper()
		q, err := e.Queue(ctx, QueueFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return q.Counts
	}
	tk := e.fileAt(t, prague(t, 2026, time.March, 4, 10, 0), "x@basic.example", 3) // due Mon 9 10:00
	if c := open(); c.Open != 1 || c.AtRisk != 0 {
		t.Fatalf("after filing: %+v", c)
	}
	e.fileAt(t, prague(t, 2026, time.March, 4, 10, 0), "y@basic.example", 4)
	if c := open(); c.Open != 2 || c.Severity[4] != 1 {
		t.Fatalf("after a second filing: %+v", c)
	}
	if _, err := e.AgentStatus(ctx, tk.Number, StatusSolved, alice); err != nil {
		t.Fatal(err)
	}
	if c := open(); c.Open != 1 {
		t.Fatalf("after solving one: %+v", c)
	}
	// Another process changes a ticket: the newest event id tells.
	other, err := Open(Config{DB: e.db, DataDir: e.dir, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.AgentStatus(ctx, tk.Number, StatusOpen, bob); err != nil {
		t.Fatal(err)
	}
	if c := open(); c.Open != 2 {
		t.Fatalf("after another store reopened one: %+v", c)
	}
	e.clock.Set(prague(t, 2026, time.March, 6, 16, 0)) // Fri 16:00: both due within 2 working hours
	if c := open(); c.AtRisk != 2 {
		t.Fatalf("as time passes: %+v, want 2 at risk", c)
	}
}

// The counts the triggers keep equal the counts of the tickets themselves
// after many random filings and changes.
func TestQueueCountsKeptByTriggersMatchTheTickets(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(dir string) { writeCustomers(t, dir, "customers-terms.yaml", time.Now()) })
	rng := rand.New(rand.NewPCG(1, 2))
	emails := []string{"a@basic.example", "b@acme.example", "c@globex.example", "d@hooli.example"}
	statuses := []Status{StatusNew, StatusOpen, StatusWaiting, StatusSolved, StatusClosed}
	var numbers []int
	for i := 0; i < 300; i++ {
		e.clock.Add(7 * time.Minute)
		if len(numbers) < 5 || rng.IntN(3) == 0 {
			numbers = append(numbers, e.fileAt(t, e.clock.Now(), emails[rng.IntN(len(emails))], 1+rng.IntN(4)).Number)
			continue
		}
		n := numbers[rng.IntN(len(numbers))]
		var err error
		switch rng.IntN(5) {
		case 0:
			_, err = e.AgentStatus(ctx, n, statuses[rng.IntN(len(statuses))], alice)
		case 1:
			_, err = e.ChangeSeverity(ctx, n, 1+rng.IntN(4), "re-assessed", alice)
		case 2:
			to := []Staff{{}, alice, bob}[rng.IntN(3)]
			_, err = e.Assign(ctx, n, to, alice)
		case 3:
			_, err = e.Post(ctx, n, alice, AgentReply{Body: "Try this."})
		case 4:
			_, err = e.Post(ctx, n, bob, AgentReply{Body: "Called.", Internal: true, Call: true})
		}
		var ve *ValidationError
		if err != nil && !errors.Is(err, ErrClosed) && !errors.As(err, &ve) {
			t.Fatal(err)
		}
	}
	q, err := e.Queue(ctx, QueueFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := q.Counts
	want := QueueCounts{Status: map[Status]int{}, Plan: map[Plan]int{}, Severity: map[int]int{}, Lang: map[string]int{}, Assignee: map[int64]int{}}
	rows, err := e.db.Query(`SELECT status, plan, severity, lang, coalesce(assignee_id, -1), call_required FROM tickets
		WHERE status IN ('new', 'open', 'waiting')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var (
			st   Status
			pl   Plan
			sev  int
			lang string
			as   int64
			call bool
		)
		if err := rows.Scan(&st, &pl, &sev, &lang, &as, &call); err != nil {
			t.Fatal(err)
		}
		want.Open++
		want.Status[st]++
		want.Plan[pl]++
		want.Severity[sev]++
		want.Lang[lang]++
		want.Assignee[as]++
		if call {
			want.CallRequired++
		}
	}
	rows.Close()
	if want.Open == 0 || got.Open != want.Open || got.CallRequired != want.CallRequired ||
		fmt.Sprint(got.Status) != fmt.Sprint(want.Status) || fmt.Sprint(got.Plan) != fmt.Sprint(want.Plan) ||
		fmt.Sprint(got.Severity) != fmt.Sprint(want.Severity) || fmt.Sprint(got.Lang) != fmt.Sprint(want.Lang) ||
		fmt.Sprint(got.Assignee) != fmt.Sprint(want.Assignee) {
		t.Fatalf("counts kept %+v\nwant        %+v", got, want)
	}
	if got.Assignees[alice.ID] != alice.Name && got.Assignee[alice.ID] > 0 {
		t.Errorf("assignee names %v", got.Assignees)
	}
}

// The customer should not read "New" once support has answered or taken the
// ticket on: the first reply to the customer, or an assignment, opens a new
// ticket in the same change, with a status event the live pages receive.
func TestFirstAgentActionOpensNewTicket(t *testing.T) {
	ctx := context.Background()
	statusEvents := func(tk Ticket) []Event {
		var out []Event
		for _, ev := range tk.History {
			if ev.Kind == KindStatus {
				out = append(out, ev)
			}
		}
		return out
	}
	tests := []struct {
		name       string
		do         func(e *env, n int) ([]Event, error)
		wantStatus Status
		wantEvents int // status events recorded
	}{
		{"an agent's reply", func(e *env, n int) ([]Event, error) {
			return e.Post(ctx, n, alice, AgentReply{Body: "Could you send the log?"})
		}, StatusOpen, 1},
		{"an agent's reply that asks the customer", func(e *env, n int) ([]Event, error) {
			return e.Post(ctx, n, alice, AgentReply{Body: "Could you send the log?", Status: StatusWaiting})
		}, StatusWaiting, 1},
		{"a reply from the command line", func(e *env, n int) ([]Event, error) {
			ev, err := e.Reply(ctx, n, ActorSupport, "We are looking into it.")
			return []Event{ev}, err
		}, StatusOpen, 1},
		{"an assignment", func(e *env, n int) ([]Event, error) {
			ev, err := e.Assign(ctx, n, bob, alice)
			return []Event{ev}, err
		}, StatusOpen, 1},
		{"an internal note", func(e *env, n int) ([]Event, error) {
			return e.Post(ctx, n, alice, AgentReply{Body: "Looks like the export bug.", Internal: true})
		}, StatusNew, 0},
		{"the customer's own reply", func(e *env, n int) ([]Event, error) {
			ev, err := e.Reply(ctx, n, ActorCustomer, "One more detail: it fails on Mondays.")
			return []Event{ev}, err
		}, StatusNew, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			tk := e.fileAt(t, prague(t, 2026, time.March, 4, 10, 0), "x@basic.example", 3)
			if _, err := tt.do(e, tk.Number); err != nil {
				t.Fatal(err)
			}
			got := e.ticket(t, tk.Number)
			if got.Status != tt.wantStatus {
				t.Fatalf("status %q, want %q", got.Status, tt.wantStatus)
			}
			evs := statusEvents(got)
			if len(evs) != tt.wantEvents {
				t.Fatalf("%d status events, want %d: %+v", len(evs), tt.wantEvents, evs)
			}
			if tt.wantEvents == 0 {
				return
			}
			if evs[0].From != StatusNew || evs[0].Status != tt.wantStatus || evs[0].Internal {
				t.Errorf("status event %+v, want a public change from new to %s", evs[0], tt.wantStatus)
			}
			announced := false
			for _, ev := range e.seen() {
				if ev.Kind == KindStatus && ev.Status == tt.wantStatus && ev.Seq == evs[0].Seq {
					announced = true
				}
			}
			if !announced {
				t.Error("the status event was not announced to OnEvent (live pages would not update)")
			}
			// Once open, a second reply changes nothing more.
			if _, err := e.Post(ctx, tk.Number, alice, AgentReply{Body: "Another thought."}); err != nil {
				t.Fatal(err)
			}
			if n := len(statusEvents(e.ticket(t, tk.Number))); n != tt.wantEvents {
				t.Errorf("%d status events after a second reply, want %d", n, tt.wantEvents)
			}
		})
	}
}
