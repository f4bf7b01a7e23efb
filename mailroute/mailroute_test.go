package mailroute_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/app"
	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/inbound"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/tickets"
)

// portal is a whole portal on the real knowledge base (../content), its
// mails sent to a capturing SMTP relay, with its HTTP server.
type portal struct {
	*app.App
	srv   *fiber.App
	relay *capture
}

const support = "support@help.example"

func open(t testing.TB) *portal {
	t.Helper()
	relay, smtpURL := startCapture(t)
	a, err := app.Open(app.Config{Data: t.TempDir(), Content: "../content", FeedInterval: time.Hour, HashMemoryKiB: 64, HashTime: 1,
		Mail:      mail.SenderConfig{SMTPURL: smtpURL, From: "Orbitask Support <" + support + ">"},
		PublicURL: "https://help.example/"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	a.RunMail()
	srv, err := server.New(server.Config{RateLimits: httpkit.RateLimits{Off: true}}, a)
	if err != nil {
		t.Fatal(err)
	}
	return &portal{App: a, srv: srv, relay: relay}
}

func (p *portal) file(t testing.TB, email string) tickets.Ticket {
	t.Helper()
	tk, _ := p.fileWithToken(t, email)
	return tk
}

func (p *portal) fileWithToken(t testing.TB, email string) (tickets.Ticket, string) {
	t.Helper()
	tk, token, err := p.Tickets.File(context.Background(), tickets.NewTicket{Name: "Jana Nováková", Company: "Acme", Phone: "+420 601 555 010",
		Email: email, Subject: "Export stops halfway", Description: "The invoice export stops halfway through.", Severity: 3})
	if err != nil {
		t.Fatal(err)
	}
	return tk, token
}

func (p *portal) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := p.DB.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (p *portal) answers(t *testing.T) int {
	return p.count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'question'`)
}

// rawMail is an RFC 5322 mail; extra header lines end in \r\n.
func rawMail(from, to, subject, msgID, extra, body string) []byte {
	return []byte("From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: " + msgID +
		"\r\nDate: Thu, 03 Dec 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n" + extra +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n"))
}

// gmailReply is a customer's reply in Gmail's format, with the quoted
// history and a screenshot and an executable attached (constructed).
func gmailReply(t *testing.T, from, to, msgID string) []byte {
	t.Helper()
	var shot bytes.Buffer
	if err := png.Encode(&shot, image.NewRGBA(image.Rect(0, 0, 3, 3))); err != nil {
		t.Fatal(err)
	}
	b64 := func(data []byte) string { return base64.StdEncoding.EncodeToString(data) }
	return []byte("From: Jana Novakova <" + from + ">\r\nTo: " + to + "\r\nSubject: Re: [#1001] Export stops halfway\r\n" +
		"Message-ID: " + msgID + "\r\nIn-Reply-To: <ticket-1001.filed.abc@help.example>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0100\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" +
		"It still stops at 50 %, here is the screenshot.\r\n\r\n" +
		"On Wed, 2 Dec 2026 at 09:00, Orbitask Support <support@help.example> wrote:\r\n" +
		"> Hello Jana,\r\n> We received your ticket #1001.\r\n\r\n" +
		"--b1\r\nContent-Type: image/png; name=\"screen.png\"\r\nContent-Disposition: attachment; filename=\"screen.png\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + b64(shot.Bytes()) + "\r\n" +
		"--b1\r\nContent-Type: application/octet-stream; name=\"fix.exe\"\r\nContent-Disposition: attachment; filename=\"fix.exe\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + b64([]byte("MZ\x90\x00\x03\x00\x00\x00binary")) + "\r\n--b1--\r\n")
}

// TestReplyByMailLandsOnTheTicket: a customer's answer to a ticket mail
// reopens the solved ticket with the new text only (the quoted history
// stripped), its screenshot and the original mail kept with the reply,
// the refused .exe named in a line; the same mail again adds nothing; a
// waiting ticket is answered (open again). No answer mail is sent.
func TestReplyByMailLandsOnTheTicket(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	tk, token := p.fileWithToken(t, "jana@acme.example")
	if _, err := p.Tickets.SetStatus(ctx, tk.Number, tickets.StatusSolved, tickets.ActorSupport); err != nil {
		t.Fatal(err)
	}
	raw := gmailReply(t, "Jana@ACME.example", p.ReplyTags.Address(tk.Number), "<CAF1=reply1@mail.gmail.com>")
	for range 2 { // delivered twice (an SMTP retry, IMAP after a crash)
		if err := p.Route.Deliver(ctx, "jana@acme.example", []string{p.ReplyTags.Address(tk.Number)}, raw); err != nil {
			t.Fatal(err)
		}
	}
	got, err := p.Tickets.GetByNumber(ctx, tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != tickets.StatusOpen {
		t.Errorf("status %s, want the solved ticket reopened", got.Status)
	}
	if len(got.Messages) != 2 {
		t.Fatalf("%d messages, want the description and one reply", len(got.Messages))
	}
	reply := got.Messages[1]
	if reply.Author != tickets.ActorCustomer || !strings.HasPrefix(reply.Body, "It still stops at 50 %, here is the screenshot.") ||
		strings.Contains(reply.Body, "We received your ticket") || strings.Contains(reply.Body, "wrote:") {
		t.Errorf("reply body %q: want the new text without the quoted history", reply.Body)
	}
	if !strings.Contains(reply.Body, "fix.exe") {
		t.Errorf("reply body %q does not say fix.exe was left out", reply.Body)
	}
	var names []string
	var eml tickets.AttachmentInfo
	for _, a := range got.Attachments {
		if a.MessageID != reply.ID {
			t.Errorf("%s is not with the reply", a.Name)
		}
		names = append(names, a.Name)
		if a.ContentType == tickets.EMLType {
			eml = a
		}
	}
	if len(names) != 2 || names[0] != "screen.png" || eml.Name == "" {
		t.Fatalf("attachments %v: want screen.png and the .eml", names)
	}
	_, f, err := p.Tickets.OpenAttachment(got, eml.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(kept, raw) {
		t.Error("the .eml is not the mail as it arrived")
	}
	// The customer's page shows the files with the reply.
	res, page := testportal.Get(t, p.srv, fmt.Sprintf("/tickets/%d?token=%s", tk.Number, url.QueryEscape(token)))
	testportal.WantStatus(t, res, http.StatusOK)
	if i := strings.Index(page, "It still stops at 50 %"); i < 0 || !strings.Contains(page[i:], "screen.png") || !strings.Contains(page[i:], eml.Name) {
		t.Errorf("the ticket page does not show screen.png and %s with the reply", eml.Name)
	}

	// Waiting on the customer: the answer opens it again.
	if _, err := p.Tickets.SetStatus(ctx, tk.Number, tickets.StatusWaiting, tickets.ActorSupport); err != nil {
		t.Fatal(err)
	}
	mail2 := rawMail("jana@acme.example", p.ReplyTags.Address(tk.Number), "Re: [#1001] Export stops halfway", "<second@mail.example>", "",
		"Here are the details you asked for.\n\n-- \nJana Novakova\nAcme\n")
	if err := p.Route.Deliver(ctx, "jana@acme.example", []string{p.ReplyTags.Address(tk.Number), support}, mail2); err != nil {
		t.Fatal(err)
	}
	got, _ = p.Tickets.GetByNumber(ctx, tk.Number)
	if got.Status != tickets.StatusOpen || len(got.Messages) != 3 || got.Messages[2].Body != "Here are the details you asked for." {
		t.Errorf("status %s, last message %q", got.Status, got.Messages[len(got.Messages)-1].Body)
	}
	if n := p.answers(t); n != 0 {
		t.Errorf("%d answer mails for replies (one to the support address too), want none", n)
	}
}

// TestNotAppendedIsAQuestion: a forged tag, another sender, a closed
// ticket: nothing is appended; each is answered as a question.
func TestNotAppendedIsAQuestion(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	tk := p.file(t, "jana@acme.example")
	closed := p.file(t, "jana@acme.example")
	if _, err := p.Tickets.SetStatus(ctx, closed.Number, tickets.StatusClosed, tickets.ActorSupport); err != nil {
		t.Fatal(err)
	}
	forged := strings.Replace(p.ReplyTags.Address(tk.Number), "+1001.", "+1001.aaaa", 1)
	cases := []struct{ name, from, to string }{
		{"forged tag", "jana@acme.example", forged},
		{"another sender", "mallory@evil.example", p.ReplyTags.Address(tk.Number)},
		{"closed ticket", "jana@acme.example", p.ReplyTags.Address(closed.Number)},
	}
	for i, c := range cases {
		raw := rawMail(c.from, c.to, "How do I reset my password?", fmt.Sprintf("<q%d@mail.example>", i), "",
			"I forgot my password and cannot sign in. How do I reset it?\n")
		if err := p.Route.Deliver(ctx, c.from, []string{c.to}, raw); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if n := p.answers(t); n != i+1 {
			t.Errorf("%s: %d answers, want %d", c.name, n, i+1)
		}
	}
	for _, n := range []int{tk.Number, closed.Number} {
		got, _ := p.Tickets.GetByNumber(ctx, n)
		if len(got.Messages) != 1 {
			t.Errorf("#%d has %d messages, want nothing appended", n, len(got.Messages))
		}
	}
}

// TestAutomaticTrafficIsDropped: auto-replies, bounces and list mail create
// no reply and get no answer.
func TestAutomaticTrafficIsDropped(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	tk := p.file(t, "jana@acme.example")
	reply := p.ReplyTags.Address(tk.Number)
	cases := []struct {
		name, envelope, from, extra string
	}{
		{"auto-reply", "jana@acme.example", "jana@acme.example", "Auto-Submitted: auto-replied\r\n"},
		{"out of office", "jana@acme.example", "jana@acme.example", "X-Autoreply: yes\r\n"},
		{"bounce", "", "MAILER-DAEMON@mx.acme.example", ""},
		{"list", "list-bounces@lists.example", "jana@acme.example", "Precedence: list\r\nList-Id: <users.lists.example>\r\n"},
	}
	for i, c := range cases {
		for _, to := range []string{reply, support} {
			raw := rawMail(c.from, to, "Out of office", fmt.Sprintf("<auto%d.%s@mail.example>", i, strings.Split(to, "@")[0]), c.extra,
				"I am away until Monday. How do I reset my password?\n")
			if err := p.Route.Deliver(ctx, c.envelope, []string{to}, raw); err != nil {
				t.Fatalf("%s to %s: %v", c.name, to, err)
			}
		}
	}
	got, _ := p.Tickets.GetByNumber(ctx, tk.Number)
	if len(got.Messages) != 1 {
		t.Errorf("automatic mail appended: %d messages", len(got.Messages))
	}
	if n := p.answers(t); n != 0 {
		t.Errorf("%d answers to automatic mail, want none", n)
	}
	if n := p.count(t, `SELECT count(*) FROM deflect_sessions`); n != 0 {
		t.Errorf("%d deflection sessions from automatic mail", n)
	}
}

// TestRefusals: a mail to nobody of ours and one that is not a mail are
// refused for good.
func TestRefusals(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	raw := rawMail("jana@acme.example", "someone@else.example", "Hi", "<x@mail.example>", "", "Hello\n")
	if err := p.Route.Deliver(ctx, "jana@acme.example", []string{"someone@else.example"}, raw); !isPermanent(err) {
		t.Errorf("to someone else: %v, want a permanent refusal", err)
	}
	if err := p.Route.Deliver(ctx, "jana@acme.example", []string{support}, []byte("   ")); !isPermanent(err) {
		t.Errorf("an empty mail: %v, want a permanent refusal", err)
	}
}

func isPermanent(err error) bool {
	return err != nil && (errors.Is(err, inbound.ErrRefused) || errors.Is(err, inbound.ErrMalformed))
}

// TestQuestionAnsweredByMail: a question to the support address gets one
// answer in its language, threaded under it and marked auto-replied, with
// the matching articles (the password question: en/reset-password) and a
// link to the ticket form filled in with it; opening an article from the
// mail counts as opened in its deflection session (source email); filing
// the form ends the session as filed. The same mail again: no second
// answer. A Czech question is answered in Czech.
func TestQuestionAnsweredByMail(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	q := rawMail("Petr Svoboda <petr@firm.example>", support, "Password reset", "<question1@firm.example>", "",
		"Hello, I forgot my password and cannot sign in. How do I reset my password?\n")
	for range 2 {
		if err := p.Route.Deliver(ctx, "petr@firm.example", []string{support}, q); err != nil {
			t.Fatal(err)
		}
	}
	m := p.relay.wait(t, 1)[0]
	time.Sleep(100 * time.Millisecond)
	if n := len(p.relay.all()); n != 1 {
		t.Fatalf("%d answers arrived, want 1", n)
	}
	if got := m.Header.Get("Auto-Submitted"); got != "auto-replied" {
		t.Errorf("Auto-Submitted %q", got)
	}
	if got := m.Header.Get("In-Reply-To"); got != "<question1@firm.example>" {
		t.Errorf("In-Reply-To %q", got)
	}
	if got := decode(m.Header.Get("Subject")); got != "Re: Password reset" {
		t.Errorf("Subject %q", got)
	}
	if to := m.Header.Get("To"); !strings.Contains(to, "petr@firm.example") {
		t.Errorf("To %q", to)
	}
	text := body(t, m)
	art := regexp.MustCompile(`https://help\.example/kb/en/reset-password\?ds=([A-Za-z0-9_-]{22})`).FindStringSubmatch(text)
	if art == nil {
		t.Fatalf("the answer lacks en/reset-password with its session:\n%s", text)
	}
	t.Logf("the answer:\n%s", text)
	session := art[1]
	link := regexp.MustCompile(`https://help\.example(/tickets/new\?mail=[A-Za-z0-9_-]+)`).FindStringSubmatch(text)
	if link == nil {
		t.Fatalf("the answer lacks the form's link:\n%s", text)
	}
	if !strings.Contains(text, "None of these help") || !strings.HasPrefix(text, "Hello,\n") || strings.Contains(text, "Petr Svoboda") {
		t.Errorf("answer text:\n%s", text)
	}
	if n := p.count(t, `SELECT count(*) FROM mail_outbox WHERE secret IS NOT NULL OR text_body LIKE '%mail=%'`); n != 0 {
		// The outbox keeps the link only until it is sent.
		time.Sleep(200 * time.Millisecond)
		if n := p.count(t, `SELECT count(*) FROM mail_outbox WHERE secret IS NOT NULL OR text_body LIKE '%mail=%'`); n != 0 {
			t.Error("the outbox keeps the form's link after sending")
		}
	}

	// The article opened from the mail counts for the session.
	res, _ := testportal.Get(t, p.srv, "/kb/en/reset-password?ds="+session)
	testportal.WantStatus(t, res, http.StatusOK)
	trail, err := p.Deflect.Trail(ctx, session)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range trail {
		kinds = append(kinds, e.Kind)
		if e.Source != deflect.SourceEmail {
			t.Errorf("%s event's source %q", e.Kind, e.Source)
		}
	}
	if strings.Join(kinds, " ") != "started suggested opened" || !contains(trail[1].Articles, "en/reset-password") {
		t.Errorf("session trail %v (suggested %v)", kinds, trail[1].Articles)
	}

	// The form, filled in.
	res, page := testportal.Get(t, p.srv, link[1])
	testportal.WantStatus(t, res, http.StatusOK)
	testportal.WantContains(t, page, `value="Password reset"`, "I forgot my password and cannot sign in.", `value="petr@firm.example"`,
		`value="Petr Svoboda"`, `value="`+session+`"`, "We filled in the form from your e-mail.")
	res, _ = testportal.Get(t, p.srv, "/tickets/new?mail=not-a-token")
	testportal.WantStatus(t, res, http.StatusNotFound)

	// Filing it: the session ends as filed.
	form := url.Values{"subject": {"Password reset"}, "description": {"I forgot my password and cannot sign in."},
		"email": {"petr@firm.example"}, "name": {"Petr Svoboda"}, "company": {"Firm"}, "phone": {"+420 601 555 011"},
		"severity": {"3"}, "deflection_session": {session}}
	req := httptest.NewRequest(http.MethodPost, "/tickets", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, _ = testportal.Do(t, p.srv, req)
	testportal.WantStatus(t, res, http.StatusSeeOther)
	var outcome, source string
	var ticket int
	if err := p.DB.QueryRow(`SELECT outcome, ticket, source FROM deflect_sessions WHERE id = ?`, session).Scan(&outcome, &ticket, &source); err != nil {
		t.Fatal(err)
	}
	if outcome != "filed" || ticket != 1001 || source != "email" {
		t.Errorf("session: %s, ticket %d, source %s; want filed, 1001, email", outcome, ticket, source)
	}

	// In Czech.
	cs := rawMail("jana@acme.example", support, "Zapomenuté heslo", "<question2@acme.example>",
		"", "Dobrý den, zapomněla jsem heslo a nemohu se přihlásit. Jak si heslo obnovím? Nevím, co mám dělat.\n")
	if err := p.Route.Deliver(ctx, "jana@acme.example", []string{support}, cs); err != nil {
		t.Fatal(err)
	}
	m = p.relay.answerTo(t, "<question2@acme.example>")
	if text := body(t, m); !strings.Contains(text, "Dobrý den") || !strings.Contains(text, "/kb/cs/") {
		t.Errorf("the Czech question's answer:\n%s", text)
	}
}

// TestNoMatchOffersTheForm: a question no article answers says so and
// offers the form.
func TestNoMatchOffersTheForm(t *testing.T) {
	p := open(t)
	raw := rawMail("petr@firm.example", support, "Zebra", "<zebra@firm.example>", "", "Qwxzy plorth vendemiaire.\n")
	if err := p.Route.Deliver(context.Background(), "petr@firm.example", []string{support}, raw); err != nil {
		t.Fatal(err)
	}
	text := body(t, p.relay.wait(t, 1)[0])
	if !strings.Contains(text, "We found no article") || !strings.Contains(text, "/tickets/new?mail=") || strings.Contains(text, "/kb/") {
		t.Errorf("answer:\n%s", text)
	}
}

// TestFloodingSenderGetsFewAnswers: past DefaultAnswersPerHour questions in
// an hour, a sender's mails are accepted and answered no more; another
// sender still is.
func TestFloodingSenderGetsFewAnswers(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	for i := range 8 {
		raw := rawMail("flood@spam.example", support, "Password", fmt.Sprintf("<flood%d@spam.example>", i), "", "How do I reset my password?\n")
		if err := p.Route.Deliver(ctx, "flood@spam.example", []string{support}, raw); err != nil {
			t.Fatal(err)
		}
	}
	raw := rawMail("petr@firm.example", support, "Password", "<other@firm.example>", "", "How do I reset my password?\n")
	if err := p.Route.Deliver(ctx, "petr@firm.example", []string{support}, raw); err != nil {
		t.Fatal(err)
	}
	if n := p.count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'question' AND to_addr = 'flood@spam.example'`); n != 5 {
		t.Errorf("%d answers to the flooding sender, want 5", n)
	}
	if n := p.count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'question' AND to_addr = 'petr@firm.example'`); n != 1 {
		t.Errorf("%d answers to another sender, want 1", n)
	}
}

// capture is a real SMTP server (go-smtp) on 127.0.0.1 keeping what it
// accepts.
type capture struct {
	mu   sync.Mutex
	msgs []*netmail.Message
}

func (c *capture) NewSession(*smtp.Conn) (smtp.Session, error) { return &captureSession{c: c}, nil }

type captureSession struct{ c *capture }

func (*captureSession) Reset()                               {}
func (*captureSession) Logout() error                        { return nil }
func (*captureSession) Mail(string, *smtp.MailOptions) error { return nil }
func (*captureSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *captureSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	s.c.mu.Lock()
	s.c.msgs = append(s.c.msgs, m)
	s.c.mu.Unlock()
	return nil
}

func startCapture(t testing.TB) (*capture, string) {
	t.Helper()
	c := &capture{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(c)
	srv.Domain = "relay.test"
	srv.AllowInsecureAuth = true
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return c, "smtp://" + ln.Addr().String() + "?tls=none"
}

func (c *capture) all() []*netmail.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*netmail.Message(nil), c.msgs...)
}

func (c *capture) wait(t *testing.T, n int) []*netmail.Message {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if got := c.all(); len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails arrived within 5 s, want %d", len(c.all()), n)
		}
	}
}

