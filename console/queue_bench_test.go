package console_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

// The agent queue with 100,000 tickets in the database (docs/benchmarks.md,
// "Agent queue with 100,000 tickets"):
//
//	go test ./console -run '^$' -bench 'Queue' -benchtime=50x -count=5
//
// Each request goes through app.Test: Fiber's whole stack in-process
// (routing, the session or token check, the store's SQL, the template), the
// server's time without a network.

// queueShape is a database to measure the queue on.
type queueShape struct {
	name        string
	total, open int // tickets in all, and of them new, open or waiting
}

var queueShapes = []queueShape{
	{"100k_3pct_open", 100_000, 3_000},  // a real desk: most tickets long solved or closed
	{"100k_all_open", 100_000, 100_000}, // the worst case
}

// queueRequests are the queue's requests measured on each shape; api
// requests go to /api/agent/queue with a token, the others to the HTML page
// with a session cookie.
// after_change requests follow a change to a ticket (an event written
// before each, outside the timer), so the store recomputes its cached counts.
var queueRequests = []struct {
	name, target string
	api, change  bool
}{
	{"page_default", "/agent", false, false},
	{"page_default_after_change", "/agent", false, true},
	{"page_basic_sev3", "/agent?plan=basic&severity=3", false, false},
	{"page_at_risk", "/agent?at_risk=1", false, false},
	{"page_unassigned_fr", "/agent?assignee=none&lang=fr", false, false},
	{"page_deployment_other", "/agent?deployment=other", false, false},
	{"api_default", "/api/agent/queue", true, false},
	{"api_default_after_change", "/api/agent/queue", true, true},
}

