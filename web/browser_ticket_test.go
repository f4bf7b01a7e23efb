package web

import (
	"context"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/internal/browsertest"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

// TestBrowserTicketJourney is the customer's way through the portal in a
// real Chromium: type a draft and see a bundled article suggested, decide it
// does not help, file the ticket, then watch its page change when support
// changes the status from another process — without a reload.
func TestBrowserTicketJourney(t *testing.T) {
	chromium := browsertest.Find(t)
	base, svc := serveBundledPortal(t)
	browser := browsertest.Start(t, chromium)
	tab := browsertest.OpenTab(t, browser)

	browsertest.Step(t, tab, "open the ticket form",
		chromedp.Navigate(base+"/tickets/new"),
		chromedp.WaitReady(chromedp.ID("subject")),
	)
	browsertest.CheckA11y(t, tab)
	browsertest.Screenshot(t, tab, "04-ticket-form")
	browsertest.Step(t, tab, "focus the subject", chromedp.Click(chromedp.ID("subject")))
	browsertest.Step(t, tab, "type the subject", browsertest.PressKeys("I forgot my password"))
	browsertest.Step(t, tab, "type the description",
		chromedp.Click(chromedp.ID("description")),
		browsertest.PressKeys("The reset e-mail never arrives."),
	)
	browsertest.Step(t, tab, "see the article suggested",
		chromedp.WaitVisible(chromedp.CSS(`#suggestions a[href="/kb/en/reset-password"]`)),
	)
	browsertest.Screenshot(t, tab, "05-draft-suggestions")
	browsertest.Step(t, tab, "none of these help",
		chromedp.Click(chromedp.ID("continue")),
		chromedp.WaitVisible(chromedp.ID("name")),
	)
	browsertest.Step(t, tab, "fill in the contact details",
		chromedp.SendKeys(chromedp.ID("name"), "Jana Novak"),
		chromedp.SendKeys(chromedp.ID("company"), "Acme Ltd"),
		chromedp.SendKeys(chromedp.ID("phone"), "+420 601 555 010"),
		chromedp.SendKeys(chromedp.ID("email"), "jana@acme.example"),
		chromedp.Click(chromedp.ID("severity-3")),
	)
	session := browsertest.Value(t, tab, "the deflection session", chromedp.Evaluate[string](`document.getElementById("deflection_session").value`))
	browsertest.Value(t, tab, "file the ticket",
		chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Submit(chromedp.ID("subject"))))
	loc := browsertest.Value(t, tab, "the location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(u.Path, "/tickets/") || u.Query().Get("token") == "" {
		t.Fatalf("after filing the browser is at %s, want the private ticket page", loc)
	}
	number, err := strconv.Atoi(strings.TrimPrefix(u.Path, "/tickets/"))
	if err != nil {
		t.Fatalf("ticket number in %s: %v", loc, err)
	}
	if got := browsertest.Value(t, tab, "the status", chromedp.AttributeValue(chromedp.ID("status"), "data-status")); got.Value != "new" {
		t.Fatalf("status = %q, want new", got.Value)
	}
	browsertest.Step(t, tab, "wait until the page is live",
		chromedp.WaitReady(chromedp.CSS(`#live-status`)),
		chromedp.Poll[chromedp.Void](`document.getElementById("live-status").textContent.trim().startsWith("Live")`),
		chromedp.Evaluate[chromedp.Void](`window.portalBrowserTest = "same document"`),
	)
	browsertest.CheckA11y(t, tab)
	browsertest.Screenshot(t, tab, "06-ticket-filed")

	// Support changes the status from the command line: another process,
	// another database handle, the same data directory.
	db, err := sqlitedb.Open(filepath.Join(svc.DataDir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cli, err := tickets.Open(tickets.Config{DB: db, DataDir: svc.DataDir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.SetStatus(context.Background(), number, tickets.StatusOpen, tickets.ActorCLI); err != nil {
		t.Fatal(err)
	}
	browsertest.Step(t, tab, "see the status change without a reload",
		chromedp.Poll[chromedp.Void](`document.getElementById("status").dataset.status === "open"`),
	)
	if got := browsertest.Value(t, tab, "the marker", chromedp.Evaluate[string](`String(window.portalBrowserTest)`)); got != "same document" {
		t.Error("the page reloaded; want the status applied in place")
	}
	if _, err := cli.Reply(context.Background(), number, tickets.ActorSupport, "Could you check your spam folder?"); err != nil {
		t.Fatal(err)
	}
	browsertest.Step(t, tab, "see support's reply appear",
		chromedp.Poll[chromedp.Void](`document.getElementById("messages").textContent.includes("Could you check your spam folder?")`),
	)

	// The draft was a deflection session, and filing ended it.
	trail, err := svc.Deflect.Trail(context.Background(), session)
	if err != nil || len(trail) == 0 {
		t.Fatalf("deflection trail of %q: %v, %v", session, trail, err)
	}
	var kinds []string
	for _, ev := range trail {
		kinds = append(kinds, ev.Kind)
	}
	joined := strings.Join(kinds, " ")
	for _, want := range []string{"started", "suggested", "continued", "filed"} {
		if !strings.Contains(joined, want) {
			t.Errorf("deflection events %q lack %q", joined, want)
		}
	}
}
