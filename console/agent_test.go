package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

// staffUser creates an account and returns it with its one-time password.
func (p *portal) staffUser(t *testing.T, email string, role staff.Role) (staff.User, string) {
	t.Helper()
	u, pw, err := p.svc.Staff.AddUser(context.Background(), email, strings.Split(email, "@")[0]+" Agent", role, "test")
	if err != nil {
		t.Fatal(err)
	}
	return u, pw
}

// staffToken creates an account with a personal access token.
func (p *portal) staffToken(t *testing.T, email string, role staff.Role) string {
	t.Helper()
	p.staffUser(t, email, role)
	tok, err := p.svc.Staff.CreateToken(context.Background(), email, "test", "test")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// browser is a staff member's browser: its cookies and the CSRF token of
// the last page it read.
type browser struct {
	p       *portal
	cookies map[string]string
	csrf    string
}

func (p *portal) browser() *browser { return &browser{p: p, cookies: map[string]string{}} }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) send(t *testing.T, method, target string, form url.Values, header ...string) (*http.Response, string) {
	t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	for name, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: v})
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1] // the request line's host, not a header field
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	res, body := b.p.do(t, req)
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	if m := csrfField.FindStringSubmatch(body); m != nil {
		b.csrf = m[1]
	}
	return res, body
}

// login signs in (changing the one-time password if asked) and returns the
// password now in force.
func (b *browser) login(t *testing.T, email, password string) string {
	t.Helper()
	b.send(t, "GET", "/agent/login", nil)
	res, _ := b.send(t, "POST", "/agent/login", url.Values{"csrf": {b.csrf}, "email": {email}, "password": {password}})
	wantStatus(t, res, http.StatusSeeOther)
	if res.Header.Get("Location") == "/agent/password" {
		b.send(t, "GET", "/agent/password", nil)
		next := password + "-but-longer"
		res, _ = b.send(t, "POST", "/agent/password", url.Values{"csrf": {b.csrf}, "current_password": {password},
			"password": {next}, "confirm": {next}})
		wantStatus(t, res, http.StatusSeeOther)
		return next
	}
	return password
}

