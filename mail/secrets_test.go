package mail_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/sqlitedb"
)

// TestSeveralSecrets: a mail with Secret and Secrets gets each in place of
// its mark when sent, and the outbox forgets all of them once it is sent;
// a secret without its mark is refused (a programming error).
func TestSeveralSecrets(t *testing.T) {
	db := openDB(t)
	r := startRelay(t)
	s := newSender(t, db, fast(r.url()))
	m := simple(0)
	m.Text = "Ticket: " + mail.SecretMark + "\nConfirm: " + mail.SecretMarkN(0) + "\nAgain: " + mail.SecretMarkN(0)
	m.HTML = `<a href="` + mail.SecretMarkN(0) + `">confirm</a>`
	m.Secret = "https://help.example/tickets/1001?token=t1"
	m.Secrets = []string{"https://help.example/tickets/confirm?token=c&1"}
	id := enqueue(t, db, m)
	var stored string
	if err := db.QueryRow(`SELECT secrets FROM mail_outbox WHERE id = ?`, id).Scan(&stored); err != nil || !strings.Contains(stored, "token=c") {
		t.Fatalf("queued secrets = %q, %v", stored, err)
	}
	run(t, s)
	got := r.waitFor(1, 2*time.Second)
	_, text, html := parts(t, got[0].msg)
	want := "Ticket: " + m.Secret + "\nConfirm: " + m.Secrets[0] + "\nAgain: " + m.Secrets[0]
	if text != want || !strings.Contains(html, `href="https://help.example/tickets/confirm?token=c&amp;1"`) {
		t.Errorf("bodies: %q / %q", text, html)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		var left, leftN sql.NullString
		if err := db.QueryRow(`SELECT secret, secrets FROM mail_outbox WHERE id = ?`, id).Scan(&left, &leftN); err != nil {
			t.Fatal(err)
		}
		if !left.Valid && !leftN.Valid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("secrets still stored after sending: %q %q", left.String, leftN.String)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, bad := range []mail.Message{
		{To: "a@example.com", Subject: "s", Text: "no mark", Secrets: []string{"x"}},
		{To: "a@example.com", Subject: "s", Text: "mark " + mail.SecretMarkN(0), Secrets: []string{""}},
	} {
		err := db.Write(context.Background(), func(tx *sqlitedb.Tx) error { _, err := mail.Enqueue(tx, bad); return err })
		if !errors.Is(err, mail.ErrInvalid) || !strings.Contains(err.Error(), "secrets") {
			t.Errorf("%+v: %v, want an error naming secrets", bad, err)
		}
	}
}

// TestMarkWithoutSecretStaysText: customer text that looks like a mark
// (a display name, a subject typed as "{{portal:secret:3}}") is no error:
// the mail is queued and sent, the mark without a secret stays text, the
// marks with their secrets are replaced.
func TestMarkWithoutSecretStaysText(t *testing.T) {
	db := openDB(t)
	r := startRelay(t)
	s := newSender(t, db, fast(r.url()))
	m := simple(0)
	m.To = `"Jana {{portal:secret:3}}" <jana@acme.example>`
	m.Text = "Hello Jana {{portal:secret:3}} {{portal:secret}}\nLink: " + mail.SecretMarkN(0)
	m.HTML = "<p>Hello Jana {{portal:secret:1}}</p>"
	m.Secrets = []string{"https://help.example/x?token=s"}
	enqueue(t, db, m)
	plain := simple(1)
	plain.Text = "Hello " + mail.SecretMark // no secret at all
	enqueue(t, db, plain)
	run(t, s)
	got := r.waitFor(2, 2*time.Second)
	for _, g := range got {
		_, text, html := parts(t, g.msg)
		switch {
		case strings.Contains(text, "Link:"):
			if text != "Hello Jana {{portal:secret:3}} {{portal:secret}}\nLink: https://help.example/x?token=s" || !strings.Contains(html, "{{portal:secret:1}}") {
				t.Errorf("bodies: %q / %q", text, html)
			}
		case text != "Hello "+mail.SecretMark:
			t.Errorf("text %q, want the mark kept as text", text)
		}
	}
}
