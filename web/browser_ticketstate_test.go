package web

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/internal/browsertest"
	"github.com/orbitask/portal/tickets"
)

// TestBrowserTicketStatusFollowsSupport: the customer's page, followed
// live, reads "Received", then "In progress" once support replies, says
// the clock is paused while support waits on the customer, and once the
// ticket is solved promises neither a call nor a resolution time.
func TestBrowserTicketStatusFollowsSupport(t *testing.T) {
	chromium := browsertest.Find(t)
	base, svc := serveBundledPortal(t)
	ctx := context.Background()
	browser := browsertest.Start(t, chromium)
	tab := browsertest.OpenTab(t, browser)

	tk, token, err := svc.Tickets.File(ctx, tickets.NewTicket{Name: "Jana Novak", Company: "Acme Ltd", Phone: "+420 601 555 010",
		Email: "jana@acme.example", Subject: "Export button does nothing", Severity: 2, Deployment: tickets.DeploymentCloud,
		Description: "When I click export nothing happens. It worked before the upgrade."})
	if err != nil {
		t.Fatal(err)
	}
	visible := func(id string) string {
		return `!document.getElementById("` + id + `").hidden`
	}
	browsertest.Step(t, tab, "open the ticket, live",
		chromedp.Navigate(base+ticketURL(tk.Number, token)),
		chromedp.Poll[chromedp.Void](`document.getElementById("live-status").dataset.state === "live"`),
		chromedp.Poll[chromedp.Void](`document.getElementById("status").textContent === "Received"`),
		chromedp.Poll[chromedp.Void](visible("call-note")+` && `+visible("sla-row")),
	)
	alice := tickets.Staff{ID: 1, Name: "Alice Agent"}
	if _, err := svc.Tickets.Post(ctx, tk.Number, alice, tickets.AgentReply{Body: "We are on it: which browser do you use?"}); err != nil {
		t.Fatal(err)
	}
	browsertest.Step(t, tab, "support's first reply: in progress",
		chromedp.Poll[chromedp.Void](`document.getElementById("status").textContent === "In progress"`),
	)
	if _, err := svc.Tickets.AgentStatus(ctx, tk.Number, tickets.StatusWaiting, alice); err != nil {
		t.Fatal(err)
	}
	browsertest.Step(t, tab, "waiting on the customer: the clock is paused",
		chromedp.Poll[chromedp.Void](`document.getElementById("status").textContent === "Waiting for your reply"`),
		chromedp.Poll[chromedp.Void](visible("sla-paused")+` && `+visible("sla-row")+` && `+visible("call-note")),
	)
	browsertest.Screenshot(t, tab, "customer-ticket-waiting")
	if _, err := svc.Tickets.AgentStatus(ctx, tk.Number, tickets.StatusSolved, alice); err != nil {
		t.Fatal(err)
	}
	browsertest.Step(t, tab, "solved: no call, no clock",
		chromedp.Poll[chromedp.Void](`document.getElementById("status").textContent === "Solved"`),
		chromedp.Poll[chromedp.Void](`document.getElementById("call-note").hidden && document.getElementById("sla-row").hidden`),
	)
	browsertest.Screenshot(t, tab, "customer-ticket-solved")
}
