package tickets

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// The queue filters by the deployment a ticket names, and counts the open
// tickets per deployment, following changes (a solved ticket leaves the
// counts).
func TestQueueDeploymentFilterAndCounts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	file := func(email string, d Deployment) Ticket {
		t.Helper()
		e.confirmed(t, email)
		nt := validTicket()
		nt.Email, nt.Deployment = email, d
		tk, _, err := e.File(ctx, nt)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	e.clock.Set(prague(t, 2026, time.March, 4, 10, 0))
	other := file("a@basic.example", DeploymentOther)
	other2 := file("b@basic.example", DeploymentOther)
	cloud := file("c@basic.example", DeploymentCloud)
	own := file("d@basic.example", DeploymentOwnServer)
	none := file("e@basic.example", "")

	numbers := func(f QueueFilter) map[int]bool {
		t.Helper()
		q, err := e.Queue(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if q.Total != len(q.Items) {
			t.Fatalf("%+v: total %d, %d items", f, q.Total, len(q.Items))
		}
		out := map[int]bool{}
		for _, it := range q.Items {
			out[it.Number] = true
		}
		return out
	}
	for _, c := range []struct {
		d    Deployment
		want []int
	}{
		{DeploymentOther, []int{other.Number, other2.Number}},
		{DeploymentCloud, []int{cloud.Number}},
		{DeploymentOwnServer, []int{own.Number}},
		{DeploymentNone, []int{none.Number}},
		{"", []int{other.Number, other2.Number, cloud.Number, own.Number, none.Number}},
	} {
		got := numbers(QueueFilter{Deployment: c.d})
		if len(got) != len(c.want) {
			t.Fatalf("deployment %q: %v, want %v", c.d, got, c.want)
		}
		for _, n := range c.want {
			if !got[n] {
				t.Fatalf("deployment %q: %v, want %v", c.d, got, c.want)
			}
		}
	}
	if got := numbers(QueueFilter{Deployment: DeploymentOther, Severity: 1}); len(got) != 0 {
		t.Fatalf("other and severity 1: %v, want none", got)
	}
	counts := func() map[Deployment]int {
		t.Helper()
		q, err := e.Queue(ctx, QueueFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return q.Counts.Deployment
	}
	if c := counts(); c[DeploymentOther] != 2 || c[DeploymentCloud] != 1 || c[DeploymentOwnServer] != 1 || c[""] != 1 {
		t.Fatalf("counts %v", c)
	}
	if _, err := e.AgentStatus(ctx, other.Number, StatusSolved, alice); err != nil {
		t.Fatal(err)
	}
	if c := counts(); c[DeploymentOther] != 1 {
		t.Fatalf("after solving one: %v, want other 1", c)
	}
	if _, err := e.AgentStatus(ctx, other.Number, StatusOpen, alice); err != nil {
		t.Fatal(err)
	}
	if c := counts(); c[DeploymentOther] != 2 {
		t.Fatalf("after reopening it: %v, want other 2", c)
	}
	// The counts the triggers keep equal a count of the tickets.
	var n int
	if err := e.db.Raw().QueryRow(`SELECT count(*) FROM tickets WHERE deployment = 'other' AND status IN ('new', 'open', 'waiting')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if c := counts(); c[DeploymentOther] != n {
		t.Fatalf("counts %v, tickets %d", c, n)
	}
	if !DeploymentOther.OutsideBugPolicy() || DeploymentCloud.OutsideBugPolicy() || DeploymentOwnServer.OutsideBugPolicy() || Deployment("").OutsideBugPolicy() {
		t.Fatal("OutsideBugPolicy: only other is outside")
	}
}

// The per-deployment counts the triggers keep equal a count of the open
// tickets after many random filings and status changes.
func TestDeploymentCountsKeptByTriggers(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	deployments := []Deployment{"", DeploymentCloud, DeploymentOwnServer, DeploymentOther}
	statuses := []Status{StatusNew, StatusOpen, StatusWaiting, StatusSolved, StatusClosed}
	e.clock.Set(prague(t, 2026, time.March, 4, 10, 0))
	e.confirmed(t, "a@basic.example")
	var numbers []int
	for i := 0; i < 200; i++ {
		e.clock.Add(7 * time.Minute)
		if len(numbers) < 5 || rng.IntN(3) == 0 {
			nt := validTicket()
			nt.Email, nt.Deployment = "a@basic.example", deployments[rng.IntN(len(deployments))]
			tk, _, err := e.File(ctx, nt)
			if err != nil {
				t.Fatal(err)
			}
			numbers = append(numbers, tk.Number)
			continue
		}
		_, err := e.AgentStatus(ctx, numbers[rng.IntN(len(numbers))], statuses[rng.IntN(len(statuses))], alice)
		var ve *ValidationError
		if err != nil && !errors.Is(err, ErrClosed) && !errors.As(err, &ve) {
			t.Fatal(err)
		}
	}
	q, err := e.Queue(ctx, QueueFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[Deployment]int{}
	rows, err := e.db.Query(`SELECT deployment FROM tickets WHERE status IN ('new', 'open', 'waiting')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d Deployment
		if err := rows.Scan(&d); err != nil {
			t.Fatal(err)
		}
		want[d]++
	}
	rows.Close()
	if len(want) < 3 || fmt.Sprint(q.Counts.Deployment) != fmt.Sprint(want) {
		t.Fatalf("counts kept %v, want %v", q.Counts.Deployment, want)
	}
	for d, n := range want {
		if got, err := e.Queue(ctx, QueueFilter{Deployment: orNone(d), Limit: 500}); err != nil || got.Total != n {
			t.Fatalf("filter %q: total %d, %v; want %d", d, got.Total, err, n)
		}
	}
}

func orNone(d Deployment) Deployment {
	if d == "" {
		return DeploymentNone
	}
	return d
}
