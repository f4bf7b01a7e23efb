package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orbitask/portal/console"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/web"
)

// newPortalWithHistory is newPortal with the content's history given to
// the console (console.Services.History) and the customer side knowing
// writers (web.Services.MayWrite = Console.MayWrite), mounted as server.New mounts
// both sides.
func newPortalWithHistory(t testing.TB, history func(ctx context.Context, path string, limit int) ([]console.Revision, error)) *portal {
	t.Helper()
	svc := testportal.Open(t, "testdata/content", server.LiveEncoders)
	con, err := console.New(console.Config{}, console.Services{KB: svc.Search.KB, Tickets: svc.Tickets, Deflect: svc.Deflect,
		Staff: svc.Staff, Hub: svc.Hub, Health: svc.Health, History: history})
	if err != nil {
		t.Fatal(err)
	}
	site, err := web.New(web.Config{}, web.Services{Search: svc.Search, Events: svc.Events, Tickets: svc.Tickets,
		Deflect: svc.Deflect, Hub: svc.Hub, Health: svc.Health, MayWrite: con.MayWrite,
		Provenance: func(path string) (time.Time, []string) {
			if path != "en/backup.md" {
				return time.Time{}, nil
			}
			return time.Date(2026, time.December, 2, 16, 4, 0, 0, time.UTC), []string{"Ana Writer", "Petr Novák", "Jan Dvořák", "Eva Malá"}
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httpkit.NewApp(httpkit.Config{}, site.ErrorPage)
	site.Routes(srv)
	con.Routes(srv)
	srv.Use(site.NotFound)
	return &portal{app: srv, svc: svc}
}

// signedIn is a browser of a new staff member, signed in with a password
// of their own.
func signedIn(t *testing.T, p *portal, email string, role staff.Role) *browser {
	t.Helper()
	_, pw := p.staffUser(t, email, role)
	b := p.browser()
	b.login(t, email, pw)
	return b
}

// historyOf records what the history page asked for and answers with
// revisions from a table.
type historyOf struct {
	mu    sync.Mutex
	asked []string
	revs  map[string][]console.Revision
}

func (h *historyOf) History(_ context.Context, path string, limit int) ([]console.Revision, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asked = append(h.asked, fmt.Sprintf("%s %d", path, limit))
	return h.revs[path], nil
}

// An article's history shows each change, newest first, with its diff as
// escaped text, lines marked added or removed for the eye (classes) and
// for screen readers (words); writers and operators see it, agents get the
// console's 403 page.
func TestArticleHistory(t *testing.T) {
	when := time.Date(2026, time.December, 3, 9, 30, 0, 0, time.UTC)
	patch := "diff --git a/en/backup.md b/en/backup.md\nindex 1111111..2222222 100644\n--- a/en/backup.md\n+++ b/en/backup.md\n" +
		"@@ -10,3 +10,3 @@ Nightly\n Back up every night.\n-Old advice.\n+New <script>alert(1)</script> advice.\n--- not a header\n"
	var many []console.Revision
	for i := range 60 {
		many = append(many, console.Revision{ID: fmt.Sprintf("%040x", i+1), Author: "Bulk", When: when, Subject: fmt.Sprintf("Change %d", i)})
	}
	h := &historyOf{revs: map[string][]console.Revision{
		"en/backup.md": {
			{ID: "0123456789abcdef0123456789abcdef01234567", Author: "Ana <Writer>", When: when, Subject: "Fix the <b>advice</b>", Patch: patch},
			{ID: "89abcdef0123456789abcdef0123456789abcdef", Author: "Petr", When: when.Add(-24 * time.Hour), Subject: "First version"},
		},
		"en/reset-password.md": many,
	}}
	p := newPortalWithHistory(t, h.History)
	w := signedIn(t, p, "wendy@orbitask.example", staff.RoleWriter)

	res, body := w.send(t, "GET", "/writer/articles/en/backup/history", nil)
	wantStatus(t, res, http.StatusOK)
	wantNoInlineCode(t, body)
	if len(h.asked) != 1 || h.asked[0] != "en/backup.md 50" {
		t.Errorf("History asked for %q, want the article's file and 50", h.asked)
	}
	wantContains(t, body, `<h1>History of <a href="/kb/en/backup">Back up and restore</a></h1>`,
		"Fix the &lt;b&gt;advice&lt;/b&gt;", "Ana &lt;Writer&gt;", `<code title="0123456789abcdef0123456789abcdef01234567">01234567</code>`,
		`<time datetime="2026-12-03T09:30:00Z">3 Dec 2026, 09:30 UTC</time>`,
		`<span class="diff__line diff__line--add"><span class="visually-hidden">added: </span>&#43;New &lt;script&gt;alert(1)&lt;/script&gt; advice.</span>`,
		`<span class="diff__line diff__line--del"><span class="visually-hidden">removed: </span>-Old advice.</span>`,
		`<span class="diff__line diff__line--del"><span class="visually-hidden">removed: </span>--- not a header</span>`,
		`<span class="diff__line diff__line--hunk">@@ -10,3 &#43;10,3 @@ Nightly</span>`,
		`<span class="diff__line diff__line--meta">&#43;&#43;&#43; b/en/backup.md</span>`,
		`<span class="diff__line diff__line--ctx"> Back up every night.</span>`,
		"First version", "git revert ID &amp;&amp; git push")
	wantLacks(t, body, "<script>alert", "<b>advice")
	if strings.Index(body, "Fix the") > strings.Index(body, "First version") {
		t.Error("revisions not in the order given (newest first)")
	}

	// The newest 50, no more.
	_, body = w.send(t, "GET", "/writer/articles/en/reset-password/history", nil)
	if n := strings.Count(body, `class="revision card"`); n != 50 {
		t.Errorf("%d revisions shown, want 50", n)
	}
	wantContains(t, body, "Change 49")
	wantLacks(t, body, "Change 50")

	res, _ = w.send(t, "GET", "/writer/articles/en/no-such-article/history", nil)
	wantStatus(t, res, http.StatusNotFound)
	res, _ = w.send(t, "GET", "/writer/articles/en/backup", nil)
	wantStatus(t, res, http.StatusNotFound)

	// Operators too; agents not.
	op := signedIn(t, p, "olga@orbitask.example", staff.RoleOperator)
	res, _ = op.send(t, "GET", "/writer/articles/en/backup/history", nil)
	wantStatus(t, res, http.StatusOK)
	agent := signedIn(t, p, "alice@orbitask.example", staff.RoleAgent)
	res, body = agent.send(t, "GET", "/writer/articles/en/backup/history", nil)
	wantStatus(t, res, http.StatusForbidden)
	wantContains(t, body, "This page is for writers and operators.")

	// A writer or operator reading the article finds the link to its
	// history, on a page no shared cache keeps; others do not.
	for _, b := range []*browser{w, op} {
		res, body = b.send(t, "GET", "/kb/en/backup", nil)
		wantStatus(t, res, http.StatusOK)
		wantContains(t, body, `<a href="/writer/articles/en/backup/history" lang="en">History (staff)</a>`)
		if cc := res.Header.Get("Cache-Control"); cc != "private, no-store" {
			t.Errorf("Cache-Control = %q on a page with a staff link", cc)
		}
	}
	for _, b := range []*browser{agent, p.browser()} {
		res, body = b.send(t, "GET", "/kb/en/backup", nil)
		wantStatus(t, res, http.StatusOK)
		wantLacks(t, body, "/history")
		if cc := res.Header.Get("Cache-Control"); cc != "" {
			t.Errorf("Cache-Control = %q on a customer's page", cc)
		}
	}

	// A real portal's history comes from its content repository: the
	// initial commit it made from the content folder.
	plain := newPortal(t, server.Config{})
	w = signedIn(t, plain, "wendy@orbitask.example", staff.RoleWriter)
	res, body = w.send(t, "GET", "/writer/articles/en/backup/history", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "Initial knowledge base from", "Orbitask portal", `title: &#34;Back up and restore&#34;`)
}

// The writers' home says how to publish with git, with the clone URL on
// the host the page was asked from, and links each article's history and
// the tokens page.
func TestWriterHomeGit(t *testing.T) {
	p := newPortal(t, server.Config{})
	w := signedIn(t, p, "wendy@orbitask.example", staff.RoleWriter)
	res, body := w.send(t, "GET", "/writer", nil, "Host", "help.example.com:8080")
	wantStatus(t, res, http.StatusOK)
	wantNoInlineCode(t, body)
	wantContains(t, body, "git clone http://wendy%40orbitask.example@help.example.com:8080/content.git",
		"git add -A &amp;&amp; git commit -m", "git push", `<a href="/writer/tokens">`,
		`<a href="/writer/articles/en/backup/history">History<span class="visually-hidden"> of Back up and restore</span></a>`)
	wantLacks(t, body, "portal check", "Restart the portal")

	// An operator has the writers' pages too, and their link in the menu.
	op := signedIn(t, p, "olga@orbitask.example", staff.RoleOperator)
	res, body = op.send(t, "GET", "/writer", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, `<a href="/writer" aria-current="page">Articles</a>`)
}

var tokenOnPage = regexp.MustCompile(staff.TokenPrefix + `[A-Za-z0-9_-]{43}`)

// A writer makes a token for git, sees it once, finds it listed without
// the secret, and revokes it; the token stops working. Nobody revokes
// another's token, and the forms need the session's CSRF token.
func TestWriterTokens(t *testing.T) {
	p := newPortal(t, server.Config{})
	ctx := context.Background()
	w := signedIn(t, p, "wendy@orbitask.example", staff.RoleWriter)
	res, body := w.send(t, "GET", "/writer/tokens", nil)
	wantStatus(t, res, http.StatusOK)
	wantNoInlineCode(t, body)
	wantContains(t, body, "You have no tokens.")

	res, body = w.send(t, "POST", "/writer/tokens", url.Values{"csrf": {w.csrf}, "name": {"work <laptop>"}}, "Host", "help.example.com")
	wantStatus(t, res, http.StatusOK)
	tok := tokenOnPage.FindString(body)
	if tok == "" {
		t.Fatalf("no token on the page:\n%s", body)
	}
	wantContains(t, body, "shown only this once", "git clone http://wendy%40orbitask.example@help.example.com/content.git",
		"work &lt;laptop&gt;")
	if u, err := p.svc.Staff.Authenticate(ctx, tok); err != nil || u.Email != "wendy@orbitask.example" {
		t.Fatalf("the new token: %+v, %v", u, err)
	}

	res, body = w.send(t, "GET", "/writer/tokens", nil)
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "<td>work &lt;laptop&gt;</td>", "/revoke")
	wantLacks(t, body, tok, staff.TokenPrefix, "You have no tokens.")

	// Another writer neither sees it nor revokes it.
	walt := signedIn(t, p, "walt@orbitask.example", staff.RoleWriter)
	_, body = walt.send(t, "GET", "/writer/tokens", nil)
	wantLacks(t, body, "work &lt;laptop&gt;")
	list, err := p.svc.Staff.ListTokens(ctx, "wendy@orbitask.example")
	if err != nil || len(list) != 1 {
		t.Fatalf("ListTokens = %v, %v", list, err)
	}
	revoke := fmt.Sprintf("/writer/tokens/%d/revoke", list[0].ID)
	res, _ = walt.send(t, "POST", revoke, url.Values{"csrf": {walt.csrf}})
	wantStatus(t, res, http.StatusNotFound)
	// Without the CSRF token, not even the owner.
	res, _ = w.send(t, "POST", revoke, url.Values{})
	wantStatus(t, res, http.StatusForbidden)
	if _, err := p.svc.Staff.Authenticate(ctx, tok); err != nil {
		t.Fatalf("the token stopped working: %v", err)
	}

	w.send(t, "GET", "/writer/tokens", nil)
	res, _ = w.send(t, "POST", revoke, url.Values{"csrf": {w.csrf}})
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/writer/tokens?flash=revoked" {
		t.Errorf("after revoking: %q", loc)
	}
	if _, err := p.svc.Staff.Authenticate(ctx, tok); err == nil {
		t.Fatal("a revoked token still authenticates")
	}
	_, body = w.send(t, "GET", "/writer/tokens?flash=revoked", nil)
	wantContains(t, body, "The token was revoked", "You have no tokens.")

	// A name too long is refused on the page.
	res, body = w.send(t, "POST", "/writer/tokens", url.Values{"csrf": {w.csrf}, "name": {strings.Repeat("x", 101)}})
	wantStatus(t, res, http.StatusUnprocessableEntity)
	wantContains(t, body, `role="alert">Name:`)
	if tokenOnPage.MatchString(body) {
		t.Error("a refused form shows a token")
	}

	// Agents have no tokens page.
	agent := signedIn(t, p, "alice@orbitask.example", staff.RoleAgent)
	res, _ = agent.send(t, "GET", "/writer/tokens", nil)
	wantStatus(t, res, http.StatusForbidden)
	res, _ = agent.send(t, "POST", "/writer/tokens", url.Values{"csrf": {agent.csrf}})
	wantStatus(t, res, http.StatusForbidden)
}
