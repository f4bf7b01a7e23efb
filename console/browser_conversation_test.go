package console_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/orbitask/portal/internal/browsertest"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/tickets"
)

// TestBrowserConsoleConversationSides: in the console, the customer's
// words, support's and internal notes are told apart at a glance, and the
// reply form's "then set status" defaults to waiting on the customer for a
// reply and to no change for a note.
func TestBrowserConsoleConversationSides(t *testing.T) {
	chromium := browsertest.Find(t)
	p := newPortal(t, server.Config{})
	base := "http://" + p.serve(t)
	ctx := context.Background()
	browser := browsertest.Start(t, chromium)
	tab := browsertest.OpenTab(t, browser)
	signInAgent(t, tab, base, p.svc.Staff, "alice@orbitask.example", "Alice Agent")

	tk, _, err := p.svc.Tickets.File(ctx, tickets.NewTicket{Name: "Jana Novak", Company: "Acme Ltd", Phone: "+420 601 555 010",
		Email: "jana@acme.example", Subject: "Export button does nothing", Severity: 3,
		Description: "When I click export nothing happens. <b>It worked</b> before the upgrade."})
	if err != nil {
		t.Fatal(err)
	}
	bob := tickets.Staff{ID: 99, Name: "Bob Agent"}
	if _, err := p.svc.Tickets.Post(ctx, tk.Number, bob, tickets.AgentReply{Body: "Which **browser** do you use?"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.svc.Tickets.Post(ctx, tk.Number, bob, tickets.AgentReply{Body: "Probably the cache bug.", Internal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.svc.Tickets.Reply(ctx, tk.Number, tickets.ActorCustomer, "Firefox 128."); err != nil {
		t.Fatal(err)
	}
	browsertest.Step(t, tab, "open the ticket",
		chromedp.Navigate(base+"/agent/tickets/"+strconv.Itoa(tk.Number)),
		chromedp.WaitVisible(chromedp.ID("reply-status")),
	)
	labels := browsertest.Value(t, tab, "the messages' labels", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#conversation .msg")].map(m => m.className + ": " + (m.querySelector(".msg__band")?.textContent ?? "") + " " + m.querySelector(".msg__label").textContent)`))
	want := []string{
		"msg msg--customer:  Customer — Jana Novak",
		"msg msg--support:  Support — Bob Agent",
		"msg msg--support msg--internal: Internal note — not visible to the customer Support — Bob Agent",
		"msg msg--customer:  Customer — Jana Novak",
	}
	if strings.Join(labels, "\n") != strings.Join(want, "\n") {
		t.Errorf("labels:\n%s\nwant:\n%s", strings.Join(labels, "\n"), strings.Join(want, "\n"))
	}
	// Sides and colours differ: the customer's on the left, support's
	// indented, the note's background yellow.
	looks := browsertest.Value(t, tab, "the messages' looks", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#conversation .msg")].slice(0, 3).map(m => { const s = getComputedStyle(m); return s.backgroundColor + " " + (m.getBoundingClientRect().left - m.parentElement.getBoundingClientRect().left > 30 ? "right" : "left") })`))
	if len(looks) != 3 || looks[0] == looks[1] || looks[1] == looks[2] || !strings.HasSuffix(looks[0], "left") || !strings.HasSuffix(looks[1], "right") {
		t.Errorf("customer, support and note look %q; want three looks, the customer's on the left", looks)
	}
	// The customer's text stays text.
	if n := browsertest.Value(t, tab, "raw HTML", chromedp.Evaluate[int](`document.querySelectorAll("#conversation .msg--customer b").length`)); n != 0 {
		t.Error("the customer's <b> was rendered as HTML")
	}

	status := func() string {
		return browsertest.Value(t, tab, "the reply's status", chromedp.Evaluate[string](`document.getElementById("reply-status").value`))
	}
	if got := status(); got != "waiting" {
		t.Errorf("a reply's status defaults to %q, want waiting", got)
	}
	browsertest.Step(t, tab, "make it a note", chromedp.Click(chromedp.ID("reply-internal")))
	if got := status(); got != "" {
		t.Errorf("a note's status defaults to %q, want no change", got)
	}
	browsertest.Step(t, tab, "back to a reply", chromedp.Click(chromedp.ID("reply-internal")))
	if got := status(); got != "waiting" {
		t.Errorf("a reply's status is %q after a note, want waiting", got)
	}
	browsertest.Step(t, tab, "the agent chooses solved", chromedp.SetValue(chromedp.ID("reply-status"), "solved"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("reply-status").dispatchEvent(new Event("change", {bubbles: true}))`),
		chromedp.Click(chromedp.ID("reply-internal")))
	if got := status(); got != "solved" {
		t.Errorf("the agent's own choice became %q, want it kept", got)
	}
	// The select looks like the console's other controls.
	border := browsertest.Value(t, tab, "the select's border", chromedp.Evaluate[string](
		`getComputedStyle(document.getElementById("reply-status")).borderRadius + " " + getComputedStyle(document.getElementById("status-select")).borderRadius`))
	if f := strings.Fields(border); len(f) != 2 || f[0] != f[1] || f[0] == "0px" {
		t.Errorf("reply select and status select radii %q; want the same, styled", border)
	}
	browsertest.Step(t, tab, "a reply again", chromedp.Click(chromedp.ID("reply-internal")))
	browsertest.Screenshot(t, tab, "console-ticket")
}
