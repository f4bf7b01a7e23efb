package web

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/internal/browsertest"
	"github.com/orbitask/portal/tickets"
)

// TestBrowserPlanMovesUpLive: a ticket whose Priority plan waits for the
// address's confirmation says so on its page; once the address is
// confirmed (here by staff, from the store), the open page shows the
// Priority plan and its commitment without a reload. The find page passes
// the accessibility checks.
func TestBrowserPlanMovesUpLive(t *testing.T) {
	chromium := browsertest.Find(t)
	base, svc := serveBundledPortal(t)
	if err := os.WriteFile(filepath.Join(svc.DataDir, "customers.yaml"),
		[]byte("organisations:\n  - name: Acme Ltd\n    domains: [acme.example]\n    plan: priority\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // customers.yaml is looked at once a second
	ctx := context.Background()
	tk, token, err := svc.Tickets.File(ctx, tickets.NewTicket{Name: "Jana Novak", Company: "Acme Ltd", Phone: "+420 601 555 010",
		Email: "jana@acme.example", Subject: "Export button does nothing", Severity: 3,
		Description: "When I click export nothing happens. It worked before the upgrade."})
	if err != nil {
		t.Fatal(err)
	}
	if tk.PendingPlan != tickets.PlanPriority {
		t.Fatalf("pending %q", tk.PendingPlan)
	}
	browser := browsertest.Start(t, chromium)
	tab := browsertest.OpenTab(t, browser)
	browsertest.Step(t, tab, "open the ticket, live",
		chromedp.Navigate(base+ticketURL(tk.Number, token)),
		chromedp.Poll[chromedp.Void](`document.getElementById("live-status").dataset.state === "live"`),
		chromedp.Poll[chromedp.Void](`document.getElementById("plan").dataset.plan === "basic" && !!document.getElementById("plan-pending")`),
	)
	if _, err := svc.Tickets.ConfirmAddress(ctx, "jana@acme.example", tickets.Confirmer{Via: tickets.ViaStaff,
		Staff: tickets.Staff{ID: 1, Name: "Alice Agent"}}); err != nil {
		t.Fatal(err)
	}
	browsertest.Step(t, tab, "confirmed: Priority, live",
		chromedp.Poll[chromedp.Void](`document.getElementById("plan").textContent === "Priority" && !document.getElementById("plan-pending")`),
		chromedp.Poll[chromedp.Void](`document.getElementById("sla").textContent.indexOf("Priority plan") === 0`),
	)
	browsertest.Step(t, tab, "open the find page",
		chromedp.Navigate(base+"/tickets/find"),
		chromedp.WaitReady(chromedp.ID("find-email")),
	)
	browsertest.CheckA11y(t, tab)
	browsertest.Screenshot(t, tab, "find-my-tickets")
}