// answerTo waits for the mail whose In-Reply-To is id.
func (c *capture) answerTo(t *testing.T, id string) *netmail.Message {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, m := range c.all() {
			if m.Header.Get("In-Reply-To") == id {
				return m
			}
		}
	}
	t.Fatalf("no answer to %s within 5 s", id)
	return nil
}

func decode(h string) string {
	s, err := new(mime.WordDecoder).DecodeHeader(h)
	if err != nil {
		return h
	}
	return s
}

// body is a mail's plain text, transfer encoding undone.
func body(t *testing.T, m *netmail.Message) string {
	t.Helper()
	data, err := io.ReadAll(m.Body)
	if err != nil {
		t.Fatal(err)
	}
	m.Body = bytes.NewReader(data)
	switch strings.ToLower(m.Header.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		data, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(data)))
	case "base64":
		data, err = io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(data)))
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(data), "\r\n", "\n")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestSampleReplies: the replies of inbound's samples (Gmail, Outlook,
// Apple Mail, Thunderbird in English, German, French and Czech; constructed,
// see inbound/testdata/README.md), each sent to its ticket's reply address
// by the ticket's customer, land on the ticket as the sample's expected
// text, quoted history and signature stripped; the automatic samples
// (auto-replies, a bounce, a list mail) land nowhere and get no answer.
func TestSampleReplies(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	files, err := filepath.Glob("../inbound/testdata/*.eml")
	if err != nil || len(files) < 16 {
		t.Fatalf("samples: %v, %v", files, err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".eml")
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m, err := inbound.Parse(raw, "")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		tk := p.file(t, m.From)
		to := p.ReplyTags.Address(tk.Number)
		if err := p.Route.Deliver(ctx, m.From, []string{to}, raw); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got, err := p.Tickets.GetByNumber(ctx, tk.Number)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(strings.TrimSuffix(file, ".eml") + ".auto.txt"); err == nil {
			if len(got.Messages) != 1 {
				t.Errorf("%s: automatic mail appended", name)
			}
			continue
		}
		want, err := os.ReadFile(strings.TrimSuffix(file, ".eml") + ".want.txt")
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Messages) != 2 {
			t.Errorf("%s: %d messages, want the reply appended", name, len(got.Messages))
			continue
		}
		if body, w := got.Messages[1].Body, strings.TrimSpace(string(want)); !strings.HasPrefix(body, w) {
			t.Errorf("%s: reply\n%s\nwant\n%s", name, body, w)
		}
	}
	if n := p.answers(t); n != 0 {
		t.Errorf("%d answers to replies and automatic mail, want none", n)
	}
}

