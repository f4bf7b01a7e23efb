package mailroute_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/orbitask/portal/tickets"
)

// TestNoLoopWithAutoResponders: auto-responders that set none of the
// recognised headers never get a second answer: a mail whose
// In-Reply-To/References name one of our answers (whatever its subject), a
// subject "Automatic reply:", a mail carrying our own X-Loop. Every mail
// the portal sends names the support address in X-Loop.
func TestNoLoopWithAutoResponders(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	raw := rawMail("Petr <petr@firm.example>", support, "Password", "<q0@firm.example>", "", "How do I reset my password?\n")
	if err := p.Route.Deliver(ctx, "petr@firm.example", []string{support}, raw); err != nil {
		t.Fatal(err)
	}
	answer := p.relay.wait(t, 1)[0]
	if got := answer.Header.Get("X-Loop"); got != support {
		t.Errorf("the answer's X-Loop = %q, want %s", got, support)
	}
	ourID := answer.Header.Get("Message-Id")
	for i := 1; i <= 8; i++ {
		// a naive responder: "Re:" subject, no headers, threaded under our answer
		raw := rawMail("Petr <petr@firm.example>", support, "Re: Password", fmt.Sprintf("<oof%d@firm.example>", i),
			"In-Reply-To: "+ourID+"\r\nReferences: <q0@firm.example> "+ourID+"\r\n", "I am out of the office until Monday.\n")
		if err := p.Route.Deliver(ctx, "petr@firm.example", []string{support}, raw); err != nil {
			t.Fatal(err)
		}
	}
	for i, extra := range []struct{ subject, headers string }{
		{"Automatic reply: Password", ""},
		{"Password", "X-Loop: " + support + "\r\n"},
	} {
		raw := rawMail("Eva <eva@firm.example>", support, extra.subject, fmt.Sprintf("<other%d@firm.example>", i), extra.headers, "How do I reset my password?\n")
		if err := p.Route.Deliver(ctx, "eva@firm.example", []string{support}, raw); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.answers(t); n != 1 {
		t.Errorf("%d answers, want only the first question's", n)
	}
	if n := p.count(t, `SELECT count(*) FROM mailroute_seen WHERE sender = 'petr@firm.example' AND outcome = 'limited'`); n != 8 {
		t.Errorf("%d answers to our answer recorded as seen unanswered, want 8", n)
	}
	// The ticket mails carry it too.
	tk := p.file(t, "jana@acme.example")
	for _, m := range p.relay.wait(t, 2) {
		if m.Header.Get("Subject") != answer.Header.Get("Subject") && m.Header.Get("X-Loop") != support {
			t.Errorf("the filed mail of #%d has X-Loop %q", tk.Number, m.Header.Get("X-Loop"))
		}
	}
}

// TestAutoReplyDoesNotReopen: an auto-reply to the "solved" mail that says
// so only by its subject, sent to the ticket's reply address from the
// ticket's address, is dropped: the ticket stays solved.
func TestAutoReplyDoesNotReopen(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	tk := p.file(t, "jana@acme.example")
	if _, err := p.Tickets.SetStatus(ctx, tk.Number, tickets.StatusSolved, tickets.ActorSupport); err != nil {
		t.Fatal(err)
	}
	to := p.ReplyTags.Address(tk.Number)
	raw := rawMail("Jana <jana@acme.example>", to, "Automatische Antwort: [#1001] Export stops halfway", "<oof@acme.example>", "",
		"Ich bin bis Montag nicht im Büro.\n")
	if err := p.Route.Deliver(ctx, "jana@acme.example", []string{to}, raw); err != nil {
		t.Fatal(err)
	}
	got, err := p.Tickets.GetByNumber(ctx, tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != tickets.StatusSolved || len(got.Messages) != 1 {
		t.Errorf("status %s, %d messages: the auto-reply reopened the ticket", got.Status, len(got.Messages))
	}
}
