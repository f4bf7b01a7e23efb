package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/staff"
)

// TestOperatorRetriesFailedMail: a mail that failed for good is listed on
// the operators' page with its reason (escaped), and "Send again" queues it
// again once, in the audit trail.
func TestOperatorRetriesFailedMail(t *testing.T) {
	p := newPortal(t, server.Config{})
	ctx := context.Background()
	var id int64
	err := p.svc.DB.Write(ctx, func(tx *sqlitedb.Tx) error {
		var err error
		id, err = mail.Enqueue(tx, mail.Message{Ticket: 1001, Kind: "filed", Lang: "en", To: "jana@acme.example",
			Subject: "[#1001] <b>Export</b>", Text: "Hello"})
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE mail_outbox SET state = 'failed', attempts = 10, last_error = '550 5.1.1 <jana@acme.example>: no such user' WHERE id = ?`, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	_, pw := p.staffUser(t, "olga@orbitask.example", staff.RoleOperator)
	op := p.browser()
	op.login(t, "olga@orbitask.example", pw)
	res, body := op.send(t, "GET", "/operator", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, `<h2 id="mail-title">Mail</h2>`, "0 mails wait to be sent", "Mails that failed for good",
		"[#1001] &lt;b&gt;Export&lt;/b&gt;", "550 5.1.1 &lt;jana@acme.example&gt;: no such user", `action="/operator/mail/`)
	wantLacks(t, body, "<b>Export</b>")

	target := "/operator/mail/" + itoa(int(id)) + "/retry"
	res, _ = op.send(t, "POST", target, url.Values{"csrf": {op.csrf}})
	wantStatus(t, res, http.StatusSeeOther)
	if n, err := p.svc.Mail.Pending(ctx); err != nil || n != 1 {
		t.Fatalf("pending after retry = %d, %v; want 1", n, err)
	}
	res, body = op.send(t, "GET", "/operator?flash=mail-retried", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "The mail is queued again.", "1 mail waits to be sent", "No mail has failed.", "mail retried")
	res, _ = op.send(t, "POST", target, url.Values{"csrf": {op.csrf}})
	wantStatus(t, res, http.StatusConflict)
	res, _ = op.send(t, "POST", "/operator/mail/99999/retry", url.Values{"csrf": {op.csrf}})
	wantStatus(t, res, http.StatusNotFound)
	res, _ = op.send(t, "POST", target, url.Values{"csrf": {"forged"}})
	if res.StatusCode < 400 {
		t.Errorf("a forged CSRF token: %d", res.StatusCode)
	}
}
