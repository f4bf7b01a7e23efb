package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// linked lists the static files (by name without fingerprint, e.g.
// "ticketpage.js") that a page links from <script src> or <link href>.
func linked(body string) map[string]bool {
	re := regexp.MustCompile(`(?:src|href)="/static/([a-z]+)\.[0-9a-f]{8}(\.[a-z]+)"`)
	names := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		names[m[1]+m[2]] = true
	}
	return names
}

// TestPagesLinkOnlyWhatTheyUse: every stylesheet in <head> holds up the
// first paint and every script costs parsing, so a page links only its own.
func TestPagesLinkOnlyWhatTheyUse(t *testing.T) {
	p := newPortal(t, Config{})
	check := func(t *testing.T, target string, want, not []string) {
		t.Helper()
		res, body := p.get(t, target)
		wantStatus(t, res, 200)
		got := linked(body)
		for _, name := range want {
			if !got[name] {
				t.Errorf("%s does not link %s; it links %v", target, name, got)
			}
		}
		for _, name := range not {
			if got[name] {
				t.Errorf("%s links %s, which it does not use", target, name)
			}
		}
	}

	t.Run("draft page", func(t *testing.T) {
		check(t, "/tickets/new", []string{"app.css", "app.js", "draft.js"}, []string{"ticketpage.js", "chroma.css"})
	})
	t.Run("article with code", func(t *testing.T) {
		check(t, "/kb/en/account/reset-password", []string{"chroma.css"}, []string{"draft.js", "ticketpage.js"})
	})
	t.Run("article without code", func(t *testing.T) {
		check(t, "/kb/en/backup", nil, []string{"chroma.css"})
	})
	t.Run("home", func(t *testing.T) {
		check(t, "/", []string{"app.css"}, []string{"chroma.css", "draft.js", "ticketpage.js"})
	})
	t.Run("ticket page", func(t *testing.T) {
		form := url.Values{"name": {"Jana"}, "company": {"Acme"}, "phone": {"+420 601 555 010"}, "email": {"jana@acme.example"},
			"subject": {"Export fails"}, "description": {"The CSV export stops at 50%."}, "severity": {"3"}}
		req := httptest.NewRequest(http.MethodPost, "/tickets", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, _ := p.do(t, req)
		wantStatus(t, res, 303)
		check(t, res.Header.Get("Location"), []string{"ticketpage.js"}, []string{"draft.js", "chroma.css"})
	})
}
