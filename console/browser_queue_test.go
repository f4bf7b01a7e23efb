package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/internal/browsertest"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
)

// signInAgent signs a new agent in through the console's pages, choosing a
// password in place of the one-time one, and leaves the tab on the queue.
func signInAgent(t *testing.T, tab context.Context, base string, svc interface {
	AddUser(context.Context, string, string, staff.Role, string) (staff.User, string, error)
}, email, name string) {
	t.Helper()
	_, otp, err := svc.AddUser(context.Background(), email, name, staff.RoleAgent, "test")
	if err != nil {
		t.Fatal(err)
	}
	browsertest.FirstSignIn(t, tab, base, "/agent", email, otp)
}

// TestBrowserQueueCountsFollowTheRows: with the queue open, a ticket filed
// through the API appears as a row, and the filters' counts and the
// summary line change with it, never one without the others.
func TestBrowserQueueCountsFollowTheRows(t *testing.T) {
	chromium := browsertest.Find(t)
	p := newPortal(t, server.Config{})
	base := "http://" + p.serve(t)
	browser := browsertest.Start(t, chromium)
	tab := browsertest.OpenTab(t, browser)
	signInAgent(t, tab, base, p.svc.Staff, "alice@orbitask.example", "Alice Agent")

	counts := `(() => {
		const status = document.querySelector('#filters select[name="status"] option[value=""]').textContent;
		const call = document.querySelector('#filters input[name="call_required"]').parentElement.textContent.trim();
		const summary = document.getElementById("queue-summary").textContent;
		const rows = document.querySelectorAll("#queue tr.queue-row").length;
		return [status, call, summary, String(rows)].join(" | ");
	})()`
	before := browsertest.Value(t, tab, "the empty queue's counts", chromedp.Evaluate[string](counts))
	if !strings.Contains(before, "(0) | Call required (0) | 0 open tickets") {
		t.Fatalf("empty queue: %q", before)
	}
	browsertest.Step(t, tab, "mark the document", chromedp.Evaluate[chromedp.Void](`window.portalBrowserTest = "same document"`))

	// Severity 2: a call is required.
	res, _ := p.postJSON(t, "/api/tickets", `{"name":"Jana Novak","company":"Acme","phone":"+420 601 555 010",
		"email":"jana@acme.example","subject":"Cannot log in after upgrade",
		"description":"Since the upgrade to 6.4.2 every login fails with Invalid credentials.","severity":2}`)
	wantStatus(t, res, http.StatusCreated)
	browsertest.Step(t, tab, "the row, the counts and the summary change together",
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#queue tr.queue-row").length === 1`),
	)
	after := browsertest.Value(t, tab, "the counts", chromedp.Evaluate[string](counts))
	for _, want := range []string{"Open work (new, open, waiting) (1)", "Call required (1)", "1 open ticket · 1 to call", "| 1"} {
		if !strings.Contains(after, want) {
			t.Errorf("after filing: %q, want %q", after, want)
		}
	}
	if got := browsertest.Value(t, tab, "the marker", chromedp.Evaluate[string](`String(window.portalBrowserTest)`)); got != "same document" {
		t.Error("the queue reloaded; want the parts swapped in")
	}
	// The swapped-in filters still work.
	browsertest.Value(t, tab, "filter by the call flag", chromedp.WaitEvent(page.LoadEventFired, nil,
		chromedp.Click(chromedp.CSS(`#filters input[name="call_required"]`))))
	browsertest.Step(t, tab, "the filtered queue",
		chromedp.Poll[chromedp.Void](`location.search.includes("call_required=1") && document.querySelectorAll("#queue tr.queue-row").length === 1`),
	)
	browsertest.Screenshot(t, tab, "console-queue")
}
