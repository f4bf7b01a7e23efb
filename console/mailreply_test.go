package console_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
)

// TestMailReplyInTheConsole: a customer's reply by mail shows in the
// agent's ticket page with its files under it, and the original mail
// downloads as the .eml that arrived.
func TestMailReplyInTheConsole(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, pw := p.staffUser(t, "alice@orbitask.example", staff.RoleAgent)
	b := p.browser()
	b.login(t, "alice@orbitask.example", pw)
	tk, _ := fileTestTicket(t, p)
	to := p.svc.ReplyTags.Address(tk.Number)
	raw := "From: Jana <jana@acme.example>\r\nTo: " + to + "\r\nSubject: Re: Export fails\r\nMessage-ID: <r1@acme.example>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"Still failing, log attached.\r\n--b\r\nContent-Type: text/plain; name=export.log\r\nContent-Disposition: attachment; filename=export.log\r\n\r\n" +
		"ERROR export stopped at row 5000\r\n--b--\r\n"
	if err := p.svc.Route.Deliver(context.Background(), "jana@acme.example", []string{to}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	res, body := b.send(t, "GET", "/agent/tickets/"+itoa(tk.Number), nil)
	wantStatus(t, res, http.StatusOK)
	i := strings.Index(body, "Still failing, log attached.")
	if i < 0 {
		t.Fatal("the reply is not on the agent's page")
	}
	links := regexp.MustCompile(`href="(/agent/tickets/\d+/attachments/[0-9a-f]{64})" download>([^<]+)<`).FindAllStringSubmatch(body[i:], -1)
	var eml string
	var names []string
	for _, l := range links {
		names = append(names, l[2])
		if strings.HasSuffix(l[2], ".eml") {
			eml = l[1]
		}
	}
	if len(names) < 2 || names[0] != "export.log" || eml == "" {
		t.Fatalf("files under the reply: %v, want export.log and the .eml", names)
	}
	res, got := b.send(t, "GET", eml, nil)
	wantStatus(t, res, http.StatusOK)
	if got != raw {
		t.Errorf("the .eml downloads as %q", got)
	}
}
