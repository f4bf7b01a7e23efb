package web

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/app"
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/ticketfeed"
)

// portal is an app over the fixture knowledge base in testdata/content.
type portal struct {
	app    *fiber.App
	ev     *events.Store
	dbPath string
	svc    *app.App
}

func newPortal(t testing.TB, cfg Config) *portal {
	t.Helper()
	return newPortalWith(t, cfg, httpkit.Config{Logger: cfg.Logger})
}

// newPortalWith is newPortal on an app with hc's settings (timeouts,
// trusted proxies).
func newPortalWith(t testing.TB, cfg Config, hc httpkit.Config) *portal {
	t.Helper()
	svc := testportal.Open(t, "testdata/content", ticketfeed.Encoders{Customers: LiveEvent})
	return &portal{app: newAppWith(t, cfg, hc, svc), ev: svc.Events, dbPath: filepath.Join(svc.DataDir, "portal.db"), svc: svc}
}

// newApp mounts the customer side alone on httpkit's app, as server.New
// mounts it beside the console.
func newApp(t testing.TB, cfg Config, a *app.App) *fiber.App {
	t.Helper()
	return newAppWith(t, cfg, httpkit.Config{Logger: cfg.Logger}, a)
}

func newAppWith(t testing.TB, cfg Config, hc httpkit.Config, a *app.App) *fiber.App {
	t.Helper()
	site, err := New(cfg, Services{Search: a.Search, Events: a.Events, Tickets: a.Tickets, Deflect: a.Deflect, Hub: a.Hub, Health: a.Health})
	if err != nil {
		t.Fatal(err)
	}
	app := httpkit.NewApp(hc, site.ErrorPage)
	site.Routes(app)
	app.Use(site.NotFound)
	return app
}

// do sends req and returns the response with its body read.
func (p *portal) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	return testportal.Do(t, p.app, req)
}

func (p *portal) get(t *testing.T, target string, header ...string) (*http.Response, string) {
	t.Helper()
	return testportal.Get(t, p.app, target, header...)
}