func TestStaffLogin(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, otp := p.staffUser(t, "alice@orbitask.example", staff.RoleAgent)
	b := p.browser()

	res, _ := b.send(t, "GET", "/agent", nil)
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/agent/login") {
		t.Fatalf("not signed in: redirect to %q, want the login page", loc)
	}
	res, body := b.send(t, "GET", "/agent/login", nil)
	wantStatus(t, res, http.StatusOK)
	wantNoInlineCode(t, body)

	// The login form's own CSRF token is required.
	res, _ = b.send(t, "POST", "/agent/login", url.Values{"csrf": {"forged"}, "email": {"alice@orbitask.example"}, "password": {otp}})
	wantStatus(t, res, http.StatusForbidden)
	b.send(t, "GET", "/agent/login", nil)
	res, body = b.send(t, "POST", "/agent/login", url.Values{"csrf": {b.csrf}, "email": {"alice@orbitask.example"}, "password": {"wrong password"}})
	wantStatus(t, res, http.StatusUnauthorized)
	wantContains(t, body, "Wrong e-mail or password.")

	// The one-time password leads to the password page, and nowhere else.
	res, _ = b.send(t, "POST", "/agent/login", url.Values{"csrf": {b.csrf}, "email": {"alice@orbitask.example"}, "password": {otp}})
	wantStatus(t, res, http.StatusSeeOther)
	var session *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, not Secure over plain HTTP", session)
	}
	res, _ = b.send(t, "GET", "/agent", nil)
	if res.Header.Get("Location") != "/agent/password" {
		t.Fatalf("with a one-time password /agent sends to %q", res.Header.Get("Location"))
	}
	b.send(t, "GET", "/agent/password", nil)
	res, body = b.send(t, "POST", "/agent/password", url.Values{"csrf": {b.csrf}, "current_password": {otp},
		"password": {"short"}, "confirm": {"short"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantContains(t, body, "field__error")
	res, _ = b.send(t, "POST", "/agent/password", url.Values{"csrf": {b.csrf}, "current_password": {otp},
		"password": {"correct horse battery"}, "confirm": {"correct horse battery"}})
	wantStatus(t, res, http.StatusSeeOther)
	res, body = b.send(t, "GET", "/agent", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "Queue", "alice Agent")
	wantNoInlineCode(t, body)

	// Logging out needs the CSRF token too, and ends the session.
	res, _ = b.send(t, "POST", "/agent/logout", url.Values{})
	wantStatus(t, res, http.StatusForbidden)
	res, _ = b.send(t, "POST", "/agent/logout", url.Values{"csrf": {b.csrf}})
	wantStatus(t, res, http.StatusSeeOther)
	res, _ = b.send(t, "GET", "/agent", nil)
	wantStatus(t, res, http.StatusSeeOther)
}

func TestLoginRateLimit(t *testing.T) {
	p := newPortal(t, server.Config{})
	p.staffUser(t, "bob@orbitask.example", staff.RoleAgent)
	b := p.browser()
	b.send(t, "GET", "/agent/login", nil)
	for i := 0; i < 5; i++ {
		res, _ := b.send(t, "POST", "/agent/login", url.Values{"csrf": {b.csrf}, "email": {"bob@orbitask.example"}, "password": {"guess"}})
		wantStatus(t, res, http.StatusUnauthorized)
	}
	res, body := b.send(t, "POST", "/agent/login", url.Values{"csrf": {b.csrf}, "email": {"bob@orbitask.example"}, "password": {"guess"}})
	wantStatus(t, res, http.StatusTooManyRequests)
	if res.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	wantContains(t, body, "Too many failed sign-ins")
}

func TestConsoleRefusesForgedForms(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, pw := p.staffUser(t, "alice@orbitask.example", staff.RoleAgent)
	b := p.browser()
	b.login(t, "alice@orbitask.example", pw)
	tk, _ := fileTestTicket(t, p)
	target := "/agent/tickets/" + itoa(tk.Number) + "/replies"
	b.send(t, "GET", "/agent/tickets/"+itoa(tk.Number), nil)
	for name, c := range map[string]struct {
		form   url.Values
		header []string
	}{
		"no token":     {url.Values{"body": {"Hello"}}, nil},
		"wrong token":  {url.Values{"body": {"Hello"}, "csrf": {"x" + b.csrf}}, nil},
		"other origin": {url.Values{"body": {"Hello"}, "csrf": {b.csrf}}, []string{"Origin", "https://evil.example"}},
	} {
		res, _ := b.send(t, "POST", target, c.form, c.header...)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, res.StatusCode)
		}
	}
	got, _ := p.svc.Tickets.GetByNumber(context.Background(), tk.Number)
	if len(got.Messages) != 1 {
		t.Fatalf("a refused form stored a reply: %d messages", len(got.Messages))
	}
	res, _ := b.send(t, "POST", target, url.Values{"body": {"Hello"}, "csrf": {b.csrf}})
	wantStatus(t, res, http.StatusSeeOther)
}

func TestRoles(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, agentPW := p.staffUser(t, "alice@orbitask.example", staff.RoleAgent)
	_, opPW := p.staffUser(t, "olga@orbitask.example", staff.RoleOperator)
	agentToken := p.staffToken(t, "anna@orbitask.example", staff.RoleAgent)
	writerToken := p.staffToken(t, "wendy@orbitask.example", staff.RoleWriter)
	tk, customerToken := fileTestTicket(t, p)

	agent := p.browser()
	agent.login(t, "alice@orbitask.example", agentPW)
	res, _ := agent.send(t, "GET", "/operator", nil)
	wantStatus(t, res, http.StatusForbidden) // an agent cannot reach operator pages
	op := p.browser()
	op.login(t, "olga@orbitask.example", opPW)
	res, body := op.send(t, "GET", "/operator", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "Business calendar", "Europe/Prague")
	res, _ = op.send(t, "GET", "/agent", nil) // an operator has agent rights
	wantStatus(t, res, http.StatusOK)

	queue := "/api/agent/queue"
	for _, c := range []struct {
		name, auth string
		want       int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"the customer's ticket token", "Bearer " + customerToken, http.StatusUnauthorized},
		{"a made-up token", "Bearer ob_pat_nothing", http.StatusUnauthorized},
		{"a writer's token", "Bearer " + writerToken, http.StatusForbidden},
		{"an agent's token", "Bearer " + agentToken, http.StatusOK},
	} {
		res, _ := p.get(t, queue, "Authorization", c.auth)
		if res.StatusCode != c.want {
			t.Errorf("%s: status %d, want %d", c.name, res.StatusCode, c.want)
		}
	}
	res, _ = p.get(t, "/api/operator/audit", "Authorization", "Bearer "+agentToken)
	wantStatus(t, res, http.StatusForbidden)

	// A disabled account reads nothing more: its token and sessions end.
	if err := p.svc.Staff.DisableUser(context.Background(), "anna@orbitask.example", "test"); err != nil {
		t.Fatal(err)
	}
	res, _ = p.get(t, "/api/agent/tickets/"+itoa(tk.Number), "Authorization", "Bearer "+agentToken)
	wantStatus(t, res, http.StatusUnauthorized)
	if err := p.svc.Staff.DisableUser(context.Background(), "alice@orbitask.example", "test"); err != nil {
		t.Fatal(err)
	}
	res, _ = agent.send(t, "GET", "/agent/tickets/"+itoa(tk.Number), nil)
	wantStatus(t, res, http.StatusSeeOther)
}

