package tickets

import (
	"context"
	"strings"
	"testing"
	"time"
)

// queuePlanSQL are the queue's three queries as Store.Queue and queueCounts
// run them (the SELECT lists and ORDER BY copied from queue.go, the WHERE
// from queueWhere), for EXPLAIN QUERY PLAN.
func queuePlanSQL(f QueueFilter, now, risk time.Time) map[string]struct {
	sql  string
	args []any
} {
	where, args := queueWhere(f, now, risk)
	return map[string]struct {
		sql  string
		args []any
	}{
		"count": {`SELECT count(*) FROM tickets WHERE ` + where, args},
		"items": {`SELECT number, status, plan, organisation, severity, subject, lang, answer_in_english,
			name, company, phone, call_required, call_reason, coalesce(assignee_id, 0), assignee_name, agent_replies,
			created_at, updated_at, sla_due, paused_at
			FROM tickets WHERE ` + where + `
			ORDER BY queue_rank, call_required DESC, severity, ifnull(sla_due, '~'), number LIMIT ? OFFSET ?`,
			append(append([]any{}, args...), 50, 0)},
		"counts": {`SELECT status, plan, severity, lang, coalesce(assignee_id, -1), max(assignee_name),
			call_required, ` + sqlBreached + `, ` + sqlAtRisk + `, count(*)
			FROM tickets WHERE status IN ('new', 'open', 'waiting')
			GROUP BY 1, 2, 3, 4, 5, 7, 8, 9`, []any{formatTime(now), formatTime(now), formatTime(risk)}},
	}
}

// TestQueuePlans prints the query plans of the queue (go test -v -run
// QueuePlans ./tickets) and fails if one reads the whole tickets table.
// No ANALYZE is run anywhere, so the plans do not depend on the data: an
// empty database plans as a full one.
func TestQueuePlans(t *testing.T) {
	e := newEnv(t, nil)
	now := e.clock.Now().UTC()
	risk := now.Add(atRiskWithin)
	for _, f := range []struct {
		name string
		f    QueueFilter
	}{
		{"default", QueueFilter{}},
		{"basic_sev3", QueueFilter{Plan: PlanBasic, Severity: 3}},
		{"at_risk", QueueFilter{AtRisk: true}},
		{"unassigned_fr", QueueFilter{Assignee: Unassigned, Lang: "fr"}},
	} {
		for name, q := range queuePlanSQL(f.f, now, risk) {
			if name == "counts" && f.name != "default" {
				continue // the same query whatever the filter
			}
			rows, err := e.db.QueryContext(context.Background(), `EXPLAIN QUERY PLAN `+q.sql, q.args...)
			if err != nil {
				t.Fatal(err)
			}
			var steps []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				steps = append(steps, detail)
			}
			if err := rows.Close(); err != nil {
				t.Fatal(err)
			}
			plan := strings.Join(steps, "; ")
			t.Logf("%s %s: %s", f.name, name, plan)
			for _, s := range steps {
				if s == "SCAN tickets" {
					t.Errorf("%s %s reads the whole table: %s", f.name, name, plan)
				}
			}
		}
	}
}
