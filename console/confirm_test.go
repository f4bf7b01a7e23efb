package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
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
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

// relay is a real SMTP server (go-smtp) on 127.0.0.1 that keeps what it
// accepts, decoded: subject and plain text.
type relay struct {
	mu    sync.Mutex
	mails []relayed
}

type relayed struct{ To, Subject, Text string }

func (r *relay) NewSession(*smtp.Conn) (smtp.Session, error) { return &relaySession{r: r}, nil }

type relaySession struct{ r *relay }

func (*relaySession) Reset()                               {}
func (*relaySession) Logout() error                        { return nil }
func (*relaySession) Mail(string, *smtp.MailOptions) error { return nil }
func (*relaySession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *relaySession) Data(rd io.Reader) error {
	raw, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	var body io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(m.Body)
	}
	text, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.mails = append(s.r.mails, relayed{m.Header.Get("To"), subject, string(text)})
	s.r.mu.Unlock()
	return nil
}

// wait returns the mails once there are n, or fails the test after 5 s.
func (r *relay) wait(t *testing.T, n int) []relayed {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		r.mu.Lock()
		got := append([]relayed(nil), r.mails...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails arrived within 5 s, want %d", len(got), n)
		}
	}
}

// mailPortal is the whole server over a portal that sends mail through a
// capturing relay, with Acme's domain on the Priority plan.
func mailPortal(t *testing.T, cfg server.Config) (*portal, *relay) {
	t.Helper()
	r := &relay{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(r)
	srv.Domain = "relay.test"
	srv.AllowInsecureAuth = true
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "customers.yaml"),
		[]byte("organisations:\n  - name: Acme Ltd\n    domains: [acme.example]\n    plan: priority\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	svc, err := app.Open(app.Config{Data: data, Content: "testdata/content", FeedInterval: testportal.FeedInterval,
		Live: server.LiveEncoders, HashMemoryKiB: 64, HashTime: 1,
		Mail:      mail.SenderConfig{SMTPURL: "smtp://" + ln.Addr().String() + "?tls=none", From: "Orbitask Support <support@help.example>"},
		PublicURL: "https://help.example"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	svc.RunMail()
	s, err := server.New(cfg, svc)
	if err != nil {
		t.Fatal(err)
	}
	return &portal{app: s, dbPath: filepath.Join(svc.DataDir, "portal.db"), svc: svc}, r
}

// fileAPI files a ticket through POST /api/tickets and returns its number.
func fileAPI(t *testing.T, p *portal, email, subject string) int {
	t.Helper()
	n, _ := fileAPIToken(t, p, email, subject)
	return n
}

// fileAPIToken is fileAPI, with the ticket's page.
func fileAPIToken(t *testing.T, p *portal, email, subject string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": "Jana", "company": "Acme", "phone": "+420 601 555 010", "email": email,
		"subject": subject, "description": "The export stops half way through.", "severity": 3, "lang": "en"})
	res, out := p.postJSON(t, "/api/tickets", string(body))
	wantStatus(t, res, http.StatusCreated)
	var got struct {
		Number int
		URL    string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	return got.Number, got.URL
}

// post sends a form without a session (the customer's pages).
func post(t *testing.T, p *portal, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return p.do(t, req)
}

var (
	confirmLink = regexp.MustCompile(`https://help\.example(/tickets/confirm\?token=[A-Za-z0-9_%-]+)`)
	findLink    = regexp.MustCompile(`https://help\.example(/tickets/find/list\?token=[A-Za-z0-9_%-]+)`)
	tokenField  = regexp.MustCompile(`name="token" value="([^"]+)"`)
	foundLinks  = regexp.MustCompile(`href="(/tickets/(\d+)\?token=[^"]+)"`)
)