func TestAgentAPI(t *testing.T) {
	p := newPortal(t, server.Config{})
	token := p.staffToken(t, "anna@orbitask.example", staff.RoleAgent)
	auth := []string{"Authorization", "Bearer " + token}
	ctx := context.Background()
	file := func(email string, severity int) tickets.Ticket {
		tk, _, err := p.svc.Tickets.File(ctx, tickets.NewTicket{Name: "Jana", Company: "Acme", Phone: "+420 601 555 010",
			Email: email, Subject: "Export fails", Description: "The export stops.", Severity: severity})
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	writeFile(t, p.svc.DataDir+"/customers.yaml", "organisations:\n  - {name: Acme, domains: [acme.example], plan: priority}\n")
	time.Sleep(1100 * time.Millisecond) // customers.yaml is looked at once a second
	// Acme's plan applies to a confirmed address (tickets/confirm.go).
	if _, err := p.svc.Tickets.ConfirmAddress(ctx, "c@acme.example", tickets.Confirmer{Via: tickets.ViaCLI}); err != nil {
		t.Fatal(err)
	}
	basic4 := file("a@basic.example", 4)
	basic1 := file("b@basic.example", 1)
	prio3 := file("c@acme.example", 3)
	basic3 := file("d@basic.example", 3)

	res, body := p.get(t, "/api/agent/queue", auth...)
	wantStatus(t, res, http.StatusOK)
	var q struct {
		Tickets []struct {
			Number       int     `json:"number"`
			Plan         string  `json:"plan"`
			Severity     int     `json:"severity"`
			SLADue       *string `json:"sla_due"`
			CallRequired bool    `json:"call_required"`
			Phone        string  `json:"phone"`
		} `json:"tickets"`
		Total int `json:"total"`
	}
	if err := json.Unmarshal([]byte(body), &q); err != nil {
		t.Fatal(err)
	}
	var order []int
	for _, it := range q.Tickets {
		order = append(order, it.Number)
		if it.SLADue == nil || it.Plan == "" || it.Phone == "" {
			t.Errorf("queue item %+v lacks plan, sla_due or phone", it)
		}
	}
	// Priority first; then the severity-1 call; then severity, due time.
	want := []int{prio3.Number, basic1.Number, basic3.Number, basic4.Number}
	if len(order) != 4 || order[0] != want[0] || order[1] != want[1] || order[2] != want[2] || order[3] != want[3] {
		t.Fatalf("queue order %v, want %v", order, want)
	}
	if !q.Tickets[1].CallRequired {
		t.Error("severity 1 ticket not flagged for a call")
	}
	res, body = p.get(t, "/api/agent/queue?plan=basic&severity=3", auth...)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, `"total":1`)
	res, body = p.get(t, "/api/agent/queue?severity=9", auth...)
	wantStatus(t, res, http.StatusBadRequest)
	wantContains(t, body, "severity")

	// A reply reaches the customer; a note does not.
	path := "/api/agent/tickets/" + itoa(prio3.Number)
	res, _ = p.postJSON(t, path+"/replies", `{"body":"Please try **again**."}`, auth...)
	wantStatus(t, res, http.StatusCreated)
	res, _ = p.postJSON(t, path+"/replies", `{"body":"Suspect the proxy.","internal":true}`, auth...)
	wantStatus(t, res, http.StatusCreated)
	res, body = p.postJSON(t, path+"/replies", `{"body":""}`, auth...)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantContains(t, body, `"body"`)
	res, _ = p.postJSON(t, path+"/status", `{"status":"solved"}`, auth...)
	wantStatus(t, res, http.StatusOK)
	res, body = p.postJSON(t, path+"/status", `{"status":"finished"}`, auth...)
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantContains(t, body, `"status"`)
	res, _ = p.postJSON(t, "/api/agent/tickets/999999/status", `{"status":"open"}`, auth...)
	wantStatus(t, res, http.StatusNotFound)

	res, body = p.get(t, path, auth...)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "Suspect the proxy.", `"name":"anna Agent"`, `"status":"solved"`)
	full, _ := p.svc.Tickets.GetByNumber(ctx, prio3.Number)
	// Priority: the first reply did not solve it (the status came later), so
	// support calls.
	if !full.CallRequired || full.CallReason != "reply_rule" {
		t.Errorf("priority ticket after one unsolved reply: call %v (%q), want the reply rule's flag", full.CallRequired, full.CallReason)
	}
}

