package app

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/tickets"
)

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

func startCapture(t *testing.T) (*capture, string) {
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

func (c *capture) wait(t *testing.T, n int) []*netmail.Message {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c.mu.Lock()
		got := append([]*netmail.Message(nil), c.msgs...)
		c.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails arrived within 5 s, want %d", len(got), n)
		}
	}
}

// TestFiledMail: filing a ticket sends the customer, in their language, a
// mail with the ticket's number and its private link, which opens the
// ticket; the outbox keeps the link only until the mail is sent.
func TestFiledMail(t *testing.T) {
	relay, url := startCapture(t)
	k := content(t)
	a, err := Open(Config{Data: t.TempDir(), Content: k, FeedInterval: time.Hour, HashMemoryKiB: 64, HashTime: 1,
		Mail:      mail.SenderConfig{SMTPURL: url, From: "Orbitask Support <support@help.example>"},
		PublicURL: "https://help.example/"})
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
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	body, _ := io.ReadAll(m.Body)
	text := string(body)
	if !strings.Contains(subject, "1001") || !strings.Contains(subject, "Export nefunguje") {
		t.Errorf("subject %q", subject)
	}
	link := "https://help.example/tickets/1001?token=" + token
	if !strings.Contains(qpDecode(t, m, text), link) {
		t.Errorf("the mail lacks the ticket's link %s:\n%s", link, text)
	}
	if got := m.Header.Get("To"); !strings.Contains(got, "jana@acme.example") {
		t.Errorf("To %q", got)
	}
	if got := m.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted %q", got)
	}
	if got := m.Header.Get("Message-ID"); !strings.HasPrefix(got, "<ticket-1001.filed.") || !strings.HasSuffix(got, "@help.example>") {
		t.Errorf("Message-ID %q", got)
	}
	if _, err := a.Tickets.Get(ctx, tk.Number, token); err != nil {
		t.Errorf("the mailed link's token does not open the ticket: %v", err)
	}
	// Czech, as the ticket.
	if subject != "[č. 1001] Export nefunguje" || !strings.HasPrefix(qpDecode(t, m, text), "Váš tiket jsme přijali\r\n") {
		t.Errorf("subject %q: want the ticket's one subject in Czech; the text's first line what the mail is:\n%s", subject, text)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var left int
		if err := a.DB.QueryRow(`SELECT count(*) FROM mail_outbox WHERE secret IS NOT NULL OR text_body LIKE '%' || ? || '%'`, token).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the outbox still holds the ticket's token after sending")
		}
	}
}

// qpDecode undoes the body's transfer encoding.
func qpDecode(t *testing.T, m *netmail.Message, body string) string {
	t.Helper()
	if !strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		return body
	}
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
