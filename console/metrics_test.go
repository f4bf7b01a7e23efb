package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/staff"
)

// /metrics on the main address is for operators' tokens only: 401 with
// the Bearer challenge without one (in plain text, as a scraper shows
// it), 403 for agents and writers, the metrics for an operator.
func TestMetricsNeedAnOperatorsToken(t *testing.T) {
	p := newPortal(t, server.Config{})
	operator := p.staffToken(t, "olga@orbitask.example", staff.RoleOperator)
	agent := p.staffToken(t, "alice@orbitask.example", staff.RoleAgent)
	writer := p.staffToken(t, "wendy@orbitask.example", staff.RoleWriter)
	for _, c := range []struct {
		name, auth string
		status     int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"a wrong token", "Bearer nope", http.StatusUnauthorized},
		{"an agent", "Bearer " + agent, http.StatusForbidden},
		{"a writer", "Bearer " + writer, http.StatusForbidden},
		{"an operator", "Bearer " + operator, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, body := p.get(t, "/metrics", "Authorization", c.auth)
			wantStatus(t, res, c.status)
			switch c.status {
			case http.StatusOK:
				m := testportal.ParseMetrics(t, strings.NewReader(body))
				if _, ok := m.Value("portal_tickets_filed_total"); !ok {
					t.Errorf("no portal_tickets_filed_total in:\n%.500s", body)
				}
				if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q", cc)
				}
			default:
				if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
					t.Errorf("refusal as %q, want plain text: %.200s", ct, body)
				}
				if strings.Contains(body, "portal_") {
					t.Errorf("refusal shows metrics: %.200s", body)
				}
			}
			if c.status == http.StatusUnauthorized && !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without the Bearer challenge: %q", res.Header.Get("WWW-Authenticate"))
			}
		})
	}
}

// The period of /api/metrics/deflection is checked before anything is
// computed: a bad date or a to before from is refused naming the field,
// and only operators may ask.
func TestDeflectionAPIRefusesBadPeriods(t *testing.T) {
	p := newPortal(t, server.Config{})
	operator := p.staffToken(t, "olga@orbitask.example", staff.RoleOperator)
	agent := p.staffToken(t, "alice@orbitask.example", staff.RoleAgent)
	res, body := p.get(t, "/api/metrics/deflection")
	wantStatus(t, res, http.StatusUnauthorized)
	wantContains(t, body, `"error"`)
	res, _ = p.get(t, "/api/metrics/deflection", "Authorization", "Bearer "+agent)
	wantStatus(t, res, http.StatusForbidden)
	later := time.Now().UTC().AddDate(0, 0, 2).Format(time.DateOnly) // after the end of today
	for _, c := range []struct{ query, field, code string }{
		{"from=yesterday", "from", "date"},
		{"from=2026-02-30", "from", "date"},
		{"to=2026-11-05T10:00", "to", "date"}, // no zone: not RFC 3339
		{"from=2026-11-05&to=2026-11-04", "to", "date_order"},
		{"from=2026-11-05T10:00:00Z&to=2026-11-05T09:59:59Z", "to", "date_order"},
		{"from=2026-11-05T00:00:00Z&to=2026-11-04", "to", "date_order"}, // the 4th ends as from begins: the day before
		{"from=" + later, "from", "date_order"},
		{"from=1000-01-01&to=2026-11-04", "from", "period_too_long"}, // would roll up a thousand years
	} {
		res, body := p.get(t, "/api/metrics/deflection?"+c.query, "Authorization", "Bearer "+operator)
		wantStatus(t, res, http.StatusUnprocessableEntity)
		var out struct {
			Fields map[string]string
			Codes  map[string]struct{ Code string }
		}
		if err := json.Unmarshal([]byte(body), &out); err != nil {
			t.Fatalf("%s: %v: %s", c.query, err, body)
		}
		if out.Codes[c.field].Code != c.code || out.Fields[c.field] == "" || len(out.Fields) != 1 {
			t.Errorf("%s: %s, want %s: %s", c.query, body, c.field, c.code)
		}
	}
}

