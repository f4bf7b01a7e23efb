package web

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/internal/testportal"
)

// A description long enough that storing it needs new pages of the
// database, which a full one does not have.
var longDescription = strings.Repeat("The nightly export stops half way and the log says nothing useful. ", 120)

// With the database full for real (SQLite's own "database or disk is
// full"): filing answers 503 with Retry-After and a message saying to try
// again, as JSON for the API and as the form with the customer's draft for
// the page; /healthz says degraded and why; hundreds of failing requests
// log a line or two, not one each; and once there is room again and a
// filing succeeds, /healthz is ok again.
func TestFilingWhileTheDatabaseIsFull(t *testing.T) {
	rec := &recorder{}
	// 500 filings from one address: the rate limits would refuse them first.
	p := newPortal(t, Config{Logger: slog.New(rec), RateLimits: httpkit.RateLimits{Off: true}})
	health := func(wantStatus int) map[string]any {
		t.Helper()
		res, body := p.get(t, "/healthz")
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); err != nil || res.StatusCode != wantStatus {
			t.Fatalf("/healthz: %d %s (%v), want %d", res.StatusCode, body, err, wantStatus)
		}
		return got
	}
	if got := health(200); got["status"] != "ok" || got["reasons"] != nil {
		t.Fatalf("/healthz before: %v", got)
	}

	testportal.FillDatabase(t, p.svc.DB)
	ticket := strings.Replace(validTicketJSON, "Since the upgrade to 6.4.2 every login fails with Invalid credentials.", longDescription, 1)
	res, body := p.postJSON(t, "/api/tickets", ticket)
	wantStatus(t, res, 503)
	if body != `{"error":"`+httpkit.UnavailableMessage+`"}` || res.Header.Get("Retry-After") == "" {
		t.Errorf("API answer: %s, Retry-After %q", body, res.Header.Get("Retry-After"))
	}

	// The form comes back, in the customer's language, with the draft.
	form := url.Values{"name": {"Jana"}, "company": {"Acme"}, "phone": {"+420 601 555 010"}, "email": {"jana@acme.example"},
		"subject": {"Export stops half way"}, "description": {longDescription}, "severity": {"3"}, "lang": {"de"}}
	req := httptest.NewRequest(http.MethodPost, "/tickets?lang=de", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, body = p.do(t, req)
	wantStatus(t, res, 503)
	wantContains(t, body, `id="ticket-form"`, "Wir können Tickets vorübergehend nicht speichern",
		`value="Export stops half way"`, "The nightly export stops half way", `value="jana@acme.example"`)
	if res.Header.Get("Retry-After") == "" {
		t.Error("the form's 503 lacks Retry-After")
	}
	wantNoInlineCode(t, body)

	got := health(503)
	reasons, _ := got["reasons"].([]any)
	if got["status"] != "degraded" || len(reasons) != 1 || !strings.Contains(reasons[0].(string), "database: writes fail: database or disk is full") ||
		got["articles"] != float64(7) {
		t.Errorf("/healthz while full: %v", got)
	}

	// A flood of failures is a line or two in the log, not one each.
	rec.take()
	for range 500 {
		if res, _ := p.postJSON(t, "/api/tickets", ticket); res.StatusCode != 503 {
			t.Fatalf("status %d", res.StatusCode)
		}
	}
	errorLines := 0
	for _, l := range rec.take() {
		if strings.HasPrefix(l, "ERROR") {
			errorLines++
		}
	}
	if errorLines > 3 {
		t.Errorf("500 failed filings logged %d ERROR lines", errorLines)
	}
	if countTickets(t, p) != 0 {
		t.Error("a ticket was stored in a full database")
	}

	// Room again: still degraded until a write proves it, then ok.
	testportal.FreeDatabase(t, p.svc.DB)
	health(503)
	res, _ = p.postJSON(t, "/api/tickets", ticket)
	wantStatus(t, res, 201)
	if got := health(200); got["status"] != "ok" {
		t.Errorf("/healthz after recovery: %v", got)
	}
}
