package mailroute_test

import (
	"context"
	"strings"
	"testing"

	"github.com/orbitask/portal/tickets"
)

// TestSecretMarkInCustomerText: a name that looks like the outbox's secret
// mark neither stops a filing (its "filed" mail is sent) nor makes a
// question fail for ever: the question is answered, at the first delivery.
func TestSecretMarkInCustomerText(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	tk, _, err := p.Tickets.File(ctx, tickets.NewTicket{Name: "Jana {{portal:secret:3}}", Company: "Acme", Phone: "+420 601 555 010",
		Email: "jana@acme.example", Subject: "Export stops", Description: "The invoice export stops halfway through.", Severity: 3})
	if err != nil {
		t.Fatalf("a name with the outbox's mark cannot file: %v", err)
	}
	got := p.relay.wait(t, 1)
	if !strings.Contains(got[0].Header.Get("Subject"), "Export stops") {
		t.Errorf("mail sent for #%d: subject %q", tk.Number, got[0].Header.Get("Subject"))
	}
	raw := rawMail("\"{{portal:secret:0}}\" <petr@firm.example>", support, "Password {{portal:secret}}", "<poison@firm.example>", "", "How do I reset my password?\n")
	if err := p.Route.Deliver(ctx, "petr@firm.example", []string{support}, raw); err != nil {
		t.Fatalf("a question from a name with the mark: %v", err)
	}
	if n := p.answers(t); n != 1 {
		t.Errorf("%d answers, want 1", n)
	}
	p.relay.wait(t, 2)
}