// TestConfirmAddressEndToEnd: filing as anyone@acme.example (Priority by
// its domain) queues as Basic with Priority pending, the agent sees
// "Priority — e-mail not yet confirmed"; the filed mail carries a confirm
// link; GET of it confirms nothing; POST moves the ticket up with the SLA
// from the filing time; the next filing is Priority at once; an agent's
// confirmation is audited.
func TestConfirmAddressEndToEnd(t *testing.T) {
	p, r := mailPortal(t, server.Config{RateLimits: httpkit.RateLimits{Off: true}})
	ctx := context.Background()
	n, page := fileAPIToken(t, p, "anyone@acme.example", "Export fails")
	res, body := p.get(t, page)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "Your Priority plan applies once you confirm your e-mail address")
	tk, err := p.svc.Tickets.GetByNumber(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Plan != tickets.PlanBasic || tk.PendingPlan != tickets.PlanPriority {
		t.Fatalf("filed as %s, pending %q", tk.Plan, tk.PendingPlan)
	}
	_, pw := p.staffUser(t, "alice@orbitask.example", staff.RoleAgent)
	agent := p.browser()
	agent.login(t, "alice@orbitask.example", pw)
	res, body = agent.send(t, "GET", "/agent", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "Priority — e-mail not yet confirmed")
	res, body = agent.send(t, "GET", fmt.Sprintf("/agent/tickets/%d", n), nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "Priority — e-mail not yet confirmed", "Confirm e-mail address")

	filed := r.wait(t, 1)[0]
	m := confirmLink.FindStringSubmatch(filed.Text)
	if m == nil || !strings.Contains(filed.Text, fmt.Sprintf("https://help.example/tickets/%d?token=", n)) {
		t.Fatalf("the filed mail lacks the ticket's or the confirm link:\n%s", filed.Text)
	}
	res, body = p.get(t, m[1])
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "anyone@acme.example", "Confirm my address", `action="/tickets/confirm?lang=en"`)
	if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers %v", res.Header)
	}
	if tk, _ = p.svc.Tickets.GetByNumber(ctx, n); tk.Plan != tickets.PlanBasic {
		t.Fatal("a GET of the confirm link confirmed the address")
	}
	token := html.UnescapeString(tokenField.FindStringSubmatch(body)[1])
	res, body = post(t, p, "/tickets/confirm?lang=en", url.Values{"token": {token}})
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "anyone@acme.example is confirmed", fmt.Sprintf("#%d “Export fails”: Priority", n))
	tk, _ = p.svc.Tickets.GetByNumber(ctx, n)
	cal := p.svc.Tickets.Calendar()
	want, _ := cal.Due(cal.Target("priority"), tk.CreatedAt)
	if tk.Plan != tickets.PlanPriority || tk.PendingPlan != "" || !tk.SLADue.Equal(want) {
		t.Fatalf("after confirming: %s pending %q due %s, want priority due %s", tk.Plan, tk.PendingPlan, tk.SLADue, want)
	}
	res, body = agent.send(t, "GET", fmt.Sprintf("/agent/tickets/%d", n), nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "confirmed the e-mail address: plan Priority")
	wantLacks(t, body, "not yet confirmed")
	_, body = p.get(t, page)
	wantLacks(t, body, "applies once you confirm")
	// The customer's live page learns the plan with the new due time.
	tok, _ := url.QueryUnescape(strings.TrimPrefix(page, fmt.Sprintf("/tickets/%d?token=", n)))
	res, body = p.get(t, fmt.Sprintf("/api/tickets/%d", n), "Authorization", "Bearer "+tok)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, `"kind":"sla","sla_due":"`+want.UTC().Format(time.RFC3339)+`","plan":"priority"`)

	// Confirmed before: Priority at once, and no confirm link in its mail.
	next := fileAPI(t, p, "Anyone@acme.example", "Import fails")
	if tk, _ = p.svc.Tickets.GetByNumber(ctx, next); tk.Plan != tickets.PlanPriority {
		t.Fatalf("a later filing: %s", tk.Plan)
	}
	if mails := r.wait(t, 2); confirmLink.MatchString(mails[1].Text) {
		t.Errorf("a confirmed address's filed mail asks to confirm:\n%s", mails[1].Text)
	}

	// An agent confirms by hand; the audit trail says who.
	other := fileAPI(t, p, "other@acme.example", "Login fails")
	res, _ = agent.send(t, "POST", fmt.Sprintf("/agent/tickets/%d/confirm-email", other), url.Values{"csrf": {"forged"}})
	if res.StatusCode < 400 {
		t.Fatalf("a forged CSRF token: %d", res.StatusCode)
	}
	res, _ = agent.send(t, "GET", fmt.Sprintf("/agent/tickets/%d", other), nil)
	wantStatus(t, res, http.StatusOK)
	res, _ = agent.send(t, "POST", fmt.Sprintf("/agent/tickets/%d/confirm-email", other), url.Values{"csrf": {agent.csrf}})
	wantStatus(t, res, http.StatusSeeOther)
	if tk, _ = p.svc.Tickets.GetByNumber(ctx, other); tk.Plan != tickets.PlanPriority {
		t.Fatalf("after the agent's confirmation: %s", tk.Plan)
	}
	audit, err := p.svc.Staff.Audit(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range audit {
		if e.Action == "address confirmed" && e.Subject == "other@acme.example" && e.Actor == "alice@orbitask.example" &&
			e.Detail["moved"] == fmt.Sprintf("#%d", other) {
			found = true
		}
	}
	if !found {
		t.Errorf("no audit entry of the confirmation: %+v", audit)
	}
}

