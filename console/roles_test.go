package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
)

// The operator page states the calendar once: the working hours in a
// sentence, the per-plan targets in their list, and no summary that
// repeats them.
func TestOperatorCalendarOnce(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, pw := p.staffUser(t, "olga@orbitask.example", staff.RoleOperator)
	op := p.browser()
	op.login(t, "olga@orbitask.example", pw)
	res, body := op.send(t, "GET", "/operator", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "Working hours: Europe/Prague; Mon Tue Wed Thu Fri")
	for _, once := range []string{"Europe/Prague", "working hours</dd>", "as agreed"} {
		if n := strings.Count(body, once); n != 1 {
			t.Errorf("%q appears %d times on /operator, want once", once, n)
		}
	}
	wantLacks(t, body, "holidays;")
	// Nothing on it updates live, so no live dot; a sign-in reads
	// "olga@… login", not the address twice; times are machine-readable
	// for the console's one local format.
	wantLacks(t, body, `id="live-dot"`)
	wantLacks(t, body, "login olga@orbitask.example")
	wantContains(t, body, "</strong> login</li>")
	if strings.Contains(body, "never</td>") || !strings.Contains(body, `<td><time datetime="`) {
		t.Error("the operator's own last sign-in is not a <time> element")
	}
}

// An agent on the operators' page gets the console's 403 page: which role
// the page is for, who they are, and the way back to the queue; not the
// customer's error page.
func TestForbiddenPageNamesRole(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, pw := p.staffUser(t, "alice@orbitask.example", staff.RoleAgent)
	agent := p.browser()
	agent.login(t, "alice@orbitask.example", pw)
	res, body := agent.send(t, "GET", "/operator", nil)
	wantStatus(t, res, http.StatusForbidden)
	wantContains(t, body, "support console</span>", "This page is for operators. You are signed in as alice Agent (agent).",
		`<a href="/agent">Go to the queue</a>`)
	wantLacks(t, body, "your role does not allow this", `href="/writer"`)
	wantNoInlineCode(t, body)

	// The API keeps its JSON answer.
	tok := p.staffToken(t, "anna@orbitask.example", staff.RoleAgent)
	res, body = p.get(t, "/api/operator/audit", "Authorization", "Bearer "+tok)
	wantStatus(t, res, http.StatusForbidden)
	wantContains(t, body, `"error"`)
}

// A writer who signs in lands on the writers' home, the articles by
// language with links to their pages, and meets the console's 403 page,
// pointing back there, on the agents' pages.
func TestWriterHome(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, pw := p.staffUser(t, "wendy@orbitask.example", staff.RoleWriter)
	w := p.browser()
	w.send(t, "GET", "/agent/login", nil)
	res, _ := w.send(t, "POST", "/agent/login", url.Values{"csrf": {w.csrf}, "email": {"wendy@orbitask.example"}, "password": {pw}})
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/agent/password" {
		t.Fatalf("first sign-in sends to %q, want the password page", loc)
	}
	w.send(t, "GET", "/agent/password", nil)
	res, _ = w.send(t, "POST", "/agent/password", url.Values{"csrf": {w.csrf}, "current_password": {pw},
		"password": {"correct horse battery"}, "confirm": {"correct horse battery"}})
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/writer?flash=password" {
		t.Errorf("after the password change: redirect to %q, want /writer?flash=password", loc)
	}

	// Signing in again, even when sent from an agent's page, ends on /writer.
	res, _ = w.send(t, "POST", "/agent/logout", url.Values{"csrf": {w.csrf}})
	wantStatus(t, res, http.StatusSeeOther)
	w.send(t, "GET", "/agent/login?next=/agent", nil)
	res, _ = w.send(t, "POST", "/agent/login", url.Values{"csrf": {w.csrf}, "email": {"wendy@orbitask.example"},
		"password": {"correct horse battery"}, "next": {"/agent"}})
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/writer" {
		t.Fatalf("writer signed in: redirect to %q, want /writer", loc)
	}
	res, body := w.send(t, "GET", "/writer", nil)
	wantStatus(t, res, http.StatusOK)
	wantNoInlineCode(t, body)
	wantContains(t, body, "Publish with git", "git clone", `aria-current="page">Articles</a>`)
	wantLacks(t, body, `href="/agent">Queue</a>`, "live-dot")
	for _, lang := range p.svc.Search.KB().Languages() {
		wantContains(t, body, `id="lang-`+lang+`"`)
		for _, a := range p.svc.Search.KB().InLang(lang) {
			wantContains(t, body, `<a href="`+a.URL()+`">`)
		}
	}

	res, body = w.send(t, "GET", "/agent", nil)
	wantStatus(t, res, http.StatusForbidden)
	wantContains(t, body, "This page is for agents. You are signed in as wendy Agent (writer).",
		`<a href="/writer">Go to the articles</a>`)
	wantLacks(t, body, "your role does not allow this")
}
