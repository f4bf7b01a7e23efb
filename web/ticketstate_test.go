package web

import (
	"context"
	"net/http"
	"testing"

	"github.com/orbitask/portal/tickets"
)

var alice = tickets.Staff{ID: 1, Name: "Alice Agent"}

// The customer reads every status in words of their own language that say
// what is happening, and an agent's first reply moves "received" to "in
// progress".
func TestTicketPageStatusWordsPerLanguage(t *testing.T) {
	p := newPortal(t, Config{})
	ctx := context.Background()
	for lang, want := range map[string][2]string{
		"en": {"Received", "In progress"},
		"fr": {"Reçu", "En cours de traitement"},
		"de": {"Eingegangen", "In Bearbeitung"},
		"cs": {"Přijatý", "V řešení"},
	} {
		t.Run(lang, func(t *testing.T) {
			tk, token := fileTicketIn(t, p, lang)
			page := ticketURL(tk.Number, token)
			res, body := p.get(t, page)
			wantStatus(t, res, http.StatusOK)
			wantContains(t, body, `data-status="new">`+want[0]+`</span>`)
			if _, err := p.svc.Tickets.Post(ctx, tk.Number, alice, tickets.AgentReply{Body: "Could you send the log?"}); err != nil {
				t.Fatal(err)
			}
			_, body = p.get(t, page)
			wantContains(t, body, `data-status="open">`+want[1]+`</span>`)
		})
	}
}

// A solved ticket promises nothing it will not do: no call, no resolution
// time; a waiting one says its clock is paused.
func TestSettledTicketPagePromisesNothing(t *testing.T) {
	p := newPortal(t, Config{})
	ctx := context.Background()
	tk, token := fileTicketIn(t, p, "en") // severity 2: a call is required
	page := ticketURL(tk.Number, token)
	_, body := p.get(t, page)
	wantContains(t, body, `id="call-note" data-call="true">`, `id="sla-row">`, `id="sla-paused" hidden`)

	if _, err := p.svc.Tickets.Post(ctx, tk.Number, alice, tickets.AgentReply{Body: "Which version?", Status: tickets.StatusWaiting}); err != nil {
		t.Fatal(err)
	}
	_, body = p.get(t, page)
	wantContains(t, body, `id="sla-row">`, `<span class="sla-paused muted" id="sla-paused">`)

	if _, err := p.svc.Tickets.AgentStatus(ctx, tk.Number, tickets.StatusSolved, alice); err != nil {
		t.Fatal(err)
	}
	res, body := p.get(t, page)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, `data-status="solved">Solved</span>`, `id="call-note" data-call="true" hidden>`, `id="sla-row" hidden>`,
		`id="sla-paused" hidden`)
}