func TestAgentPagesShowTheTicket(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, pw := p.staffUser(t, "alice@orbitask.example", staff.RoleAgent)
	b := p.browser()
	b.login(t, "alice@orbitask.example", pw)
	ctx := context.Background()
	tk, _, err := p.svc.Tickets.File(ctx, tickets.NewTicket{Name: "Jean Dupont", Company: "Acme", Phone: "+33 1 23 45 67 89",
		Email: "jean@acme.example", Subject: "<script>alert(1)</script> L'export ne fonctionne pas",
		Description: "Bonjour, quand je clique sur le bouton d'export, rien ne se passe et la page affiche une erreur. <img src=x onerror=alert(1)>",
		Severity:    2, Version: "5.2", Deployment: tickets.DeploymentCloud})
	if err != nil {
		t.Fatal(err)
	}
	page := "/agent/tickets/" + itoa(tk.Number)
	res, body := b.send(t, "GET", page, nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "&#43;33 1 23 45 67 89", "Call the submitter", "Answer in <strong>Français</strong>", "5.2",
		"&lt;script&gt;alert(1)&lt;/script&gt;")
	wantLacks(t, body, "<script>alert(1)", "<img src=x")
	wantNoInlineCode(t, body)

	// A regional variant of a support language is answered in that language,
	// as the ticket says; another language in English.
	for lang, want := range map[string]string{"de-CH": "Answer in <strong>Deutsch</strong>", "pt-BR": "<strong>answer in English</strong>"} {
		other, _, err := p.svc.Tickets.File(ctx, tickets.NewTicket{Name: "N", Company: "C", Phone: "+41 44 123 45 67",
			Email: "n@acme.example", Subject: "Export", Description: "Der Export geht nicht.", Severity: 3, Lang: lang})
		if err != nil {
			t.Fatal(err)
		}
		_, body := b.send(t, "GET", "/agent/tickets/"+itoa(other.Number), nil)
		wantContains(t, body, want)
	}

	// Reply in Markdown, then a call note that clears the flag.
	res, _ = b.send(t, "POST", page+"/replies", url.Values{"csrf": {b.csrf}, "body": {"Merci, **essayez** ceci."}, "status": {"waiting"}})
	wantStatus(t, res, http.StatusSeeOther)
	res, body = b.send(t, "GET", res.Header.Get("Location"), nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "<strong>essayez</strong>", "Reply sent")
	res, _ = b.send(t, "POST", page+"/replies", url.Values{"csrf": {b.csrf}, "body": {"Appelé, OK."}, "internal": {"1"}, "call": {"1"}})
	wantStatus(t, res, http.StatusSeeOther)
	res, body = b.send(t, "GET", page, nil)
	wantStatus(t, res, http.StatusOK)
	wantLacks(t, body, `id="call-banner"`)
	wantContains(t, body, "recorded a call", "alice Agent")
	// A refused note stays a note: the form comes back as it was sent.
	res, body = b.send(t, "POST", page+"/replies", url.Values{"csrf": {b.csrf}, "body": {"   "}, "internal": {"1"}, "status": {"solved"}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantContains(t, body, `id="reply-internal" checked`, `<option value="solved" selected>`, "<strong>body</strong>")
	// A refused action keeps the draft and names the field.
	res, body = b.send(t, "POST", page+"/severity", url.Values{"csrf": {b.csrf}, "severity": {"3"}, "reason": {""}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantContains(t, body, "<strong>reason</strong>")
	res, _ = b.send(t, "POST", page+"/assign", url.Values{"csrf": {b.csrf}, "assignee": {"me"}})
	wantStatus(t, res, http.StatusSeeOther)
	res, body = b.send(t, "GET", "/agent?assignee=me", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "#"+itoa(tk.Number))
	res, body = b.send(t, "GET", "/agent?status=open", nil) // waiting: not in the "open" filter
	wantStatus(t, res, http.StatusOK)
	wantLacks(t, body, `href="/agent/tickets/`+itoa(tk.Number)+`"`)
	res, body = b.send(t, "GET", "/agent?status=waiting", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, `href="/agent/tickets/`+itoa(tk.Number)+`"`)
	res, body = b.send(t, "GET", "/agent?assignee=none", nil)
	wantStatus(t, res, http.StatusOK)
	wantLacks(t, body, `href="/agent/tickets/`+itoa(tk.Number)+`"`)
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// An agent's reply reaches the customer's open page live, a note never
// does, and both reach the other agents' console.
func TestAgentChangesGoLive(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, pw := p.staffUser(t, "alice@orbitask.example", staff.RoleAgent)
	b := p.browser()
	b.login(t, "alice@orbitask.example", pw)
	token := p.staffToken(t, "anna@orbitask.example", staff.RoleAgent)
	tk, customerToken := fileTestTicket(t, p)
	host := p.serve(t)

	cust, _, err := dialWS(t, host, "/api/tickets/"+itoa(tk.Number)+"/live?token="+url.QueryEscape(customerToken), "http://"+host)
	if err != nil {
		t.Fatal(err)
	}
	defer cust.Close()
	var snap map[string]any
	cust.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := cust.ReadJSON(&snap); err != nil || snap["type"] != "snapshot" {
		t.Fatalf("customer snapshot %v, %v", snap, err)
	}

	if _, resp, err := dialWS(t, host, "/agent/live", "http://"+host); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("console feed without a session: %v %v, want 401", resp, err)
	}
	hdr := http.Header{"Origin": {"http://" + host}, "Cookie": {sessionCookie + "=" + b.cookies[sessionCookie]}}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	console, _, err := d.Dial("ws://"+host+"/agent/live", hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer console.Close()
	var hello map[string]any
	console.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := console.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		t.Fatalf("console hello %v, %v", hello, err)
	}

	auth := []string{"Authorization", "Bearer " + token}
	path := "/api/agent/tickets/" + itoa(tk.Number) + "/replies"
	if res, _ := p.postJSON(t, path, `{"body":"Internal: it is the proxy.","internal":true}`, auth...); res.StatusCode != http.StatusCreated {
		t.Fatalf("note: %d", res.StatusCode)
	}
	if res, _ := p.postJSON(t, path, `{"body":"Please restart the export."}`, auth...); res.StatusCode != http.StatusCreated {
		t.Fatalf("reply: %d", res.StatusCode)
	}

	var got struct {
		Type  string `json:"type"`
		Event struct {
			Kind    string `json:"kind"`
			Message *struct {
				Body string `json:"body"`
			} `json:"message"`
		} `json:"event"`
	}
	cust.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := cust.ReadJSON(&got); err != nil {
		t.Fatal(err)
	}
	if got.Event.Kind != "reply" || got.Event.Message == nil || got.Event.Message.Body != "Please restart the export." {
		t.Fatalf("customer's first live event %+v, want the reply (never the note)", got)
	}
	// A severity change reaches the customer with the new severity.
	if res, _ := p.postJSON(t, "/api/agent/tickets/"+itoa(tk.Number)+"/severity", `{"severity":2,"reason":"Whole team blocked"}`, auth...); res.StatusCode != http.StatusOK {
		t.Fatalf("severity: %d", res.StatusCode)
	}
	var sev struct {
		Event struct {
			Kind     string `json:"kind"`
			Severity int    `json:"severity"`
			Reason   string `json:"reason"`
		} `json:"event"`
	}
	for sev.Event.Kind != "severity" {
		cust.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := cust.ReadJSON(&sev); err != nil {
			t.Fatal(err)
		}
	}
	if sev.Event.Severity != 2 || sev.Event.Reason != "" {
		t.Fatalf("customer's severity event %+v: want severity 2 and no internal reason", sev.Event)
	}
	var kinds []string
	for len(kinds) < 4 {
		var m struct {
			Number int    `json:"number"`
			Kind   string `json:"kind"`
		}
		console.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := console.ReadJSON(&m); err != nil {
			t.Fatalf("console after %v: %v", kinds, err)
		}
		// The filing itself may reach the feed after the socket opened.
		if m.Number == tk.Number && m.Kind != "filed" {
			kinds = append(kinds, m.Kind)
		}
	}
	// The first reply opens the new ticket.
	if kinds[0] != "note" || kinds[1] != "reply" || kinds[2] != "status" || kinds[3] != "severity" {
		t.Fatalf("console saw %v, want note, reply, status, severity", kinds)
	}
}

// Behind a trusted proxy the session cookie is Secure when the proxy says
// the client came over TLS; anyone else's X-Forwarded-Proto is ignored.
func TestSecureCookieBehindTrustedProxy(t *testing.T) {
	for _, c := range []struct {
		name    string
		trusted []string
		secure  bool
	}{
		{"no proxy configured", nil, false},
		{"the request's proxy is trusted", []string{"0.0.0.0/0"}, true},
		{"another proxy is trusted", []string{"10.9.9.9"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPortal(t, server.Config{TrustedProxies: c.trusted})
			_, pw := p.staffUser(t, "alice@orbitask.example", staff.RoleAgent)
			b := p.browser()
			b.send(t, "GET", "/agent/login", nil)
			res, _ := b.send(t, "POST", "/agent/login", url.Values{"csrf": {b.csrf}, "email": {"alice@orbitask.example"}, "password": {pw}},
				"X-Forwarded-Proto", "https", "X-Forwarded-For", "203.0.113.7")
			wantStatus(t, res, http.StatusSeeOther)
			for _, ck := range res.Cookies() {
				if ck.Name == sessionCookie && ck.Secure != c.secure {
					t.Fatalf("session cookie Secure=%v, want %v", ck.Secure, c.secure)
				}
			}
			// HSTS exactly when the request came over TLS.
			if hsts := res.Header.Get("Strict-Transport-Security"); (hsts == "max-age=31536000") != c.secure {
				t.Errorf("Strict-Transport-Security %q over https=%v", hsts, c.secure)
			}
		})
	}
}

// Behind a trusted proxy the client's address is the right-most
// X-Forwarded-For entry that is not a trusted proxy: a client prepending
// addresses of its own choosing still meets the per-address limit, and the
// audit log records the address the proxy saw.
func TestClientAddressBehindTrustedProxy(t *testing.T) {
	p := newPortal(t, server.Config{TrustedProxies: []string{"0.0.0.0/32"}}) // the test connection's peer
	b := p.browser()
	b.send(t, "GET", "/agent/login", nil)
	var limited int
	for i := range 22 {
		res, _ := b.send(t, "POST", "/agent/login", url.Values{"csrf": {b.csrf}, "email": {fmt.Sprintf("nobody%d@orbitask.example", i)}, "password": {"wrong password"}},
			"X-Forwarded-For", fmt.Sprintf("198.51.100.%d, 203.0.113.5", i))
		if res.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited != 2 {
		t.Errorf("%d of 22 failed sign-ins from one address refused, want the 2 past the limit of 20", limited)
	}
	entries, err := p.svc.Staff.Audit(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if ip := e.Detail["ip"]; ip != "" && ip != "203.0.113.5" {
			t.Fatalf("audit entry with address %q, want the proxy's view 203.0.113.5", ip)
		}
	}
}

// Over HTTP: the browser that signed in before keeps its cookie, scoped to
// the sign-in form, and signs in while guesses from many addresses have
// locked everyone else out of the account.
func TestTargetedLockoutSparesARecognisedBrowser(t *testing.T) {
	p := newPortal(t, server.Config{TrustedProxies: []string{"0.0.0.0/32"}}) // the test connection's peer
	_, otp := p.staffUser(t, "alice@orbitask.example", staff.RoleAgent)
	owner := p.browser()
	owner.send(t, "GET", "/agent/login", nil, "X-Forwarded-For", "198.51.100.7")
	res, _ := owner.send(t, "POST", "/agent/login", url.Values{"csrf": {owner.csrf}, "email": {"alice@orbitask.example"}, "password": {otp}},
		"X-Forwarded-For", "198.51.100.7")
	wantStatus(t, res, http.StatusSeeOther)
	var device *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "portal_device" {
			device = c
		}
	}
	if device == nil || device.Path != "/agent/login" || !device.HttpOnly || device.SameSite != http.SameSiteStrictMode || device.MaxAge < 29*24*3600 {
		t.Fatalf("device cookie %+v, want HttpOnly, SameSite=Strict, Path=/agent/login, 30 days", device)
	}
	owner.send(t, "GET", "/agent/password", nil)
	password := otp + "-but-longer"
	res, _ = owner.send(t, "POST", "/agent/password", url.Values{"csrf": {owner.csrf}, "current_password": {otp},
		"password": {password}, "confirm": {password}})
	wantStatus(t, res, http.StatusSeeOther)
	owner.send(t, "POST", "/agent/logout", url.Values{"csrf": {owner.csrf}})

	attacker := p.browser()
	attacker.send(t, "GET", "/agent/login", nil)
	for i := range 30 {
		attacker.send(t, "POST", "/agent/login", url.Values{"csrf": {attacker.csrf}, "email": {"alice@orbitask.example"}, "password": {"guess"}},
			"X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
	}
	stranger := p.browser()
	stranger.send(t, "GET", "/agent/login", nil)
	res, _ = stranger.send(t, "POST", "/agent/login", url.Values{"csrf": {stranger.csrf}, "email": {"alice@orbitask.example"}, "password": {password}},
		"X-Forwarded-For", "192.0.2.50")
	wantStatus(t, res, http.StatusTooManyRequests)
	if res.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	owner.send(t, "GET", "/agent/login", nil, "X-Forwarded-For", "192.0.2.51")
	res, _ = owner.send(t, "POST", "/agent/login", url.Values{"csrf": {owner.csrf}, "email": {"alice@orbitask.example"}, "password": {password}},
		"X-Forwarded-For", "192.0.2.51")
	wantStatus(t, res, http.StatusSeeOther)
}

// The console's header says what is true now: a waiting ticket's clock is
// paused; a solved one has no clock and no call to make.
func TestConsoleHeaderFollowsTheStatus(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, pw := p.staffUser(t, "alice@orbitask.example", staff.RoleAgent)
	b := p.browser()
	b.login(t, "alice@orbitask.example", pw)
	ctx := context.Background()
	tk, _, err := p.svc.Tickets.File(ctx, tickets.NewTicket{Name: "Jana", Company: "Acme", Phone: "+420 601 555 010",
		Email: "jana@acme.example", Subject: "Export fails", Description: "The export stops.", Severity: 2})
	if err != nil {
		t.Fatal(err)
	}
	page := "/agent/tickets/" + itoa(tk.Number)
	_, body := b.send(t, "GET", page, nil)
	wantContains(t, body, `id="ticket-sla"`, `id="call-banner"`, `data-reply-default="waiting"`)

	by := tickets.Staff{ID: 99, Name: "Bob Agent"}
	if _, err := p.svc.Tickets.Post(ctx, tk.Number, by, tickets.AgentReply{Body: "Which version?", Status: tickets.StatusWaiting}); err != nil {
		t.Fatal(err)
	}
	_, body = b.send(t, "GET", page, nil)
	wantContains(t, body, "SLA paused while waiting")

	if _, err := p.svc.Tickets.AgentStatus(ctx, tk.Number, tickets.StatusSolved, by); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{page, page + "?part=live"} {
		res, body := b.send(t, "GET", target, nil)
		wantStatus(t, res, http.StatusOK)
		wantContains(t, body, `data-status="solved"`)
		wantLacks(t, body, `id="ticket-sla"`, "SLA paused", "SLA breached", `id="call-banner"`)
	}
	// A reply on a solved ticket does not reopen it unasked.
	_, body = b.send(t, "GET", page, nil)
	wantContains(t, body, `data-reply-default=""`)
	_, body = b.send(t, "GET", "/agent?status=solved", nil)
	wantLacks(t, body, "paused ·", "☎ Call the submitter")
}