// BenchmarkDeliverQuestion: a question answered (parse, search, one
// transaction with the session, the link and the answer in the outbox),
// each from another sender.
func BenchmarkDeliverQuestion(b *testing.B) {
	p := open(b)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		from := fmt.Sprintf("user%d@firm.example", i)
		// Another text each time, so that the search's cache does not answer.
		raw := rawMail(from, support, "Password reset", fmt.Sprintf("<bq%d@firm.example>", i), "",
			fmt.Sprintf("Hello, I forgot my password and cannot sign in since build %d. How do I reset my password?\n", i))
		if err := p.Route.Deliver(ctx, from, []string{support}, raw); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeliverReply: a customer's reply by mail (parse, strip, one
// transaction with the reply, its events and the .eml).
func BenchmarkDeliverReply(b *testing.B) {
	p := open(b)
	ctx := context.Background()
	tk := p.file(b, "jana@acme.example")
	to := p.ReplyTags.Address(tk.Number)
	b.ResetTimer()
	for i := range b.N {
		raw := rawMail("jana@acme.example", to, "Re: [#1001] Export", fmt.Sprintf("<br%d@acme.example>", i), "",
			"It still fails.\n\nOn Wed, 2 Dec 2026 at 09:00, Orbitask Support <support@help.example> wrote:\n> Hello\n")
		if err := p.Route.Deliver(ctx, "jana@acme.example", []string{to}, raw); err != nil {
			b.Fatal(err)
		}
	}
}
