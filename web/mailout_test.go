package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
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

	"github.com/orbitask/portal/app"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/replytag"
	"github.com/orbitask/portal/tickets"
)

// The mails a customer receives after filing (issue 14, ticketmail), seen
// end to end: the portal writes them in the change's transaction, sends
// them through a real SMTP server the test runs, and the links they carry
// are opened on the portal's real HTTP server.

// relay is a go-smtp server on 127.0.0.1 keeping the mails it accepts.
type relay struct {
	mu   sync.Mutex
	msgs []*received
}

// received is a mail as the customer's client reads it.
type received struct {
	header     netmail.Header
	subject    string
	text, html string
}

func (r *relay) NewSession(*smtp.Conn) (smtp.Session, error) { return &relaySession{r: r}, nil }

type relaySession struct{ r *relay }

func (*relaySession) Reset()                               {}
func (*relaySession) Logout() error                        { return nil }
func (*relaySession) Mail(string, *smtp.MailOptions) error { return nil }
func (*relaySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *relaySession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := readMail(raw)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.msgs = append(s.r.msgs, m)
	s.r.mu.Unlock()
	return nil
}

// readMail decodes a mail's subject and its text and HTML parts.
func readMail(raw []byte) (*received, error) {
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	out := &received{header: m.Header}
	out.subject, _ = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		out.text, err = decodePart(m.Header.Get("Content-Transfer-Encoding"), m.Body)
		return out, err
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		body, err := decodePart(p.Header.Get("Content-Transfer-Encoding"), p) // quoted-printable: already undone
		if err != nil {
			return nil, err
		}
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			out.text = body
		case "text/html":
			out.html = body
		}
	}
}

func decodePart(cte string, r io.Reader) (string, error) {
	switch strings.ToLower(cte) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

func (r *relay) wait(t *testing.T, n int) []*received {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		r.mu.Lock()
		got := append([]*received(nil), r.msgs...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails arrived within 5 s, want %d", len(got), n)
		}
	}
}

// mailPortal is a portal that mails through a relay, on a real HTTP server.
type mailPortal struct {
	svc   *app.App
	relay *relay
	base  string // http://127.0.0.1:PORT
}