func (p *portal) vote(t *testing.T, target, helpful, cookie string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(url.Values{"helpful": {helpful}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	return p.do(t, req)
}

// The checks of a response that every test uses.
var (
	wantStatus       = testportal.WantStatus
	wantContains     = testportal.WantContains
	wantLacks        = testportal.WantLacks
	wantNoInlineCode = testportal.WantNoInlineCode
)

func TestHealthz(t *testing.T) {
	p := newPortal(t, Config{})
	res, body := p.get(t, "/healthz")
	wantStatus(t, res, 200)
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got["status"] != "ok" || got["articles"] != float64(7) || got["search"] != "ok" {
		t.Errorf("healthz = %s", body)
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	p := newPortal(t, Config{})
	for _, target := range []string{"/", "/healthz", "/kb/en/backup", "/search?q=backup", "/api/search?q=backup", "/no-such-page"} {
		res, _ := p.get(t, target)
		for h, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "strict-origin-when-cross-origin",
			"Content-Security-Policy": httpkit.ContentSecurityPolicy,
		} {
			if got := res.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", target, h, got, want)
			}
		}
	}
}

func TestHome(t *testing.T) {
	p := newPortal(t, Config{})
	tests := []struct {
		name, target, acceptLanguage string
		lang                         string
		wants                        []string
	}{
		{"default", "/", "", "en", []string{"Account &amp; login", "2 articles", "Getting help", "1 article<"}},
		// French words; no French articles, so German ones, the header's next choice.
		{"accept-language", "/", "fr-CH, de;q=0.8, en;q=0.5", "fr", []string{"Comment pouvons-nous vous aider",
			`<span class="category-card__name" lang="de">Konto &amp; Anmeldung</span>`, `href="/kb/de/category/konto-anmeldung"`}},
		{"regional accept-language", "/", "de-AT", "de", []string{"Wie können wir helfen?", "Konto &amp; Anmeldung"}},
		{"nothing acceptable", "/", "ja, zh;q=0.9", "en", []string{"How can we help?"}},
		{"query beats header", "/?lang=en", "de", "en", []string{"Account &amp; login"}},
		{"unknown query language", "/?lang=xx", "de", "de", nil},
		{"language without articles", "/?lang=fr", "", "fr", []string{"Parcourir par catégorie", `lang="en">Account &amp; login<`, "2 articles"}},
		{"czech", "/?lang=cs", "", "cs", []string{"Jak vám můžeme pomoci?", "Účet a přihlášení", "1 článek"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, body := p.get(t, tt.target, "Accept-Language", tt.acceptLanguage)
			wantStatus(t, res, 200)
			wantContains(t, body, `<html lang="`+tt.lang+`">`)
			wantContains(t, body, tt.wants...)
		})
	}

	_, body := p.get(t, "/")
	wantContains(t, body,
		`action="/search"`, `<input type="hidden" name="lang" value="en">`, // the search box
		`href="/kb/en/category/account-login"`, // categories
		"Recently updated", `href="/kb/en/account/reset-password"`, "28 September 2026",
		`href="/?lang=de"`, ">Deutsch<", ">English<", // language switcher
	)
	wantLacks(t, body, "Most helpful", `id="q-header"`)
	wantNoInlineCode(t, body)

	// Votes bring up "Most helpful".
	p.get(t, "/kb/en/backup")
	if res, _ := p.vote(t, "/kb/en/backup/vote", "yes", ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("vote: status %d", res.StatusCode)
	}
	_, body = p.get(t, "/")
	section := body[strings.Index(body, "Most helpful"):]
	wantContains(t, section, `<a href="/kb/en/backup">Back up and restore</a>`, "1 found this helpful")
	_, body = p.get(t, "/?lang=de")
	wantLacks(t, body, "Most helpful")
}

func TestCategoryPage(t *testing.T) {
	p := newPortal(t, Config{})
	res, body := p.get(t, "/kb/en/category/account-login")
	wantStatus(t, res, 200)
	wantContains(t, body,
		`<nav class="breadcrumbs" aria-label="Breadcrumb">`, `<a href="/?lang=en">Home</a>`,
		"<h1>Account &amp; login</h1>",
		`href="/kb/en/account/reset-password">Reset a forgotten password</a>`, "Request a reset link and set a new password.",
		`href="/kb/en/cannot-log-in">I cannot log in</a>`,
	)
	wantNoInlineCode(t, body)

	for _, target := range []string{"/kb/en/category/nope", "/kb/xx/category/account-login"} {
		res, body := p.get(t, target)
		wantStatus(t, res, 404)
		wantContains(t, body, "Page not found")
	}
}

func TestArticlePage(t *testing.T) {
	p := newPortal(t, Config{})
	res, body := p.get(t, "/kb/en/account/reset-password")
	wantStatus(t, res, 200)
	if ct := res.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if csp := res.Header.Get("Content-Security-Policy"); csp != httpkit.ContentSecurityPolicy {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
	wantContains(t, body,
		`<html lang="en">`,
		"<title>Reset a forgotten password · Orbitask Help Center</title>",
		// breadcrumbs: Home › Category › Title
		`<li><a href="/?lang=en">Home</a></li>`,
		`<li><a href="/kb/en/category/account-login">Account &amp; login</a></li>`,
		`<li><a href="/kb/en/account/reset-password" aria-current="page">Reset a forgotten password</a></li>`,
		"<h1>Reset a forgotten password</h1>",
		`<time datetime="2026-09-28">28 September 2026</time>`,
		// table of contents, levels 2 and 3
		`<a href="#request-a-reset-link">Request a reset link</a>`,
		`toc__item--h3"><a href="#rules-for-the-new-password">`,
		// rendered body
		`<h2 id="request-a-reset-link">`, `<table tabindex="0">`, `<pre class="chroma">`,
		// translations
		`Also in:`, `<a href="/kb/de/account/reset-password" lang="de" hreflang="de">Deutsch</a>`,
		// tags and feedback
		`href="/search?q=password&amp;tag=password&amp;lang=en"`,
		`<form class="feedback__form" method="post" action="/kb/en/account/reset-password/vote" data-feedback>`,
		`name="helpful" value="yes"`, `name="helpful" value="no"`,
		// related articles in the same language
		"Related articles", `href="/kb/en/cannot-log-in"`,
	)
	wantLacks(t, body, `alert("raw")`, "feedback__thanks", `href="/kb/de/backup"`)
	wantNoInlineCode(t, body)

	// One heading: no table of contents.
	_, body = p.get(t, "/kb/en/cannot-log-in")
	wantLacks(t, body, "On this page")

	_, body = p.get(t, "/kb/en/account/reset-password?voted=1")
	wantContains(t, body, "Thanks for your feedback!")
	wantLacks(t, body, "feedback__form")

	_, body = p.get(t, "/kb/de/account/reset-password")
	wantContains(t, body, `<html lang="de">`, `<a href="/kb/en/account/reset-password" lang="en" hreflang="en">English</a>`)

	for _, target := range []string{"/kb/en/no-such-article", "/kb/en/account", "/kb/xx/backup", "/kb/de/cannot-log-in"} {
		res, body := p.get(t, target)
		wantStatus(t, res, 404)
		wantContains(t, body, "Page not found", `<html lang="en">`)
	}
}

func TestArticleAssets(t *testing.T) {
	p := newPortal(t, Config{})
	_, page := p.get(t, "/kb/en/file-a-ticket")
	wantContains(t, page, `<img src="/kb/en/file-a-ticket/images/form.svg" alt="The ticket form">`)

	res, body := p.get(t, "/kb/en/file-a-ticket/images/form.svg")
	wantStatus(t, res, 200)
	for h, want := range map[string]string{
		"Content-Type":            "image/svg+xml",
		"Cache-Control":           "public, max-age=86400",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	wantContains(t, body, "<title>Ticket form</title>")

	for _, target := range []string{"/kb/en/file-a-ticket/images/nope.svg", "/kb/en/backup/images/form.svg", "/kb/en/file-a-ticket/../backup.md"} {
		res, _ := p.get(t, target)
		wantStatus(t, res, 404)
	}
}

func TestAliasRedirects(t *testing.T) {
	p := newPortal(t, Config{})
	for _, target := range []string{"/old/reset-password.html", "/old/reset-password.html/"} {
		res, _ := p.get(t, target)
		wantStatus(t, res, http.StatusMovedPermanently)
		if loc := res.Header.Get("Location"); loc != "/kb/en/account/reset-password" {
			t.Errorf("%s: Location = %q", target, loc)
		}
	}
	res, body := p.get(t, "/old/other.html")
	wantStatus(t, res, 404)
	wantContains(t, body, "Page not found")
}

func TestSearchPage(t *testing.T) {
	p := newPortal(t, Config{})

	t.Run("results", func(t *testing.T) {
		res, body := p.get(t, "/search?q=password&lang=en")
		wantStatus(t, res, 200)
		wantContains(t, body,
			`value="password"`, // echoed in the box
			">1 result</h2>",
			`<a href="/kb/en/account/reset-password?sq=`, `">Reset a forgotten password</a>`,
			"<mark>password</mark>",
			`<a href="/kb/en/category/account-login">Account &amp; login</a>`, ">English<",
			// facets
			`<h2 class="facet__title">Category</h2>`, `<h2 class="facet__title">Tag</h2>`,
			`href="/search?category=Account%20%26%20login&amp;lang=en&amp;q=password"`,
			`href="/search?lang=en&amp;q=password&amp;tag=login"`,
		)
		wantLacks(t, body, "Did you mean", "No articles match", `class="pagination"`)
		wantNoInlineCode(t, body)
		wantLacks(t, body, " ms)") // timings are for logs and metrics, not customers
	})

	t.Run("active filter", func(t *testing.T) {
		_, body := p.get(t, "/search?q=password&lang=en&tag=login")
		wantContains(t, body, `<a class="facet__value is-active" href="/search?lang=en&amp;q=password" aria-current="true"><span class="facet__name">login</span>`)
		_, body = p.get(t, "/search?q=password&lang=en&tag=nope")
		wantContains(t, body, "No articles match", `class="facet__value is-active"`)
	})

	t.Run("no results, escaped", func(t *testing.T) {
		res, body := p.get(t, "/search?q="+url.QueryEscape("<script>alert(1)</script>"))
		wantStatus(t, res, 200)
		wantContains(t, body,
			"No articles match “&lt;script&gt;alert(1)&lt;/script&gt;”",
			`href="/tickets/new?subject=%3Cscript%3Ealert%281%29%3C%2Fscript%3E">Ask our support team</a>`,
		)
		wantLacks(t, body, "<script>alert(1)")
		wantNoInlineCode(t, body)
	})

	t.Run("did you mean", func(t *testing.T) {
		_, body := p.get(t, "/search?q=pasword&lang=en")
		wantContains(t, body, `Did you mean <a href="/search?lang=en&amp;q=password">password</a>?`)
	})

	t.Run("empty query", func(t *testing.T) {
		res, body := p.get(t, "/search?q=+")
		wantStatus(t, res, 200)
		wantContains(t, body, `id="q-main"`)
		wantLacks(t, body, "results-layout", "No articles match")
	})

	t.Run("bad parameters", func(t *testing.T) {
		for _, target := range []string{"/search?q=x&page=0", "/search?q=x&page=two", "/search?q=x&lang=xx"} {
			res, body := p.get(t, target)
			wantStatus(t, res, 400)
			wantContains(t, body, "Bad request")
		}
	})
}

func TestSearchPagination(t *testing.T) {
	p := newPortal(t, Config{PageSize: 2})
	const q = "/search?q=password+login+backup+ticket&lang=en"
	_, body := p.get(t, q)
	wantContains(t, body, ">4 results</h2>",
		`<nav class="pagination" aria-label="Pages">`,
		// Links between the pages carry the search's id (page 1 too).
		`<a href="/search?lang=en&amp;q=password%20login%20backup%20ticket&amp;sq=`, `" aria-current="page">1</a>`,
		`<a href="/search?lang=en&amp;page=2&amp;q=password%20login%20backup%20ticket&amp;sq=`, `">2</a>`,
		`rel="next"`,
	)
	wantLacks(t, body, `rel="prev"`)
	if n := strings.Count(body, `<li class="hit">`); n != 2 {
		t.Errorf("page 1 has %d hits, want 2", n)
	}

	_, body = p.get(t, q+"&page=2")
	wantContains(t, body, `rel="prev"`, `aria-current="page">2</a>`)
	wantLacks(t, body, `rel="next"`)
	if n := strings.Count(body, `<li class="hit">`); n != 2 {
		t.Errorf("page 2 has %d hits, want 2", n)
	}

	for _, page := range []string{"3", "99999"} {
		res, body := p.get(t, q+"&page="+page)
		wantStatus(t, res, 200)
		wantContains(t, body, "There are no results on page "+page,
			`<a href="/search?lang=en&amp;q=password%20login%20backup%20ticket">Back to the first page of results</a>`)
		wantLacks(t, body, `<li class="hit">`, "No articles match")
	}
}

func TestSearchesAreRecorded(t *testing.T) {
	p := newPortal(t, Config{})
	for _, target := range []string{
		"/search?q=backup&lang=en",         // recorded
		"/search?q=backup&lang=en&page=2",  // paging: not recorded
		"/api/search?q=restore",            // recorded
		"/api/search?q=resto&prefix=1",     // as-you-type: not recorded
		"/api/search?q=restore&limit=1000", // rejected: not recorded
	} {
		p.get(t, target)
	}
	for _, target := range []string{"/search?q=head&lang=en", "/api/search?q=head"} {
		p.do(t, httptest.NewRequest(http.MethodHead, target, nil)) // HEAD: not a search
	}
	p.ev.Close() // writes everything queued
	db, err := sql.Open("sqlite3", p.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT json_extract(data, '$.query'), json_extract(data, '$.source'), json_extract(data, '$.total') FROM events WHERE kind = 'search' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var q, source string
		var total int
		if err := rows.Scan(&q, &source, &total); err != nil {
			t.Fatal(err)
		}
		got = append(got, q+"/"+source)
	}
	if want := "backup/page restore/api"; strings.Join(got, " ") != want {
		t.Errorf("recorded searches = %v, want %s", got, want)
	}
}

func TestAPISearch(t *testing.T) {
	p := newPortal(t, Config{})
	res, body := p.get(t, "/api/search?q=backup&lang=en&limit=5")
	wantStatus(t, res, 200)
	if ct := res.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"query", "total", "took_ms", "hits", "search_id"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("no %q in %s", k, body)
		}
	}
	if len(raw) != 5 {
		t.Errorf("keys of %s: want query, total, took_ms, hits, search_id", body)
	}
	var got struct {
		Query  string
		Total  int
		TookMS float64 `json:"took_ms"`
		Hits   []map[string]any
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Query != "backup" || got.Total != 1 || len(got.Hits) != 1 || got.TookMS <= 0 {
		t.Fatalf("got %s", body)
	}
	hit := got.Hits[0]
	want := map[string]any{"id": "en/backup", "title": "Back up and restore", "url": "/kb/en/backup", "lang": "en", "category": "Administration"}
	for k, v := range want {
		if hit[k] != v {
			t.Errorf("hit %s = %v, want %v", k, hit[k], v)
		}
	}
	if s, _ := hit["snippet"].(string); !strings.Contains(s, "<mark>backup</mark>") {
		t.Errorf("snippet = %q", s)
	}
	if _, ok := hit["score"].(float64); !ok || len(hit) != 7 {
		t.Errorf("hit = %v", hit)
	}

	// No hits is an empty list; a typo gets a suggestion.
	_, body = p.get(t, "/api/search?q=zzzzqqq")
	wantContains(t, body, `"hits":[]`, `"total":0`)
	_, body = p.get(t, "/api/search?q=pasword&lang=en")
	wantContains(t, body, `"did_you_mean":"password"`)
	// As-you-type matches an unfinished word.
	_, body = p.get(t, "/api/search?q=passw&lang=en&prefix=1&limit=6")
	wantContains(t, body, `"id":"en/account/reset-password"`)

	bad := []struct{ query, want string }{
		{"", "q: must not be empty"},
		{"q=", "q: must not be empty"},
		{"q=+++", "q: must not be empty"},
		{"q=x&limit=0", "limit: must be an integer between 1 and 100"},
		{"q=x&limit=101", "limit: must be an integer between 1 and 100"},
		{"q=x&limit=ten", "limit: must be an integer between 1 and 100"},
		{"q=x&offset=-1", "offset: must be an integer between 0 and 10000"},
		{"q=x&offset=1.5", "offset: must be an integer between 0 and 10000"},
		{"q=x&lang=xx", `lang: unknown language "xx"`},
		{"q=x&prefix=yes", "prefix: must be 0 or 1"},
	}
	for _, tt := range bad {
		t.Run(tt.query, func(t *testing.T) {
			res, body := p.get(t, "/api/search?"+tt.query)
			wantStatus(t, res, 400)
			var e struct{ Error string }
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error != tt.want {
				t.Errorf("body %s, want error %q", body, tt.want)
			}
		})
	}

	res, body = p.get(t, "/api/nope")
	wantStatus(t, res, 404)
	if body != `{"error":"not found"}` {
		t.Errorf("body = %s", body)
	}
}

func TestVote(t *testing.T) {
	p := newPortal(t, Config{})
	ctx := context.Background()
	const article = "/kb/en/account/reset-password"

	// A vote needs a view of the article first.
	res, body := p.vote(t, article+"/vote", "yes", "")
	wantStatus(t, res, http.StatusForbidden)
	wantContains(t, body, "Please open the article before saying whether it helped.")
	p.get(t, article)

	res, _ = p.vote(t, article+"/vote", "yes", "")
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != article+"?voted=1#feedback" {
		t.Errorf("Location = %q", loc)
	}
	if len(res.Cookies()) != 0 {
		t.Errorf("cookies set: %v (the voter is the visitor, no cookie needed)", res.Cookies())
	}
	if yes, no, err := p.ev.VoteCounts(ctx, "en/account/reset-password"); err != nil || yes != 1 || no != 0 {
		t.Fatalf("votes = %d yes, %d no, %v; want 1, 0", yes, no, err)
	}

	// The same reader changes their mind: the vote is replaced, even with
	// a cookie of the old scheme.
	res, _ = p.vote(t, article+"/vote", "no", "orbitask_voter=0123456789abcdef0123456789abcdef")
	wantStatus(t, res, http.StatusSeeOther)
	if yes, no, err := p.ev.VoteCounts(ctx, "en/account/reset-password"); err != nil || yes != 0 || no != 1 {
		t.Fatalf("votes = %d yes, %d no, %v; want 0, 1", yes, no, err)
	}

	// Another reader (another browser) reads and adds a vote; a script
	// gets JSON.
	p.get(t, article, "User-Agent", "Firefox")
	req := httptest.NewRequest(http.MethodPost, article+"/vote", strings.NewReader("helpful=yes"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "Firefox")
	res, body = p.do(t, req)
	wantStatus(t, res, 200)
	wantContains(t, body, `"status":"ok"`)
	if yes, no, _ := p.ev.VoteCounts(ctx, "en/account/reset-password"); yes != 1 || no != 1 {
		t.Errorf("votes = %d yes, %d no; want 1, 1", yes, no)
	}

	for _, tt := range []struct {
		target, helpful string
		status          int
	}{
		{article + "/vote", "maybe", 400},
		{article + "/vote", "", 400},
		{"/kb/en/no-such-article/vote", "yes", 404},
		{article, "yes", 404},
	} {
		res, _ := p.vote(t, tt.target, tt.helpful, "")
		if res.StatusCode != tt.status {
			t.Errorf("POST %s helpful=%q: status %d, want %d", tt.target, tt.helpful, res.StatusCode, tt.status)
		}
	}
}

var assetURL = regexp.MustCompile(`/static/app\.[0-9a-f]{8}\.css`)

func TestStaticFiles(t *testing.T) {
	p := newPortal(t, Config{})
	_, home := p.get(t, "/")
	css := assetURL.FindString(home)
	if css == "" {
		t.Fatal("home page links no fingerprinted app.css")
	}
	wantContains(t, home, `<script src="/static/app.`, `.js" defer></script>`)

	res, body := p.get(t, css)
	wantStatus(t, res, 200)
	if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
		t.Errorf("Cache-Control = %q", cc)
	}
	if ct := res.Header.Get("Content-Type"); ct != "text/css; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	wantContains(t, body, "prefers-color-scheme")

	for _, target := range []string{"/static/app.00000000.css", "/static/app.css", "/static/nope.12345678.js"} {
		res, _ := p.get(t, target)
		wantStatus(t, res, 404)
	}
}

func TestPickLang(t *testing.T) {
	dir := t.TempDir()
	for _, l := range []string{"en", "de", "pt-BR"} {
		if err := os.MkdirAll(filepath.Join(dir, l), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, l, "a.md"), []byte("---\ntitle: A\n---\nText.\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k, err := kb.Load(dir)
	if err != nil || len(k.Problems) > 0 {
		t.Fatalf("kb.Load: %v %v", err, k.Problems)
	}
	tests := []struct{ asked, header, want string }{
		{"", "", "en"},
		{"de", "", "de"},
		{"pt_br", "de", "pt-BR"},
		{"fr", "de-CH", "de"}, // fr has no articles
		{"", "de", "de"},
		{"", "fr, de;q=0.5, en;q=0.7", "en"},
		{"", "pt", "pt-BR"},
		{"", "pt-br", "pt-BR"},
		{"", "de;q=0, en", "en"},
		{"", "ja, de;q=0.1", "de"},
		{"", "*", "en"},
		{"", "ja, zz", "en"},
		{"", "not a language!!", "en"},
	}
	for _, tt := range tests {
		if got := pickLang(k, tt.asked, tt.header); got != tt.want {
			t.Errorf("pickLang(%q, %q) = %q, want %q", tt.asked, tt.header, got, tt.want)
		}
	}
}

// recorder is a slog.Handler that keeps every record.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec)
	return nil
}

// take returns "LEVEL msg path=… status=…" for each record so far, and forgets them.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, rec := range r.records {
		s := rec.Level.String() + " " + rec.Message
		rec.Attrs(func(a slog.Attr) bool {
			if a.Key == "path" || a.Key == "status" {
				s += " " + a.Key + "=" + a.Value.String()
			}
			return true
		})
		out = append(out, s)
	}
	r.records = nil
	return out
}

func TestLoggingAndServerErrors(t *testing.T) {
	rec := &recorder{}
	p := newPortal(t, Config{Logger: slog.New(rec)})

	p.get(t, "/healthz")
	p.get(t, "/kb/en/backup")
	p.get(t, "/no-such-page")
	got := strings.Join(rec.take(), "\n")
	want := "DEBUG request path=/healthz status=200\nINFO request path=/kb/en/backup status=200\nINFO request path=/no-such-page status=404"
	if got != want {
		t.Errorf("logged:\n%s\nwant:\n%s", got, want)
	}

	// A failing store is a server error: a generic page, logged once.
	p.svc.DB.Close()
	res, body := p.vote(t, "/kb/en/backup/vote", "yes", "")
	wantStatus(t, res, 500)
	wantContains(t, body, "Something went wrong")
	wantLacks(t, body, "events:")
	got = strings.Join(rec.take(), "\n")
	want = "ERROR request failed path=/kb/en/backup/vote\nINFO request path=/kb/en/backup/vote status=500"
	if got != want {
		t.Errorf("logged:\n%s\nwant:\n%s", got, want)
	}
}

func TestHeaderSearchBox(t *testing.T) {
	p := newPortal(t, Config{})
	for target, want := range map[string]bool{
		"/":                              false, // has its own big box
		"/search?q=backup":               false, // likewise
		"/kb/en/backup":                  true,
		"/kb/en/category/administration": true,
	} {
		_, body := p.get(t, target)
		if got := strings.Contains(body, `id="q-header"`); got != want {
			t.Errorf("%s: header search box shown = %v, want %v", target, got, want)
		}
	}
	_, body := p.get(t, "/kb/de/backup")
	wantContains(t, body, `<input id="q-header"`, `<input type="hidden" name="lang" value="de">`)
}

func TestReviewRegressions(t *testing.T) {
	p := newPortal(t, Config{})
	// A category whose name has non-ASCII letters, as browsers send it.
	res, body := p.get(t, "/kb/cs/category/"+url.PathEscape("účet-a-přihlášení"))
	wantStatus(t, res, 200)
	wantContains(t, body, "Účet a přihlášení", "Obnovení hesla")
	// A page number so large that page×size would overflow.
	res, body = p.get(t, "/search?q=backup&lang=en&page=1844674407370955162")
	wantStatus(t, res, 200)
	wantLacks(t, body, "offset")
}
