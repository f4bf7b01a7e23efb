package console_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/internal/browsertest"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

// TestBrowserStandardAnswer: on a ticket whose deployment is "other", the
// agent types a line, then inserts the standard answer: it follows the
// draft in the reply box, in the ticket's language, without a reload.
func TestBrowserStandardAnswer(t *testing.T) {
	chromium := browsertest.Find(t)
	p := newPortal(t, server.Config{})
	base, svc := "http://"+p.serve(t), p.svc
	ctx := context.Background()
	_, otp, err := svc.Staff.AddUser(ctx, "alice@orbitask.example", "Alice Agent", staff.RoleAgent, "test")
	if err != nil {
		t.Fatal(err)
	}
	tk, _, err := svc.Tickets.File(ctx, tickets.NewTicket{Name: "Hans Muster", Company: "Acme", Phone: "+49 30 1234567",
		Email: "hans@acme.example", Subject: "Export geht nicht", Severity: 3, Lang: "de", Deployment: tickets.DeploymentOther,
		Description: "Der Export geht auf unserer eigenen Docker-Installation nicht."})
	if err != nil {
		t.Fatal(err)
	}
	browser := browsertest.Start(t, chromium)
	agent := browsertest.OpenTab(t, browser)
	browsertest.Step(t, agent, "sign in",
		chromedp.Navigate(base+"/agent"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "alice@orbitask.example"),
		chromedp.SendKeys(chromedp.ID("password"), otp),
	)
	browsertest.Value(t, agent, "submit", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Submit(chromedp.ID("password"))))
	browsertest.Step(t, agent, "choose a password",
		chromedp.WaitVisible(chromedp.CSS(`input[name="current_password"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="current_password"]`), otp),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "a long enough secret"),
		chromedp.SendKeys(chromedp.CSS(`input[name="confirm"]`), "a long enough secret"),
	)
	browsertest.Value(t, agent, "save", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Submit(chromedp.CSS(`input[name="confirm"]`))))
	browsertest.Step(t, agent, "open the ticket",
		chromedp.Navigate(base+"/agent/tickets/"+strconv.Itoa(tk.Number)),
		chromedp.WaitVisible(chromedp.ID("bug-policy")),
		chromedp.Evaluate[chromedp.Void](`window.portalBrowserTest = "same document"`),
		chromedp.SendKeys(chromedp.ID("reply-body"), "Hallo Herr Muster,"),
		chromedp.Click(chromedp.ID("insert-standard-answer")),
	)
	got := browsertest.Value(t, agent, "the reply box", chromedp.Evaluate[string](`document.getElementById("reply-body").value`))
	if !strings.HasPrefix(got, "Hallo Herr Muster,\n\nVielen Dank für Ihre Meldung. Gemäß unserer Support-Richtlinie") {
		t.Fatalf("reply box: %q", got)
	}
	if m := browsertest.Value(t, agent, "the marker", chromedp.Evaluate[string](`String(window.portalBrowserTest)`)); m != "same document" {
		t.Error("the page reloaded; want the answer filled in place")
	}
	browsertest.CheckA11y(t, agent)
	browsertest.Screenshot(t, agent, "policy-standard-answer")
}
