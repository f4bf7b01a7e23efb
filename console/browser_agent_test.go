package console_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/internal/browsertest"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

// TestBrowserAgentWorksATicket: an agent signs in to the console with the
// one-time password, chooses a password, sees a new ticket arrive in the
// queue without a reload, replies and solves it — while the customer's
// ticket page, open in another browser profile, shows the reply and the
// solved status live.
func TestBrowserAgentWorksATicket(t *testing.T) {
	chromium := browsertest.Find(t)
	p := newPortalOver(t, "../content", server.Config{})
	base, svc := "http://"+p.serve(t), p.svc
	ctx := context.Background()
	_, otp, err := svc.Staff.AddUser(ctx, "alice@orbitask.example", "Alice Agent", staff.RoleAgent, "test")
	if err != nil {
		t.Fatal(err)
	}
	browser := browsertest.Start(t, chromium)
	agent := browsertest.OpenTab(t, browser)
	customer := browsertest.OpenTab(t, browser, chromedp.WithNewBrowserContext())

	browsertest.Step(t, agent, "open the console: sent to sign in",
		chromedp.Navigate(base+"/agent"),
		chromedp.WaitVisible(chromedp.ID("email")),
	)
	browsertest.CheckA11y(t, agent)
	browsertest.Screenshot(t, agent, "07-sign-in")
	browsertest.Step(t, agent, "fill in the sign-in form",
		chromedp.SendKeys(chromedp.ID("email"), "alice@orbitask.example"),
		chromedp.SendKeys(chromedp.ID("password"), otp),
	)
	browsertest.Value(t, agent, "sign in", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Submit(chromedp.ID("password"))))
	browsertest.Step(t, agent, "choose a password",
		chromedp.WaitVisible(chromedp.CSS(`input[name="current_password"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="current_password"]`), otp),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "a long enough secret"),
		chromedp.SendKeys(chromedp.CSS(`input[name="confirm"]`), "a long enough secret"),
	)
	browsertest.Value(t, agent, "save the password", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Submit(chromedp.CSS(`input[name="confirm"]`))))
	browsertest.Step(t, agent, "the queue, live",
		chromedp.WaitVisible(chromedp.ID("queue")),
		chromedp.Poll[chromedp.Void](`document.getElementById("live-dot").dataset.state === "on"`),
		chromedp.Evaluate[chromedp.Void](`window.portalBrowserTest = "same document"`),
	)

	// A customer files a ticket; it appears in the queue by itself.
	tk, token, err := svc.Tickets.File(ctx, tickets.NewTicket{Name: "Jana Novak", Company: "Acme Ltd", Phone: "+420 601 555 010",
		Email: "jana@acme.example", Subject: "Export button does nothing", Severity: 3,
		Description: "When I click export nothing happens. It worked before the upgrade."})
	if err != nil {
		t.Fatal(err)
	}
	row := `tr[data-number="` + strconv.Itoa(tk.Number) + `"]`
	browsertest.Step(t, agent, "the new ticket arrives in the queue",
		chromedp.WaitVisible(chromedp.CSS(row)),
	)
	if got := browsertest.Value(t, agent, "the marker", chromedp.Evaluate[string](`String(window.portalBrowserTest)`)); got != "same document" {
		t.Error("the queue reloaded; want the row swapped in")
	}
	browsertest.CheckA11y(t, agent)
	browsertest.Screenshot(t, agent, "08-queue")

	browsertest.Step(t, customer, "the customer opens the private page",
		chromedp.Navigate(base+"/tickets/"+strconv.Itoa(tk.Number)+"?token="+url.QueryEscape(token)),
		chromedp.WaitReady(chromedp.ID("live-status")),
		chromedp.Poll[chromedp.Void](`document.getElementById("live-status").dataset.state === "live"`),
		chromedp.Evaluate[chromedp.Void](`window.portalBrowserTest = "same document"`),
	)

	browsertest.Value(t, agent, "open the ticket", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.CSS(row+` a.queue-row__subject`))))
	browsertest.Step(t, agent, "the ticket page", chromedp.WaitVisible(chromedp.ID("reply-body")))
	browsertest.CheckA11y(t, agent)
	browsertest.Screenshot(t, agent, "09-agent-ticket")
	browsertest.Step(t, agent, "write a reply",
		chromedp.SendKeys(chromedp.ID("reply-body"), "Please clear the **browser cache** and try again. See "),
	)
	browsertest.Step(t, agent, "link a knowledge-base article",
		chromedp.WaitVisible(chromedp.ID("kb-query")),
		chromedp.SendKeys(chromedp.ID("kb-query"), "reset password"),
		chromedp.WaitVisible(chromedp.CSS(`#kb-results .kb-link__hit`)),
		chromedp.Click(chromedp.CSS(`#kb-results .kb-link__hit`)),
		chromedp.Poll[chromedp.Void](`/\]\(http:\/\/[^)]+\/kb\/en\/[a-z-]+\)$/.test(document.getElementById("reply-body").value)`),
	)
	browsertest.Value(t, agent, "send it", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.ID("reply-send"))))
	browsertest.Step(t, customer, "the reply appears on the customer's page",
		chromedp.Poll[chromedp.Void](`document.getElementById("messages").textContent.includes("browser cache")`),
		// Markdown, rendered: the bold text and the article's link.
		chromedp.Poll[chromedp.Void](`!!document.querySelector('#messages strong') && !!document.querySelector('#messages a[href*="/kb/en/"]')`),
	)

	browsertest.Step(t, agent, "solve the ticket",
		chromedp.WaitVisible(chromedp.ID("status-select")),
		chromedp.SetValue(chromedp.ID("status-select"), "solved"),
	)
	browsertest.Value(t, agent, "save the status", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(chromedp.ID("status-save"))))
	browsertest.Step(t, agent, "the console shows it solved",
		chromedp.Poll[chromedp.Void](`document.getElementById("ticket-status").dataset.status === "solved"`),
	)
	browsertest.Step(t, customer, "the customer sees it solved",
		chromedp.Poll[chromedp.Void](`document.getElementById("status").dataset.status === "solved"`),
	)
	if got := browsertest.Value(t, customer, "the customer's marker", chromedp.Evaluate[string](`String(window.portalBrowserTest)`)); got != "same document" {
		t.Error("the customer's page reloaded; want the changes applied in place")
	}
	// The audit trail names the agent.
	full, err := svc.Tickets.GetByNumber(ctx, tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	var byAlice int
	for _, ev := range full.History {
		if ev.Staff.Name == "Alice Agent" {
			byAlice++
		}
	}
	if byAlice < 2 {
		t.Fatalf("audit trail: %d events by Alice Agent, want the reply and the status change", byAlice)
	}

	// The operators' page, to an agent: the console's page that says so.
	browsertest.Step(t, agent, "open the operators' page",
		chromedp.Navigate(base+"/operator"),
		chromedp.WaitVisible(chromedp.CSS(`.forbidden a[href="/agent"]`)),
	)
	browsertest.CheckA11y(t, agent)
	browsertest.Screenshot(t, agent, "10-operator-to-an-agent")

	// And to an operator.
	_, otp, err = svc.Staff.AddUser(ctx, "olga@orbitask.example", "Olga Operator", staff.RoleOperator, "test")
	if err != nil {
		t.Fatal(err)
	}
	op := browsertest.OpenTab(t, browser, chromedp.WithNewBrowserContext())
	browsertest.Step(t, op, "the operator signs in",
		chromedp.Navigate(base+"/operator"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "olga@orbitask.example"),
		chromedp.SendKeys(chromedp.ID("password"), otp),
	)
	browsertest.Value(t, op, "sign in", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Submit(chromedp.ID("password"))))
	browsertest.Step(t, op, "choose a password",
		chromedp.WaitVisible(chromedp.CSS(`input[name="current_password"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="current_password"]`), otp),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "another long secret"),
		chromedp.SendKeys(chromedp.CSS(`input[name="confirm"]`), "another long secret"),
	)
	browsertest.Value(t, op, "save the password", chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Submit(chromedp.CSS(`input[name="confirm"]`))))
	browsertest.Step(t, op, "open the operators' page",
		chromedp.Navigate(base+"/operator"),
		chromedp.WaitVisible(chromedp.ID("cal-title")),
	)
	browsertest.CheckA11y(t, op)
	browsertest.Screenshot(t, op, "11-operator")
}