func newMailPortal(t *testing.T) *mailPortal {
	t.Helper()
	r := &relay{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(r)
	srv.Domain = "relay.test"
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	data := t.TempDir()
	customers, err := os.ReadFile("../tickets/testdata/customers.yaml") // acme.example: Priority
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "customers.yaml"), customers, 0o600); err != nil {
		t.Fatal(err)
	}
	svc, err := app.Open(app.Config{Data: data, Content: "testdata/content", FeedInterval: time.Hour, HashMemoryKiB: 64, HashTime: 1,
		Mail:      mail.SenderConfig{SMTPURL: "smtp://" + ln.Addr().String() + "?tls=none", From: "Orbitask Support <support@help.example>"},
		PublicURL: "https://help.example"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	svc.RunMail()
	return &mailPortal{svc: svc, relay: r, base: "http://" + testportal.Serve(t, newApp(t, Config{}, svc))}
}

var agentStaff = tickets.Staff{ID: 7, Name: "Petra Agent"}

func (p *mailPortal) file(t *testing.T, lang, email string) (tickets.Ticket, string) {
	t.Helper()
	tk, token, err := p.svc.Tickets.File(context.Background(), tickets.NewTicket{Name: "Jana Nováková", Company: "Acme",
		Phone: "+420 601 555 010", Email: email, Subject: "Export stops halfway", Description: "The export stops at 50 %.",
		Severity: 3, Lang: lang})
	if err != nil {
		t.Fatal(err)
	}
	return tk, token
}

// outbox counts a ticket's mails in the outbox.
func (p *mailPortal) outbox(t *testing.T, number int) int {
	t.Helper()
	var n int
	if err := p.svc.DB.QueryRow(`SELECT count(*) FROM mail_outbox WHERE ticket = ?`, number).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// client follows no redirects, so that a test sees the 303.
var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}

func (p *mailPortal) get(t *testing.T, path string) (int, string) {
	t.Helper()
	res, err := client.Get(p.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (p *mailPortal) post(t *testing.T, path string, form url.Values) (int, string) {
	t.Helper()
	res, err := client.PostForm(p.base+path, form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}

var linkRe = regexp.MustCompile(`https://help\.example(/tickets/\d+(?:/mail)?\?token=[A-Za-z0-9_-]+)`)

// links are the portal paths of the links in a mail's text, in order.
func links(m *received) []string {
	var out []string
	for _, sub := range linkRe.FindAllStringSubmatch(m.text, -1) {
		out = append(out, sub[1])
	}
	return out
}

func tokenOf(t *testing.T, path string) string {
	t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// TestAgentReplyMail: an agent's reply reaches the customer as one mail in
// the ticket's language, Markdown as HTML and as text, with a private link
// of its own that opens the ticket and is not kept in the outbox once sent,
// threaded under the "filed" mail, and with a Reply-To that leads back to
// the ticket. An internal note mails nothing.
func TestAgentReplyMail(t *testing.T) {
	p := newMailPortal(t)
	ctx := context.Background()
	for i, tc := range []struct {
		lang, subject, subjectWord, introWord string
	}{
		{"cs", "[č. 1001] Export stops halfway", "Podpora odpověděla", "náš tým podpory odpověděl"},
		{"de", "[Nr. 1002] Export stops halfway", "Der Support hat geantwortet", "unser Support-Team hat"},
		{"en", "[#1003] Export stops halfway", "Support replied", "Our support team replied"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			tk, own := p.file(t, tc.lang, "jana@example.org")
			filed := p.relay.wait(t, 2*i+1)[2*i]
			if kind, n := p.svc.ReplyTags.Parse(filed.header.Get("Reply-To")); kind != replytag.Reply || n != tk.Number {
				t.Errorf("filed mail's Reply-To %q parses as %v #%d", filed.header.Get("Reply-To"), kind, n)
			}
			if _, err := p.svc.Tickets.Post(ctx, tk.Number, agentStaff, tickets.AgentReply{Body: "Internal: customer is on 4.2", Internal: true}); err != nil {
				t.Fatal(err)
			}
			if n := p.outbox(t, tk.Number); n != 1 {
				t.Fatalf("an internal note wrote a mail: %d in the outbox", n)
			}
			body := "Please run **`portal export --resume`**.\n<script>alert(1)</script>"
			if _, err := p.svc.Tickets.Post(ctx, tk.Number, agentStaff, tickets.AgentReply{Body: body}); err != nil {
				t.Fatal(err)
			}
			committed := time.Now()
			m := p.relay.wait(t, 2*i+2)[2*i+1]
			t.Logf("the reply mail reached the relay %v after the commit", time.Since(committed).Round(time.Millisecond))
			if n := p.outbox(t, tk.Number); n != 2 {
				t.Errorf("%d mails for the filing and one reply, want 2", n)
			}
			// One subject per ticket, the filed mail's; what the mail is
			// says its first line.
			if m.subject != filed.subject || m.subject != tc.subject {
				t.Errorf("subject %q (filed: %q), want %q", m.subject, filed.subject, tc.subject)
			}
			if firstLine(m.text) != tc.subjectWord {
				t.Errorf("the reply mail's first line should be %q:\n%s", tc.subjectWord, m.text)
			}
			if !strings.Contains(m.text, tc.introWord) || !strings.Contains(m.text, "**`portal export --resume`**") {
				t.Errorf("text part lacks the intro or the reply's Markdown:\n%s", m.text)
			}
			if !strings.Contains(m.html, "<strong><code>portal export --resume</code></strong>") {
				t.Errorf("HTML part lacks the rendered reply:\n%s", m.html)
			}
			if strings.Contains(m.html, "<script>") {
				t.Errorf("HTML part carries the reply's raw HTML:\n%s", m.html)
			}
			if m.header.Get("Auto-Submitted") != "" {
				t.Errorf("a person's reply is marked Auto-Submitted: %q", m.header.Get("Auto-Submitted"))
			}
			// Threading: under the filed mail.
			filedID := filed.header.Get("Message-ID")
			if got := m.header.Get("In-Reply-To"); got != filedID {
				t.Errorf("In-Reply-To %q, want the filed mail's %q", got, filedID)
			}
			if got := m.header.Get("References"); got != filedID {
				t.Errorf("References %q, want %q", got, filedID)
			}
			if kind, n := p.svc.ReplyTags.Parse(m.header.Get("Reply-To")); kind != replytag.Reply || n != tk.Number {
				t.Errorf("Reply-To %q parses as %v #%d, want a reply to #%d", m.header.Get("Reply-To"), kind, n, tk.Number)
			}
			// The link: a fresh token that opens the ticket.
			ls := links(m)
			if len(ls) != 1 {
				t.Fatalf("links in the reply mail: %v, want the ticket's", ls)
			}
			link := tokenOf(t, ls[0])
			if link == own {
				t.Error("the reply mail carries the ticket's own token, not a link minted for it")
			}
			if !strings.Contains(m.html, `href="https://help.example`+htmlAttr(ls[0])+`"`) {
				t.Errorf("the HTML part lacks the link %s", ls[0])
			}
			if code, page := p.get(t, ls[0]); code != http.StatusOK || !strings.Contains(page, "Export stops halfway") {
				t.Errorf("GET %s: %d", ls[0], code)
			}
			// Sent: the outbox forgets the token.
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
				var left int
				if err := p.svc.DB.QueryRow(`SELECT count(*) FROM mail_outbox WHERE secret IS NOT NULL
					OR instr(text_body, ?) OR instr(coalesce(html_body, ''), ?)`, link, link).Scan(&left); err != nil {
					t.Fatal(err)
				}
				if left == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the outbox still holds the link's token after sending")
				}
			}
		})
	}
}

// html escapes what the HTML part escapes in a link.
func htmlAttr(s string) string { return strings.ReplaceAll(s, "&", "&amp;") }

// TestStatusMails: waiting and solved reach the customer (auto-generated,
// with a link to stop them); a reply that sets a status is one mail saying
// so; stopping status mails on the page their link opens stops them but
// not replies, and the customer can turn them on again.
func TestStatusMails(t *testing.T) {
	p := newMailPortal(t)
	ctx := context.Background()
	tk, _ := p.file(t, "fr", "jean@example.org")
	p.relay.wait(t, 1)
	if _, err := p.svc.Tickets.Post(ctx, tk.Number, agentStaff, tickets.AgentReply{Body: "Quelle version utilisez-vous ?"}); err != nil {
		t.Fatal(err)
	}
	p.relay.wait(t, 2)
	if _, err := p.svc.Tickets.AgentStatus(ctx, tk.Number, tickets.StatusWaiting, agentStaff); err != nil {
		t.Fatal(err)
	}
	waiting := p.relay.wait(t, 3)[2]
	if waiting.subject != "[n° 1001] Export stops halfway" || firstLine(waiting.text) != "En attente de votre réponse" || !strings.Contains(waiting.text, "Quelle version utilisez-vous ?") {
		t.Errorf("waiting mail: subject %q, text lacks the question we asked:\n%s", waiting.subject, waiting.text)
	}
	if waiting.header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("waiting mail Auto-Submitted %q", waiting.header.Get("Auto-Submitted"))
	}
	if refs := strings.Fields(waiting.header.Get("References")); len(refs) != 2 {
		t.Errorf("References %v: want the filed and the reply mail", refs)
	}
	ls := links(waiting)
	if len(ls) != 2 || !strings.HasSuffix(strings.SplitN(ls[1], "?", 2)[0], "/mail") || tokenOf(t, ls[0]) != tokenOf(t, ls[1]) {
		t.Fatalf("waiting mail's links %v: want the ticket and its mail settings, with the mail's token", ls)
	}

	// A reply that solves: one mail, the reply's, saying the ticket is solved.
	if _, err := p.svc.Tickets.Post(ctx, tk.Number, agentStaff, tickets.AgentReply{Body: "Corrigé en 4.3.", Status: tickets.StatusSolved}); err != nil {
		t.Fatal(err)
	}
	solvedReply := p.relay.wait(t, 4)[3]
	if n := p.outbox(t, tk.Number); n != 4 {
		t.Errorf("%d mails in the outbox, want 4: a reply that solves is one mail", n)
	}
	if !strings.Contains(solvedReply.text, "Corrigé en 4.3.") || !strings.Contains(solvedReply.text, "comme résolu") ||
		!strings.Contains(solvedReply.text, "répondez à ce message") {
		t.Errorf("the solving reply's mail should say it is solved and how to reopen:\n%s", solvedReply.text)
	}

	// Reopened by the customer: no mail. Solved by support alone: the solved mail.
	if _, err := p.svc.Tickets.Reply(ctx, tk.Number, tickets.ActorCustomer, "Toujours cassé."); err != nil {
		t.Fatal(err)
	}
	if _, err := p.svc.Tickets.AgentStatus(ctx, tk.Number, tickets.StatusSolved, agentStaff); err != nil {
		t.Fatal(err)
	}
	solved := p.relay.wait(t, 5)[4]
	if n := p.outbox(t, tk.Number); n != 5 {
		t.Errorf("%d mails in the outbox, want 5: the customer's reply mails nothing", n)
	}
	if solved.subject != waiting.subject || firstLine(solved.text) != "Résolu" || !strings.Contains(solved.text, "répondez à ce message ou sur la page") {
		t.Errorf("solved mail: %q\n%s", solved.subject, solved.text)
	}

	// Stop status mails from the link in the mail.
	stop := links(solved)[1]
	code, page := p.get(t, stop)
	if code != http.StatusOK || !strings.Contains(page, `name="status_mails" value="off"`) {
		t.Fatalf("GET %s: %d, want the page with the stop button", stop, code)
	}
	if code, _ := p.post(t, "/tickets/"+itoa(tk.Number)+"/mail", url.Values{"token": {"wrong"}, "status_mails": {"off"}}); code != http.StatusNotFound {
		t.Errorf("stopping with a wrong token: %d, want 404", code)
	}
	if code, _ := p.post(t, "/tickets/"+itoa(tk.Number)+"/mail", url.Values{"token": {tokenOf(t, stop)}, "status_mails": {"maybe"}}); code != http.StatusBadRequest {
		t.Errorf("status_mails=maybe: %d, want 400", code)
	}
	code, loc := p.post(t, "/tickets/"+itoa(tk.Number)+"/mail", url.Values{"token": {tokenOf(t, stop)}, "status_mails": {"off"}})
	if code != http.StatusSeeOther {
		t.Fatalf("POST stop: %d", code)
	}
	if _, page := p.get(t, loc); !strings.Contains(page, `name="status_mails" value="on"`) {
		t.Errorf("after stopping, the page should offer to turn them on again")
	}
	if _, err := p.svc.Tickets.Reply(ctx, tk.Number, tickets.ActorCustomer, "Encore."); err != nil {
		t.Fatal(err)
	}
	if _, err := p.svc.Tickets.AgentStatus(ctx, tk.Number, tickets.StatusWaiting, agentStaff); err != nil {
		t.Fatal(err)
	}
	if n := p.outbox(t, tk.Number); n != 5 {
		t.Errorf("a status mail was written after the customer stopped them: %d in the outbox", n)
	}
	if _, err := p.svc.Tickets.Post(ctx, tk.Number, agentStaff, tickets.AgentReply{Body: "Une réponse quand même."}); err != nil {
		t.Fatal(err)
	}
	if m := p.relay.wait(t, 6)[5]; !strings.Contains(m.text, "Une réponse quand même.") {
		t.Errorf("replies must still be mailed:\n%s", m.text)
	}
	// On again.
	if code, _ := p.post(t, "/tickets/"+itoa(tk.Number)+"/mail", url.Values{"token": {tokenOf(t, stop)}, "status_mails": {"on"}}); code != http.StatusSeeOther {
		t.Fatalf("POST on: %d", code)
	}
	if _, err := p.svc.Tickets.AgentStatus(ctx, tk.Number, tickets.StatusSolved, agentStaff); err != nil {
		t.Fatal(err)
	}
	if m := p.relay.wait(t, 7)[6]; firstLine(m.text) != "Résolu" {
		t.Errorf("status mails on again: got %q", m.subject)
	}
}

// TestCallMail: the reply rule's call is announced with the phone number
// and the ticket's number, at the policy's reply: Basic's third, Priority's
// first; and on its own when the customer reopens a ticket whose replies
// are used up.
func TestCallMail(t *testing.T) {
	p := newMailPortal(t)
	ctx := context.Background()
	const callWords = "will call you at +420 601 555 010"
	count := 0
	next := func() *received {
		t.Helper()
		count++
		return p.relay.wait(t, count)[count-1]
	}

	basic, _ := p.file(t, "en", "jana@example.org")
	next()
	for i := 1; i <= 3; i++ {
		if _, err := p.svc.Tickets.Post(ctx, basic.Number, agentStaff, tickets.AgentReply{Body: "Try this."}); err != nil {
			t.Fatal(err)
		}
		m := next()
		if got := strings.Contains(m.text, callWords); got != (i == 3) {
			t.Errorf("Basic, reply %d: call announced %v, want %v:\n%s", i, got, i == 3, m.text)
		}
		if i == 3 && !strings.Contains(m.text, "#"+itoa(basic.Number)+" when we call") {
			t.Errorf("the call mail should quote the ticket number:\n%s", m.text)
		}
	}

	// Acme's Priority applies to confirmed addresses only.
	for _, addr := range []string{"jana@acme.example", "petr@acme.example"} {
		if _, err := p.svc.Tickets.ConfirmAddress(ctx, addr, tickets.Confirmer{Via: tickets.ViaCLI}); err != nil {
			t.Fatal(err)
		}
	}
	prio, _ := p.file(t, "en", "jana@acme.example")
	next()
	if _, err := p.svc.Tickets.Post(ctx, prio.Number, agentStaff, tickets.AgentReply{Body: "Solved, we think.", Status: tickets.StatusSolved}); err != nil {
		t.Fatal(err)
	}
	if m := next(); strings.Contains(m.text, callWords) {
		t.Errorf("a solving reply raises no call, its mail announces none:\n%s", m.text)
	}
	// Reopened by the customer: Priority's one reply is used up; the call mail alone.
	if _, err := p.svc.Tickets.Reply(ctx, prio.Number, tickets.ActorCustomer, "Not solved."); err != nil {
		t.Fatal(err)
	}
	m := next()
	if m.subject != "[#"+itoa(prio.Number)+"] Export stops halfway" || firstLine(m.text) != "We will call you" || !strings.Contains(m.text, callWords) ||
		m.header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("call mail: %q\n%q", m.subject, m.text)
	}
	prio2, _ := p.file(t, "en", "petr@acme.example")
	next()
	if _, err := p.svc.Tickets.Post(ctx, prio2.Number, agentStaff, tickets.AgentReply{Body: "First answer."}); err != nil {
		t.Fatal(err)
	}
	if m := next(); !strings.Contains(m.text, callWords) {
		t.Errorf("Priority, first reply: the call should be announced:\n%s", m.text)
	}
}

