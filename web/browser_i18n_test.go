package web

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/internal/browsertest"
	"github.com/orbitask/portal/tickets"
)

// TestBrowserCzechCustomer checks that the scripts speak the page's
// language: the suggestions while drafting, and a ticket's page followed
// live, whose history lines are written from the events' kinds.
func TestBrowserCzechCustomer(t *testing.T) {
	chromium := browsertest.Find(t)
	base, svc := serveBundledPortal(t)
	browser := browsertest.Start(t, chromium)
	tab := browsertest.OpenTab(t, browser)

	browsertest.Step(t, tab, "open the ticket form in Czech",
		chromedp.Navigate(base+"/tickets/new?lang=cs"),
		chromedp.WaitReady(chromedp.ID("subject")),
		chromedp.Click(chromedp.ID("subject")),
	)
	browsertest.Step(t, tab, "type the subject", browsertest.PressKeys("heslo reset"))
	count := browsertest.Value(t, tab, "the suggestions' count",
		chromedp.Poll[string](`(() => {
			const c = document.querySelector("#suggestions .suggestions__count");
			return c ? c.textContent : null;
		})()`))
	if !strings.HasPrefix(count, "Na váš dotaz") {
		t.Errorf("suggestions say %q, want Czech", count)
	}
	if got := browsertest.Value(t, tab, "the solved button", chromedp.Evaluate[string](`document.querySelector(".suggestion__solved").textContent`)); got != "Tohle můj problém vyřešilo" {
		t.Errorf("solved button = %q", got)
	}

	tk, token, err := svc.Tickets.File(context.Background(), tickets.NewTicket{Name: "Jana", Company: "Acme",
		Phone: "+420 601 555 010", Email: "jana@acme.example", Subject: "Export", Description: "Export se zastaví.",
		Severity: 3, Lang: "cs"})
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Step(t, tab, "open the Czech ticket and wait until it is live",
		chromedp.Navigate(base+ticketURL(tk.Number, token)),
		chromedp.WaitReady(chromedp.ID("live-status")),
		chromedp.Poll[chromedp.Void](`document.getElementById("live-status").textContent === "Živě"`),
	)
	sla := browsertest.Value(t, tab, "the commitment", chromedp.Evaluate[string](`document.getElementById("sla").textContent`))
	if !strings.HasPrefix(sla, "Tarif Basic: konečné vyřešení do 24 pracovních hodin, nejpozději: ") || strings.Contains(sla, "{") {
		t.Errorf("commitment = %q, want the Czech text with the local due time", sla)
	}

	if _, err := svc.Tickets.SetStatus(context.Background(), tk.Number, tickets.StatusOpen, tickets.ActorCLI); err != nil {
		t.Fatal(err)
	}
	browsertest.Step(t, tab, "see the status change in Czech",
		chromedp.Poll[chromedp.Void](`document.getElementById("status").textContent === "V řešení"`),
		chromedp.Poll[chromedp.Void](`[...document.querySelectorAll("#history .history__text")].some(e => e.textContent === "Stav změněn na „V řešení“")`),
	)
	history := browsertest.Value(t, tab, "the history", chromedp.Evaluate[string](`document.getElementById("history").textContent`))
	if !strings.Contains(history, "Tiket založen") {
		t.Errorf("history = %q, want the filing in Czech", history)
	}
}
