package app

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/tickets"
)

// TestFiledMailAsksToConfirm: the "ticket filed" mail of a ticket whose
// plan waits for a confirmed address carries, in the ticket's language,
// the ticket's link and the link that confirms the address; the latter
// confirms it; the outbox forgets both tokens once the mail is sent.
func TestFiledMailAsksToConfirm(t *testing.T) {
	relay, url := startCapture(t)
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "customers.yaml"),
		[]byte("organisations:\n  - name: Acme Ltd\n    domains: [acme.example]\n    plan: priority\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Open(Config{Data: data, Content: content(t), FeedInterval: time.Hour, HashMemoryKiB: 64, HashTime: 1,
		Mail:      mail.SenderConfig{SMTPURL: url, From: "Orbitask Support <support@help.example>"},
		PublicURL: "https://help.example"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.RunMail()
	ctx := context.Background()
	tk, token, err := a.Tickets.File(ctx, tickets.NewTicket{Name: "Jana Nováková", Company: "Acme", Phone: "+420 601 555 010",
		Email: "jana@acme.example", Subject: "Export nefunguje", Description: "Export se zastaví v polovině.", Severity: 3, Lang: "cs"})
	if err != nil {
		t.Fatal(err)
	}
	m := relay.wait(t, 1)[0]
	body, _ := io.ReadAll(m.Body)
	text := qpDecode(t, m, string(body))
	if !strings.Contains(text, "https://help.example/tickets/1001?token="+token) || !strings.Contains(text, "Plán Priority vaší organizace") {
		t.Fatalf("the mail lacks the ticket's link or the Czech request to confirm:\n%s", text)
	}
	link := regexp.MustCompile(`/tickets/confirm\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(text)
	if link == nil {
		t.Fatalf("no confirm link:\n%s", text)
	}
	c, err := a.Tickets.ConfirmWithToken(ctx, link[1])
	if err != nil || len(c.Moved) != 1 || c.Moved[0].Number != tk.Number {
		t.Fatalf("the mailed confirm link: %+v, %v", c, err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var left int
		if err := a.DB.QueryRow(`SELECT count(*) FROM mail_outbox WHERE secret IS NOT NULL OR secrets IS NOT NULL
			OR text_body LIKE '%' || ? || '%' OR text_body LIKE '%' || ? || '%'`, token, link[1]).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the outbox still holds a token after sending")
		}
	}
}
