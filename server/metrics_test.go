package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/publish"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
)

// metricsPortal is a portal on a real port with an operator's token.
type metricsPortal struct {
	t     *testing.T
	base  string
	token string
}

func startMetricsPortal(t *testing.T) *metricsPortal {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, baseContent())
	a := testportal.Open(t, dir, server.LiveEncoders)
	srv, err := server.New(server.Config{RateLimits: httpkit.RateLimits{Off: true}}, a)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, _, err := a.Staff.AddUser(ctx, "olga@example.com", "Olga Operator", staff.RoleOperator, "test"); err != nil {
		t.Fatal(err)
	}
	token, err := a.Staff.CreateToken(ctx, "olga@example.com", "prometheus", "test")
	if err != nil {
		t.Fatal(err)
	}
	return &metricsPortal{t: t, base: "http://" + testportal.Serve(t, srv), token: token}
}

// do sends a request and returns the status and body.
func (p *metricsPortal) do(method, path, body string) (int, string) {
	p.t.Helper()
	req, err := http.NewRequest(method, p.base+path, strings.NewReader(body))
	if err != nil {
		p.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	c := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		p.t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// draft sends a ticket draft and returns its session and the suggested ids.
func (p *metricsPortal) draft(session, text string) (string, []string) {
	p.t.Helper()
	body, _ := json.Marshal(map[string]string{"session": session, "subject": text, "lang": "en"})
	status, out := p.do("POST", "/api/deflect", string(body))
	if status != http.StatusOK {
		p.t.Fatalf("draft: %d %s", status, out)
	}
	var d struct {
		Session     string
		Suggestions []struct{ ID string }
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		p.t.Fatal(err)
	}
	var ids []string
	for _, s := range d.Suggestions {
		ids = append(ids, s.ID)
	}
	return d.Session, ids
}

func (p *metricsPortal) scrape() testportal.Scrape {
	p.t.Helper()
	req, _ := http.NewRequest("GET", p.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+p.token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		p.t.Fatalf("GET /metrics: status %d", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		p.t.Errorf("GET /metrics: Content-Type %q", ct)
	}
	return testportal.ParseMetrics(p.t, res.Body)
}

// After a search, an article, a solved draft, a filed ticket, an unknown
// URL and a refused API call, a scrape of /metrics shows each counted once, under the
// route's pattern and the right labels, beside the gauges read at scrape.
func TestMetricsCountTheTraffic(t *testing.T) {
	p := startMetricsPortal(t)
	before := p.scrape()
	before.Want(t, 0, "portal_tickets_filed_total")
	before.Want(t, 0, "portal_deflections_total", "outcome", "solved")
	before.Want(t, 0, "portal_search_duration_seconds", "kind", "api")

	if status, _ := p.do("GET", "/api/search?lang=en&q="+url.QueryEscape("vpn client"), ""); status != 200 {
		t.Fatalf("api search: %d", status)
	}
	if status, _ := p.do("GET", "/search?q=printer", ""); status != 200 {
		t.Fatalf("search page: %d", status)
	}
	for _, a := range []string{"/kb/en/vpn", "/kb/en/reset"} {
		if status, _ := p.do("GET", a, ""); status != 200 {
			t.Fatalf("%s: %d", a, status)
		}
	}
	if status, _ := p.do("GET", "/no/such/page", ""); status != 404 {
		t.Fatalf("unknown page: %d", status)
	}
	if status, _ := p.do("GET", "/", ""); status != 200 {
		t.Fatalf("home: %d", status)
	}
	// Refused by its group's middleware, before its route.
	if status, _ := p.do("GET", "/api/agent/queue", ""); status != 401 {
		t.Fatalf("agent API without a token: %d", status)
	}
	// A draft solved by its suggestion.
	solved, ids := p.draft("", "cannot connect to the vpn")
	if len(ids) == 0 || ids[0] != "en/vpn" {
		t.Fatalf("suggestions %v, want en/vpn first", ids)
	}
	if status, out := p.do("POST", "/api/deflect/"+solved+"/solved", `{"article":"en/vpn"}`); status != 200 {
		t.Fatalf("solved: %d %s", status, out)
	}
	// A draft that matches nothing, filed as a ticket.
	filed, ids := p.draft("", "zxqv wobble")
	if len(ids) != 0 {
		t.Fatalf("suggestions %v for nonsense", ids)
	}
	ticket, _ := json.Marshal(map[string]any{"name": "Jana Novák", "company": "Acme", "phone": "+420 601 555 010",
		"email": "jana@acme.example", "subject": "zxqv wobble", "description": "The wobble is back.", "severity": 3,
		"lang": "en", "deflection_session": filed})
	if status, out := p.do("POST", "/api/tickets", string(ticket)); status != http.StatusCreated {
		t.Fatalf("filing: %d %s", status, out)
	}
	// A live connection, open during the scrape.
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(p.base, "http")+"/api/deflect/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteJSON(map[string]string{"type": "draft", "subject": "reset my password", "lang": "en"}); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	var answer struct{ Suggestions []struct{ ID string } }
	if err := ws.ReadJSON(&answer); err != nil || len(answer.Suggestions) == 0 {
		t.Fatalf("socket answer %+v %v", answer, err)
	}

	m := p.scrape()
	req := "portal_http_requests_total"
	m.Want(t, 1, req, "route", "/api/search", "method", "GET", "code", "200")
	m.Want(t, 1, req, "route", "/search", "method", "GET", "code", "200")
	m.Want(t, 2, req, "route", "/kb/:lang/*", "method", "GET", "code", "200")
	m.Want(t, 1, req, "route", httpkit.Unmatched, "method", "GET", "code", "404")
	m.Want(t, 1, req, "route", "/", "method", "GET", "code", "200") // the home page, not the catch-all
	m.Want(t, 1, req, "route", "/api/agent", "method", "GET", "code", "401")
	m.Want(t, 2, req, "route", "/api/deflect", "method", "POST", "code", "200")
	m.Want(t, 1, req, "route", "/api/deflect/:session/:action", "method", "POST", "code", "200")
	m.Want(t, 1, req, "route", "/api/tickets", "method", "POST", "code", "201")
	m.Want(t, 2, "portal_http_request_duration_seconds", "route", "/kb/:lang/*", "method", "GET")
	// The open socket's upgrade is over, and counted.
	m.Want(t, 1, req, "route", "/api/deflect/ws", "method", "GET", "code", "101")
	for _, route := range m.LabelValues(req, "route") {
		if strings.Contains(route, "/en/") || strings.Contains(route, "no/such") || strings.Contains(route, solved) {
			t.Errorf("route label %q is a path, not a pattern", route)
		}
	}
	m.Want(t, 1, "portal_search_duration_seconds", "kind", "api")
	m.Want(t, 1, "portal_search_duration_seconds", "kind", "page")
	m.Want(t, 3, "portal_search_duration_seconds", "kind", "suggest")
	m.Want(t, 2, "portal_suggestions_served_total") // the nonsense draft showed nothing
	m.Want(t, 1, "portal_deflections_total", "outcome", "solved")
	m.Want(t, 1, "portal_deflections_total", "outcome", "filed")
	m.Want(t, 0, "portal_deflections_total", "outcome", "abandoned")
	m.Want(t, 1, "portal_tickets_filed_total")
	m.Want(t, 1, "portal_live_connections")
	m.Want(t, 3, "portal_search_articles")
	m.Want(t, 0, "portal_sqlite_busy_errors_total")
	if v, _ := m.Value("portal_search_index_bytes"); v <= 0 {
		t.Errorf("portal_search_index_bytes = %v", v)
	}
	if v, _ := m.Value("portal_last_publish_timestamp_seconds"); v <= 0 || v > float64(time.Now().Unix()+1) {
		t.Errorf("portal_last_publish_timestamp_seconds = %v", v)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := m.Value(name); !ok {
			t.Errorf("no %s: the Go and process collectors are missing", name)
		}
	}
}

// A publish moves the last-publish time to the moment it went live, and
// the index gauges to the new knowledge base.
func TestMetricsFollowAPublish(t *testing.T) {
	p := startPub(t, baseContent(), "", publish.Config{Poll: 20 * time.Millisecond})
	ctx := context.Background()
	if _, _, err := p.app.Staff.AddUser(ctx, "olga@example.com", "Olga Operator", staff.RoleOperator, "test"); err != nil {
		t.Fatal(err)
	}
	token, err := p.app.Staff.CreateToken(ctx, "olga@example.com", "prometheus", "test")
	if err != nil {
		t.Fatal(err)
	}
	gather := (&metricsPortal{t: t, base: p.base, token: token}).scrape
	first := gather()
	first.Want(t, 3, "portal_search_articles")
	startedAt, _ := first.Value("portal_last_publish_timestamp_seconds")

	dir := t.TempDir()
	c := baseContent()
	c["en/new.md"] = "---\ntitle: New article\n---\nAbout the capybarine dock.\n"
	writeFiles(t, dir, c)
	published := time.Now()
	commit, problems, err := publish.PublishDir(ctx, p.app.Repo, dir, "Import", gitSig(), 0)
	if err != nil || len(problems) > 0 {
		t.Fatalf("publish dir: %v %v", problems, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.app.Publisher.Live() != commit {
		if time.Now().After(deadline) {
			t.Fatal("the commit was not published within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	after := gather()
	after.Want(t, 4, "portal_search_articles")
	at, _ := after.Value("portal_last_publish_timestamp_seconds")
	if at < float64(published.UnixNano())/1e9 || at <= startedAt {
		t.Errorf("last publish %v, want at or after %v (and after the start's %v)", at, float64(published.UnixNano())/1e9, startedAt)
	}
}