// The funnel as JSON on a fixture with known answers: ten drafts started
// in the period (4 solved, 3 filed, 3 abandoned, 2 of them after seeing
// suggestions), one before it and one after it.
func TestDeflectionAPIOnAFixture(t *testing.T) {
	p := newPortal(t, server.Config{})
	operator := p.staffToken(t, "olga@orbitask.example", staff.RoleOperator)
	day := time.Date(2026, 11, 10, 0, 0, 0, 0, time.UTC)
	n := 0
	session := func(started time.Time, outcome string, suggested, opened bool) {
		n++
		id := fmt.Sprintf("fixture-session-%02d", n)
		at := func(d time.Duration) string { return sqlitedb.FormatTime(started.Add(d)) }
		err := p.svc.DB.Write(context.Background(), func(tx *sqlitedb.Tx) error {
			end, ticket, article := any(nil), any(nil), any(nil)
			if outcome != "" {
				end = at(10 * time.Minute)
			}
			switch outcome {
			case "filed":
				ticket = 1000 + n
			case "solved":
				article = "en/backup"
			}
			var outcomeArg any
			if outcome != "" {
				outcomeArg = outcome
			}
			if _, err := tx.Exec(`INSERT INTO deflect_sessions (id, lang, started_at, last_activity_at, ended_at, outcome, article, ticket)
				VALUES (?, 'en', ?, ?, ?, ?, ?, ?)`, id, at(0), at(5*time.Minute), end, outcomeArg, article, ticket); err != nil {
				return err
			}
			events := [][]any{{"started", at(0), nil, nil, nil, nil}}
			if suggested {
				events = append(events, []any{"suggested", at(time.Minute), "backup fails", `["en/backup","en/reset-password"]`, nil, nil})
			}
			if opened {
				events = append(events, []any{"opened", at(2 * time.Minute), nil, nil, "en/backup", nil})
			}
			if outcome != "" {
				events = append(events, []any{outcome, at(10 * time.Minute), nil, nil, article, ticket})
			}
			for _, e := range events {
				if _, err := tx.Exec(`INSERT INTO deflect_events (session_id, kind, at, query, articles, article, ticket)
					VALUES (?, ?, ?, ?, ?, ?, ?)`, id, e[0], e[1], e[2], e[3], e[4], e[5]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		session(day.Add(time.Duration(i)*time.Hour), "solved", true, true)
	}
	for i := range 3 {
		session(day.AddDate(0, 0, 1).Add(time.Duration(i)*time.Hour), "filed", true, false)
	}
	session(day.AddDate(0, 0, 2), "abandoned", true, false)
	session(day.AddDate(0, 0, 2).Add(time.Hour), "abandoned", true, false)
	session(day.AddDate(0, 0, 2).Add(2*time.Hour), "abandoned", false, false)
	session(day.Add(-time.Minute), "solved", true, true)            // the day before: outside
	session(day.AddDate(0, 0, 3), "filed", true, false)             // the day after to: outside
	session(day.AddDate(0, 0, 2).Add(23*time.Hour), "", true, true) // still open: a draft, no outcome

	res, body := p.get(t, "/api/metrics/deflection?from=2026-11-10&to=2026-11-12", "Authorization", "Bearer "+operator)
	wantStatus(t, res, http.StatusOK)
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"from": "2026-11-10T00:00:00Z", "to": "2026-11-13T00:00:00Z",
		"drafts": 11.0, "shown": 10.0, "opened": 5.0, "solved": 4.0, "abandoned": 3.0,
		"abandoned_after_suggestions": 2.0, "filed": 3.0,
		"deflection_rate": 4.0 / 7, "implicit_rate": 2.0 / 9, "click_through": 5.0 / 10,
	}
	for k, w := range want {
		g, ok := got[k]
		if wf, isNum := w.(float64); isNum {
			gf, _ := g.(float64)
			if !ok || math.Abs(gf-wf) > 1e-9 {
				t.Errorf("%s = %v, want %v", k, g, w)
			}
		} else if g != w {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}

	// A period with no drafts: counts 0, rates null (not 0, not NaN).
	res, body = p.get(t, "/api/metrics/deflection?from=2026-01-01&to=2026-01-31", "Authorization", "Bearer "+operator)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, `"drafts":0`, `"deflection_rate":null`, `"implicit_rate":null`, `"click_through":null`)
	// The default period is the last 30 days up to today.
	res, body = p.get(t, "/api/metrics/deflection", "Authorization", "Bearer "+operator)
	wantStatus(t, res, http.StatusOK)
	end := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	wantContains(t, body, `"to":"`+end.Format(time.RFC3339)+`"`, `"from":"`+end.AddDate(0, 0, -30).Format(time.RFC3339)+`"`)
}