func BenchmarkQueuePage(b *testing.B) {
	for _, shape := range queueShapes {
		b.Run(shape.name, func(b *testing.B) {
			p := newPortal(b, server.Config{})
			seedQueue(b, p.dbPath, shape.total, shape.open, time.Now())
			cookie, token := benchSignIn(b, p)
			db, err := sqlitedb.Open(p.dbPath)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			for _, r := range queueRequests {
				b.Run(r.name, func(b *testing.B) {
					header := http.Header{"Cookie": {sessionCookie + "=" + cookie}}
					if r.api {
						header = http.Header{"Authorization": {"Bearer " + token}}
					}
					b.ResetTimer()
					for b.Loop() {
						if r.change {
							b.StopTimer()
							if _, err := db.Raw().Exec(`INSERT INTO ticket_events (ticket_id, kind, actor, internal, data, at)
								VALUES (1, 'note', 'support', 1, '{}', '2026-01-01T00:00:00.000Z')`); err != nil {
								b.Fatal(err)
							}
							b.StartTimer()
						}
						req := httptest.NewRequest(http.MethodGet, r.target, nil)
						req.Header = header.Clone()
						res, err := p.app.Test(req, -1)
						if err != nil {
							b.Fatal(err)
						}
						n, err := io.Copy(io.Discard, res.Body)
						res.Body.Close()
						if err != nil || res.StatusCode != http.StatusOK || n < 1000 {
							b.Fatalf("GET %s: %d, %d bytes, %v", r.target, res.StatusCode, n, err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkQueueStore is tickets.Store.Queue alone (its three queries and
// the SLA clocks of one page), on the same shapes and filters.
func BenchmarkQueueStore(b *testing.B) {
	filters := []struct {
		name string
		f    tickets.QueueFilter
	}{
		{"default", tickets.QueueFilter{}},
		{"basic_sev3", tickets.QueueFilter{Plan: tickets.PlanBasic, Severity: 3}},
		{"at_risk", tickets.QueueFilter{AtRisk: true}},
		{"unassigned_fr", tickets.QueueFilter{Assignee: tickets.Unassigned, Lang: "fr"}},
	}
	for _, shape := range queueShapes {
		b.Run(shape.name, func(b *testing.B) {
			p := newPortal(b, server.Config{})
			seedQueue(b, p.dbPath, shape.total, shape.open, time.Now())
			for _, f := range filters {
				b.Run(f.name, func(b *testing.B) {
					var q tickets.Queue
					var err error
					for b.Loop() {
						if q, err = p.svc.Tickets.Queue(context.Background(), f.f); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(q.Total), "matching")
				})
			}
		})
	}
}

// benchSignIn creates an agent, signs in and changes the one-time password
// (what browser.login does through the forms), and returns the session
// cookie's value and a personal access token.
func benchSignIn(b *testing.B, p *portal) (cookie, token string) {
	b.Helper()
	ctx := context.Background()
	const email = "bench@orbitask.example"
	u, otp, err := p.svc.Staff.AddUser(ctx, email, "Bench Agent", staff.RoleAgent, "test")
	if err != nil {
		b.Fatal(err)
	}
	sess, err := p.svc.Staff.Login(ctx, staff.Attempt{Email: email, Password: otp, UserAgent: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.svc.Staff.SetPassword(ctx, u.ID, otp, "correct horse battery", sess.Token); err != nil {
		b.Fatal(err)
	}
	if token, err = p.svc.Staff.CreateToken(ctx, email, "bench", "test"); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/agent", nil)
	req.Header.Set("Cookie", sessionCookie+"="+sess.Token)
	res, err := p.app.Test(req, -1)
	if err != nil || res.StatusCode != http.StatusOK {
		b.Fatalf("GET /agent signed in: %v %v", res.StatusCode, err)
	}
	return sess.Token, token
}

// seedQueue writes total tickets straight into the database in one
// transaction, the newest open of them new, open or waiting, the rest
// solved or closed: plans 60 % basic, 30 % priority, 10 % individual;
// severity 1–4 mostly 3; five languages; 40 % assigned; SLA due times of
// open tickets from two days past to five days ahead of now.
func seedQueue(b *testing.B, dbPath string, total, open int, now time.Time) {
	b.Helper()
	db, err := sqlitedb.Open(dbPath)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rnd := mrand.New(mrand.NewPCG(1, 2))
	pick := func(weights ...int) int { // an index of weights, at random by weight
		sum := 0
		for _, w := range weights {
			sum += w
		}
		n := rnd.IntN(sum)
		for i, w := range weights {
			if n < w {
				return i
			}
			n -= w
		}
		return len(weights) - 1
	}
	ts := sqlitedb.FormatTime
	langs := []string{"en", "fr", "de", "cs", "ru"}
	// Deployments by ticket number, not by the random source, so that the
	// other columns stay as they were: 5 % other, 10 % not given.
	deployments := []string{"other", "", "", "cloud", "cloud", "cloud", "cloud", "cloud", "cloud", "cloud",
		"cloud", "cloud", "own-server", "own-server", "own-server", "own-server", "own-server", "own-server", "own-server", "own-server"}

	err = func() error {
		tx, err := db.Raw().Begin()
		if err != nil {
			return err
		}
		defer tx.Rollback()
		stmt, err := tx.Prepare(`INSERT INTO tickets (number, token_hash, status, plan, organisation, severity,
			subject, lang, answer_in_english, name, company, phone, email, created_at, updated_at, sla_due,
			call_required, assignee_id, assignee_name, agent_replies, replies_since_call, call_reason,
			call_after_replies, paused_at, queue_rank, deployment)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		hash := make([]byte, 32)
		for i := range total {
			isOpen := i >= total-open
			created := now.Add(-time.Duration(total-i) * 10 * time.Minute)
			if open == total { // all open: the last 30 days
				created = now.Add(-time.Duration(rnd.Int64N(int64(30 * 24 * time.Hour))))
			}
			updated := created.Add(time.Duration(rnd.Int64N(int64(48 * time.Hour))))
			if updated.After(now) {
				updated = now
			}
			var status string
			if isOpen {
				status = []string{"new", "open", "waiting"}[pick(30, 50, 20)]
			} else {
				status = []string{"solved", "closed"}[pick(20, 80)]
			}
			plan := []string{"basic", "priority", "individual"}[pick(60, 30, 10)]
			rank, organisation, callAfter := 1, "Acme "+string(rune('A'+rnd.IntN(26))), 1
			if plan == "basic" {
				rank, organisation, callAfter = 2, "", 3
			}
			severity := 1 + pick(5, 15, 55, 25)
			var due any // individual terms are mostly "as agreed": no fixed target
			if plan != "individual" || rnd.IntN(10) < 3 {
				if isOpen {
					due = ts(now.Add(time.Duration(rnd.Int64N(int64(7*24*time.Hour))) - 48*time.Hour))
				} else {
					due = ts(created.Add(time.Duration(1+rnd.IntN(72)) * time.Hour))
				}
			}
			var paused any
			if status == "waiting" || status == "solved" {
				paused = ts(updated)
			}
			replies := rnd.IntN(6)
			call, reason := 0, ""
			switch {
			case severity <= 2:
				call, reason = 1, "severity"
			case replies >= callAfter && rnd.IntN(10) == 0:
				call, reason = 1, "reply_rule"
			}
			var assignee any
			assigneeName := ""
			if rnd.IntN(10) < 4 {
				id := 1 + rnd.IntN(8)
				assignee, assigneeName = id, fmt.Sprintf("Agent %d", id)
			}
			lang := langs[pick(50, 15, 15, 10, 10)]
			english := 0
			if lang != "en" && rnd.IntN(10) < 3 {
				english = 1
			}
			rand.Read(hash)
			if _, err := stmt.Exec(1001+i, hash, status, plan, organisation, severity,
				fmt.Sprintf("Export fails after the upgrade (case %d)", i), lang, english,
				"Jana Nováková", "Customer "+string(rune('A'+rnd.IntN(26))), "+420 601 555 010",
				fmt.Sprintf("user%d@customer.example", i%5000), ts(created), ts(updated), due,
				call, assignee, assigneeName, replies, replies%(callAfter+1), reason, callAfter, paused, rank,
				deployments[i%len(deployments)]); err != nil {
				return err
			}
		}
		return tx.Commit()
	}()
	if err != nil {
		b.Fatalf("seed %d tickets: %v", total, err)
	}
	// A desk's database has a small write-ahead log, not 40 MB of fresh
	// pages.
	if _, err := db.Raw().Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
}