// TestRevokeMailedLinks: revoking through the portal's HTTP server, asked
// with a link from a forwarded mail, ends every way in (the filed mail's
// link, the ticket's own token, every mailed link), mails a new private
// link to the ticket's address only (the caller's page shows none, and
// says where it went, masked), and the outbox forgets the new token once
// sent. Two concurrent revocations leave one valid token: the last mailed.
func TestRevokeMailedLinks(t *testing.T) {
	p := newMailPortal(t)
	ctx := context.Background()
	tk, own := p.file(t, "de", "jana@example.org")
	filedLink := links(p.relay.wait(t, 1)[0])[0]
	for i := 0; i < 2; i++ {
		if _, err := p.svc.Tickets.Post(ctx, tk.Number, agentStaff, tickets.AgentReply{Body: "Antwort."}); err != nil {
			t.Fatal(err)
		}
	}
	ms := p.relay.wait(t, 3)
	first, second := links(ms[1])[0], links(ms[2])[0]
	if code, page := p.get(t, first); code != http.StatusOK || !strings.Contains(page, "Alle per E-Mail gesendeten Links widerrufen") {
		t.Fatalf("GET %s: %d, want the page with the revoke control in German", first, code)
	}
	n := itoa(tk.Number)
	if code, _ := p.postPage(t, "/tickets/"+n+"/links/revoke", url.Values{"token": {"wrong"}}); code != http.StatusNotFound {
		t.Errorf("revoking with a wrong token: %d, want 404", code)
	}
	// The reader of a forwarded reply mail asks.
	code, page := p.postPage(t, "/tickets/"+n+"/links/revoke", url.Values{"token": {tokenOf(t, second)}})
	if code != http.StatusOK || !strings.Contains(page, "Ein neuer privater Link wurde an j•••@example.org gesendet") {
		t.Fatalf("POST revoke: %d, want the page saying where the new link went:\n%s", code, page)
	}
	if strings.Contains(page, "token=") {
		t.Errorf("the caller's page carries a link:\n%s", page)
	}
	for _, l := range []string{filedLink, "/tickets/" + n + "?token=" + url.QueryEscape(own), first, second} {
		if code, _ := p.get(t, l); code != http.StatusNotFound {
			t.Errorf("GET %s after revoking: %d, want 404", l, code)
		}
	}
	m := p.relay.wait(t, 4)[3]
	if !strings.Contains(m.header.Get("To"), "<jana@example.org>") || m.subject != "[Nr. 1001] Export stops halfway" || !strings.HasPrefix(m.text, "Ein neuer privater Link zu Ihrem Ticket") {
		t.Errorf("newlink mail to %q:\n%s", m.header.Get("To"), m.text)
	}
	ls := links(m)
	if len(ls) != 1 {
		t.Fatalf("links in the newlink mail: %v", ls)
	}
	if code, page := p.get(t, ls[0]); code != http.StatusOK || !strings.Contains(page, "Export stops halfway") {
		t.Errorf("the new link: %d", code)
	}
	fresh := tokenOf(t, ls[0])
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var left int
		if err := p.svc.DB.QueryRow(`SELECT count(*) FROM mail_outbox WHERE secret IS NOT NULL
			OR instr(text_body, ?) OR instr(coalesce(html_body, ''), ?)`, fresh, fresh).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the outbox still holds the new token after sending")
		}
	}

	// Asked again with an ended link (a second click): the same answer,
	// no new token, no mail.
	if code, page := p.postPage(t, "/tickets/"+n+"/links/revoke", url.Values{"token": {tokenOf(t, second)}}); code != http.StatusOK ||
		!strings.Contains(page, "j•••@example.org") {
		t.Errorf("asked again with the ended link: %d", code)
	}
	if code, _ := p.get(t, ls[0]); code != http.StatusOK {
		t.Errorf("a second ask with an ended link rotated the token: %d", code)
	}

	// Two at once, with the new link: one valid token, the last mailed.
	if _, err := p.svc.Tickets.Post(ctx, tk.Number, agentStaff, tickets.AgentReply{Body: "Noch eine."}); err != nil {
		t.Fatal(err)
	}
	third := links(p.relay.wait(t, 5)[4])[0]
	var wg sync.WaitGroup
	for _, tok := range []string{fresh, tokenOf(t, third)} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := client.PostForm(p.base+"/tickets/"+n+"/links/revoke", url.Values{"token": {tok}})
			if err == nil {
				res.Body.Close()
			}
		}()
	}
	wg.Wait()
	time.Sleep(300 * time.Millisecond) // any second mail reaches the relay
	all := p.relay.wait(t, 6)
	var valid []string
	for _, l := range []string{filedLink, first, second, third, ls[0]} {
		if code, _ := p.get(t, l); code == http.StatusOK {
			valid = append(valid, l)
		}
	}
	var lastNew string
	for _, m := range all[5:] {
		if strings.HasPrefix(m.text, "Ein neuer privater Link") {
			lastNew = links(m)[0]
		}
	}
	if code, _ := p.get(t, lastNew); code != http.StatusOK || len(valid) != 0 || len(all) != 6 {
		t.Errorf("after two concurrent revocations: the last newlink mail's link %d, earlier links still valid %v, %d mails (want 6)", code, valid, len(all))
	}
}