// TestFindMyTicketsEndToEnd: the same answer for an unknown and a known
// address, one mail (in the page's language) for the known one; its link
// shows a button, and the POST lists that address's tickets and only
// those, with working links; the link works once and not once expired;
// the fourth request within the hour sends nothing.
func TestFindMyTicketsEndToEnd(t *testing.T) {
	p, r := mailPortal(t, server.Config{RateLimits: httpkit.RateLimits{Off: true}})
	ctx := context.Background()
	a := fileAPI(t, p, "jana@acme.example", "Export fails")
	b := fileAPI(t, p, "JANA@acme.example", "Import fails")
	c := fileAPI(t, p, "petr@acme.example", "Login fails")
	r.wait(t, 3)

	res, unknown := post(t, p, "/tickets/find?lang=de", url.Values{"email": {"nobody@acme.example"}})
	wantStatus(t, res, http.StatusOK)
	res, known := post(t, p, "/tickets/find?lang=de", url.Values{"email": {"jana@acme.example"}})
	wantStatus(t, res, http.StatusOK)
	sent := "Falls wir Tickets zu dieser Adresse haben"
	wantContains(t, unknown, sent)
	wantContains(t, known, sent)
	if strip(unknown) != strip(known) {
		t.Error("the answers for an unknown and a known address differ")
	}
	r.wait(t, 4)
	time.Sleep(200 * time.Millisecond) // nothing more comes
	mails := r.wait(t, 4)
	if len(mails) != 4 {
		t.Fatalf("%d mails, want 3 filed and 1 find", len(mails))
	}
	fm := mails[3]
	link := findLink.FindStringSubmatch(fm.Text)
	if link == nil || fm.Subject != "Ihre Orbitask-Support-Tickets" || !strings.Contains(fm.To, "jana@acme.example") {
		t.Fatalf("find mail to %s %q:\n%s", fm.To, fm.Subject, fm.Text)
	}
	res, body := p.get(t, link[1])
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "jana@acme.example", `action="/tickets/find/list?lang=`)
	token := html.UnescapeString(tokenField.FindStringSubmatch(body)[1])
	res, body = post(t, p, "/tickets/find/list", url.Values{"token": {token}})
	wantStatus(t, res, http.StatusOK)
	var listed []string
	for _, m := range foundLinks.FindAllStringSubmatch(body, -1) {
		listed = append(listed, m[2])
		res, _ := p.get(t, html.UnescapeString(m[1]))
		wantStatus(t, res, http.StatusOK)
	}
	if want := []string{itoa(b), itoa(a)}; strings.Join(listed, ",") != strings.Join(want, ",") {
		t.Fatalf("listed %v, want %v (not #%d)", listed, want, c)
	}
	if ok, by, _, _ := p.svc.Tickets.Confirmed(ctx, "jana@acme.example"); !ok || by != tickets.ViaFindLink {
		t.Errorf("the find link did not confirm the address: %v %q", ok, by)
	}
	res, _ = post(t, p, "/tickets/find/list", url.Values{"token": {token}})
	wantStatus(t, res, http.StatusGone)

	// Expired: a second link, its 30 minutes over.
	post(t, p, "/tickets/find", url.Values{"email": {"jana@acme.example"}})
	second := findLink.FindStringSubmatch(r.wait(t, 5)[4].Text)
	tok, _ := url.QueryUnescape(strings.TrimPrefix(second[1], "/tickets/find/list?token="))
	if _, err := p.svc.DB.Raw().Exec(`UPDATE address_tokens SET expires_at = '2000-01-01T00:00:00.000Z' WHERE purpose = 'find' AND used_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	res, body = p.get(t, second[1])
	wantStatus(t, res, http.StatusGone)
	wantContains(t, body, `id="find-form"`)
	res, _ = post(t, p, "/tickets/find/list", url.Values{"token": {tok}})
	wantStatus(t, res, http.StatusGone)

	// The third mail this hour goes; the fourth request sends nothing.
	post(t, p, "/tickets/find", url.Values{"email": {"jana@acme.example"}})
	r.wait(t, 6)
	res, body = post(t, p, "/tickets/find", url.Values{"email": {"jana@acme.example"}})
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "If we have tickets for that address, we sent a link")
	var finds int
	if err := p.svc.DB.QueryRow(`SELECT count(*) FROM mail_outbox WHERE kind = 'find'`).Scan(&finds); err != nil || finds != 3 {
		t.Fatalf("%d find mails in the outbox (%v), want 3", finds, err)
	}

	res, body = post(t, p, "/tickets/find", url.Values{"email": {"not an address"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="find-email-error"`, `aria-invalid="true"`)
}

// strip drops what differs between two renderings of one page anyway.
func strip(s string) string {
	return regexp.MustCompile(`value="[^"]*"`).ReplaceAllString(s, "")
}

// TestFindIsRateLimitedPerClient: a client's find requests count against
// its filing limit (429 beyond it), whatever the addresses.
func TestFindIsRateLimitedPerClient(t *testing.T) {
	p := newPortal(t, server.Config{})
	var limited bool
	for i := 0; i < 12 && !limited; i++ {
		res, _ := post(t, p, "/tickets/find", url.Values{"email": {fmt.Sprintf("x%d@example.com", i)}})
		limited = res.StatusCode == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("12 find requests from one client at once: none refused")
	}
}
