package tickets

import (
	"context"
	"strings"
	"testing"
	"time"
)

// queuePlanSQL are the queue's three queries as Store.Queue and queueCounts
// run them, for EXPLAIN QUERY PLAN.
func queuePlanSQL(f QueueFilter, now, risk time.Time) map[string]struct {
	sql  string
	args []any
} {
	where, args := queueWhere(f, now, risk)
	return map[string]struct {
		sql  string
		args []any
	}{
		"count":       {queueCountSQL(f, where), args},
		"items":       {queueItemsSQL(f, where), append(append([]any{}, args...), 50, 0)},
		"counts":      {queueCountsSQL, nil},
		"deployments": {deploymentCountsSQL, nil},
		"sla":         {slaCountsSQL, []any{formatTime(now), formatTime(risk), formatTime(now)}},
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
		{"deployment_other", QueueFilter{Deployment: DeploymentOther}},
		{"deployment_none_sev3", QueueFilter{Deployment: DeploymentNone, Severity: 3}},
		{"unassigned_fr", QueueFilter{Assignee: Unassigned, Lang: "fr"}},
	} {
		for name, q := range queuePlanSQL(f.f, now, risk) {
			if (name == "counts" || name == "deployments" || name == "sla") && f.name != "default" {
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