// firstLine is a mail text's first line.
func firstLine(text string) string {
	line, _, _ := strings.Cut(text, "\n")
	return strings.TrimSuffix(line, "\r")
}

// postPage posts a form and returns the status and the page.
func (p *mailPortal) postPage(t *testing.T, path string, form url.Values) (int, string) {
	t.Helper()
	res, err := client.PostForm(p.base+path, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestFailingMailRollsBackTheChange: a mail that cannot be written undoes
// the agent's change with it, and the error reaches the caller.
func TestFailingMailRollsBackTheChange(t *testing.T) {
	p := newMailPortal(t)
	ctx := context.Background()
	tk, _ := p.file(t, "en", "jana@example.org")
	// The outbox refuses replies (as a full disk or a bad field would).
	if _, err := p.svc.DB.Raw().Exec(`CREATE TRIGGER refuse_replies BEFORE INSERT ON mail_outbox WHEN NEW.kind = 'reply'
		BEGIN SELECT RAISE(ABORT, 'outbox refuses'); END`); err != nil {
		t.Fatal(err)
	}
	_, err := p.svc.Tickets.Post(ctx, tk.Number, agentStaff, tickets.AgentReply{Body: "Lost?", Status: tickets.StatusWaiting})
	if err == nil || !strings.Contains(err.Error(), "outbox refuses") {
		t.Fatalf("Post: %v, want the outbox's error", err)
	}
	got, err := p.svc.Tickets.GetByNumber(ctx, tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != 1 || got.Status != tickets.StatusNew || got.AgentReplies != 0 {
		t.Errorf("after a failed mail: %d messages, status %s, %d replies; want the change undone", len(got.Messages), got.Status, got.AgentReplies)
	}
	var links int
	if err := p.svc.DB.QueryRow(`SELECT count(*) FROM ticket_links`).Scan(&links); err != nil || links != 0 {
		t.Errorf("%d link tokens left by the undone change (%v)", links, err)
	}
}
