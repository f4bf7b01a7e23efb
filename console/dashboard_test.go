package console_test

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/orbitask/portal/console"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/insights"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
	"github.com/orbitask/portal/web"
)

// newDashPortal is the whole portal (both sides, mounted as server.New
// mounts them) with the operators' figures. Its insights groups gaps by
// the lowercased query (Normalize nil), so that the tests know the
// groups' names.
func newDashPortal(t testing.TB) *portal {
	t.Helper()
	svc := testportal.Open(t, "testdata/content", server.LiveEncoders)
	in, err := insights.Open(insights.Config{DB: svc.DB, Calendar: svc.Tickets.Calendar})
	if err != nil {
		t.Fatal(err)
	}
	con, err := console.New(console.Config{}, console.Services{KB: svc.Search.KB, Tickets: svc.Tickets, Deflect: svc.Deflect,
		Staff: svc.Staff, Hub: svc.Hub, Health: svc.Health, Insights: in})
	if err != nil {
		t.Fatal(err)
	}
	site, err := web.New(web.Config{}, web.Services{Search: svc.Search, Events: svc.Events, Tickets: svc.Tickets,
		Deflect: svc.Deflect, Hub: svc.Hub, Health: svc.Health})
	if err != nil {
		t.Fatal(err)
	}
	srv := httpkit.NewApp(httpkit.Config{}, site.ErrorPage)
	site.Routes(srv)
	con.Routes(srv)
	srv.Use(site.NotFound)
	return &portal{app: srv, svc: svc}
}

// injection is a search a spreadsheet would run as a formula.
const injection = "=HYPERLINK(\"http://evil.example\",\"x\")"

// dashFixture records today what the dashboard counts: five drafts (two
// solved by an article after opening it, one filed after suggestions, one
// filed without, one still being written), a view of an article, and
// searches without results. It returns the number of the ticket filed
// after suggestions.
func dashFixture(t *testing.T, p *portal) int {
	t.Helper()
	ctx := context.Background()
	d := p.svc.Deflect
	start := func() string {
		id, err := d.Start(ctx, "en")
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	s1, s2, s3, s4 := start(), start(), start(), start()
	start() // still being written
	must(d.Suggested(ctx, s1, "forgot my password", []string{"en/reset-password", "en/backup"}, 0))
	must(d.Opened(ctx, s1, "en/reset-password"))
	must(d.Solved(ctx, s1, "en/reset-password"))
	must(d.Suggested(ctx, s2, "restore backup", []string{"en/backup"}, 0))
	must(d.Opened(ctx, s2, "en/backup"))
	must(d.Solved(ctx, s2, "en/backup"))
	must(d.Suggested(ctx, s3, "password expired sso", []string{"en/reset-password"}, 0))
	must(d.Suggested(ctx, s4, "printer on fire", nil, 2)) // nothing good enough: a content gap
	var afterSuggestions int
	for i, s := range []string{s3, s4} {
		tk, _, err := p.svc.Tickets.File(ctx, tickets.NewTicket{Name: "Jana", Company: "Acme", Phone: "+420 601 555 010",
			Email: []string{"jana@acme.example", "petr@acme.example"}[i], Subject: "Cannot sign in", Description: "The SSO password expired.",
			Severity: 3, DeflectionSession: s})
		must(err)
		if s == s3 {
			afterSuggestions = tk.Number
		}
	}
	ua := []string{"User-Agent", "Mozilla/5.0 (dashboard test)"}
	res, _ := p.get(t, "/kb/en/reset-password", ua...)
	wantStatus(t, res, http.StatusOK)
	for _, q := range []string{"zebra crossing", "Zebra  crossing", injection} {
		res, _ := p.get(t, "/api/search?lang=en&q="+url.QueryEscape(q), ua...)
		wantStatus(t, res, http.StatusOK)
	}
	must(p.svc.Events.Flush())
	return afterSuggestions
}

// figureValue is the value of the figure (or funnel step) id on a page.
func figureValue(t *testing.T, body, attr, id string) string {
	t.Helper()
	m := regexp.MustCompile(attr + `="` + id + `"[\s\S]*?class="(?:figure|funnel)__value">([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s %q on the page", attr, id)
	}
	return m[1]
}

// The dashboard shows the fixture's figures: the funnel's counts, the
// rates computed from them, three charts, the article with its links and
// the searches without results.
func TestDashboardFigures(t *testing.T) {
	p := newDashPortal(t)
	weak := dashFixture(t, p)
	op := signedIn(t, p, "olga@orbitask.example", staff.RoleOperator)

	res, body := op.send(t, "GET", "/operator?period=7", nil)
	wantStatus(t, res, http.StatusOK)
	wantNoInlineCode(t, body)
	for id, want := range map[string]string{"deflection-rate": "50.0%", "click-through": "66.7%"} {
		if got := figureValue(t, body, "data-figure", id); got != want {
			t.Errorf("%s: %q, want %q", id, got, want)
		}
	}
	for id, want := range map[string]string{"drafts": "5", "shown": "3", "opened": "2", "solved": "2", "filed": "2"} {
		if got := figureValue(t, body, "data-step", id); got != want {
			t.Errorf("funnel %s: %q, want %q", id, got, want)
		}
	}
	if n := strings.Count(body, `<svg class="chart"`); n != 3 {
		t.Errorf("%d charts, want 3", n)
	}
	wantContains(t, body, `<a href="/kb/en/reset-password">Reset a forgotten password</a>`,
		`href="/writer/articles/en/reset-password/history"`, `href="/operator/export/articles.csv?period=7&amp;sort=views&amp;dir=desc"`)
	// The two spellings of a search without results are one gap.
	noResults := body[strings.Index(body, `data-table="gaps-no-results"`):]
	wantContains(t, noResults[:strings.Index(noResults, "</table>")], `<td>zebra crossing</td><td class="num">2</td>`)
	// The weak suggestions' gap links to the ticket filed after them.
	gaps := body[strings.Index(body, `data-table="gaps-weak-suggestions"`):]
	wantContains(t, gaps[:strings.Index(gaps, "</table>")], `<a href="/agent/tickets/`+itoa(weak)+`">#`+itoa(weak)+`</a>`)
	// The draft that no article matched well enough, beside the searches.
	noMatch := body[strings.Index(body, `data-table="gaps-no-good-match"`):]
	wantContains(t, noMatch[:strings.Index(noMatch, "</table>")], "Drafts with no good match", `<td class="num">1</td><td>“printer on fire”</td>`)
}

// A period that is not one is refused with the page naming the field and
// the figures left out; the export refuses it too.
func TestDashboardBadPeriod(t *testing.T) {
	p := newDashPortal(t)
	op := signedIn(t, p, "olga@orbitask.example", staff.RoleOperator)
	for _, c := range []struct{ query, field, want string }{
		{"from=2026-13-01&to=2026-11-30", "from", "From: &#34;2026-13-01&#34; is not a date"},
		{"from=2026-11-01", "to", "To: enter the last day"},
		{"from=2026-11-30&to=2026-11-01", "to", "To: the last day is before the first"},
		{"from=2024-01-01&to=2026-01-01", "to", "at most 366 days"},
		{"period=12", "", "Period: choose the last 7, 30 or 90 days"},
	} {
		res, body := op.send(t, "GET", "/operator?"+c.query, nil)
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantContains(t, body, c.want, "The figures are not shown")
		if c.field != "" {
			wantContains(t, body, `id="period-`+c.field+`" name="`+c.field+`"`, `aria-describedby="period-`+c.field+`-error"`)
		}
		wantLacks(t, body, `class="funnel"`, `<svg class="chart"`)
		res, _ = op.send(t, "GET", "/operator/export/articles.csv?"+c.query, nil)
		wantStatus(t, res, http.StatusUnprocessableEntity)
	}
}

// Every table downloads as CSV: an attachment, quoted where needed, with
// customer text that starts like a formula made inert; agents get none.
func TestDashboardExport(t *testing.T) {
	p := newDashPortal(t)
	dashFixture(t, p)
	op := signedIn(t, p, "olga@orbitask.example", staff.RoleOperator)
	_, page := op.send(t, "GET", "/operator?period=7", nil)
	links := regexp.MustCompile(`href="(/operator/export/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(links) < 12 {
		t.Fatalf("%d export links on the dashboard, want one per table", len(links))
	}
	read := func(target string) [][]string {
		t.Helper()
		res, body := op.send(t, "GET", target, nil)
		wantStatus(t, res, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", target, ct)
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="`) || !strings.HasSuffix(cd, `.csv"`) {
			t.Errorf("%s: Content-Disposition %q", target, cd)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v\n%s", target, err, body)
		}
		return recs
	}
	for _, l := range links {
		if recs := read(strings.ReplaceAll(l[1], "&amp;", "&")); len(recs) == 0 {
			t.Errorf("%s: no header", l[1])
		}
	}
	counts := read("/operator/export/daily-counts.csv?period=7")
	if len(counts) != 8 || strings.Join(counts[0], ",") != "Day,Drafts,Solved,Filed,Abandoned" || strings.Join(counts[7][1:4], ",") != "5,2,2" {
		t.Errorf("daily counts: %q", counts)
	}
	var sawInjection bool
	for _, r := range read("/operator/export/gaps-no-results.csv?period=7")[1:] {
		if strings.HasPrefix(r[0], "=") {
			t.Errorf("a cell starts with =: %q", r[0])
		}
		sawInjection = sawInjection || r[0] == "'"+strings.ToLower(injection)
	}
	if !sawInjection {
		t.Error("the formula-like search is not in the gaps' CSV, made inert")
	}

	res, _ := op.send(t, "GET", "/operator/export/nothing.csv?period=7", nil)
	wantStatus(t, res, http.StatusNotFound)
	agent := signedIn(t, p, "alex@orbitask.example", staff.RoleAgent)
	res, _ = agent.send(t, "GET", "/operator/export/articles.csv?period=7", nil)
	wantStatus(t, res, http.StatusForbidden)
}

// The articles sort by any column, both ways, on the server.
func TestDashboardArticleSort(t *testing.T) {
	p := newDashPortal(t)
	dashFixture(t, p)
	op := signedIn(t, p, "olga@orbitask.example", staff.RoleOperator)
	order := func(query string) []string {
		t.Helper()
		res, body := op.send(t, "GET", "/operator?period=7&"+query, nil)
		wantStatus(t, res, http.StatusOK)
		table := body[strings.Index(body, `data-table="articles"`):]
		table = table[:strings.Index(table, "</table>")]
		var ids []string
		for _, m := range regexp.MustCompile(`<td><a href="/kb/(en/[a-z-]+)">`).FindAllStringSubmatch(table, -1) {
			ids = append(ids, m[1])
		}
		return ids
	}
	if got := strings.Join(order("sort=title&dir=asc"), " "); got != "en/backup en/reset-password" {
		t.Errorf("by title: %s", got)
	}
	if got := strings.Join(order("sort=title&dir=desc"), " "); got != "en/reset-password en/backup" {
		t.Errorf("by title, descending: %s", got)
	}
	// reset-password was viewed, backup not.
	if got := strings.Join(order("sort=views&dir=desc"), " "); got != "en/reset-password en/backup" {
		t.Errorf("by views: %s", got)
	}
	_, body := op.send(t, "GET", "/operator?period=7&sort=views&dir=desc", nil)
	wantContains(t, body, `aria-sort="descending"><a href="/operator?period=7&amp;sort=views&amp;dir=asc#articles-title">Views`)
}

// BenchmarkDashboardPage measures GET /operator for 90 days on an empty
// database: the page's own work (the period, seven calls of insights over
// no rows, three charts of 90 days, the tables, the template), apart from
// the SQL over many events that insights' BenchmarkDashboard measures.
//
//	go test ./console -run '^$' -bench DashboardPage
func BenchmarkDashboardPage(b *testing.B) {
	p := newDashPortal(b)
	session := operatorSession(b, p.svc.Staff)
	for b.Loop() {
		getDashboard(b, p.app, session, "/operator?period=90")
	}
}

// operatorSession signs an operator in (choosing a password in place of
// the one-time one) and returns the session cookie's value.
func operatorSession(b *testing.B, st *staff.Store) string {
	b.Helper()
	ctx := context.Background()
	const email = "olga@orbitask.example"
	u, otp, err := st.AddUser(ctx, email, "Olga Operator", staff.RoleOperator, "test")
	if err != nil {
		b.Fatal(err)
	}
	sess, err := st.Login(ctx, staff.Attempt{Email: email, Password: otp, UserAgent: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.SetPassword(ctx, u.ID, otp, "correct horse battery", sess.Token); err != nil {
		b.Fatal(err)
	}
	return sess.Token
}

// getDashboard asks app for target with the session and wants the page.
func getDashboard(b *testing.B, app *fiber.App, session, target string) {
	b.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Cookie", sessionCookie+"="+session)
	res, err := app.Test(req, -1)
	if err != nil {
		b.Fatal(err)
	}
	n, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK || n < 10000 {
		b.Fatalf("GET %s: %d, %d bytes, %v", target, res.StatusCode, n, err)
	}
}

// BenchmarkDashboardPageMillion is the whole page (both periods' queries,
// charts, tables, template) over the million events insights'
// BenchmarkDashboard generates (run that first: it caches the database in
// the temporary directory), for a 30-day period within them.
func BenchmarkDashboardPageMillion(b *testing.B) {
	src := filepath.Join(os.TempDir(), "insights-bench-v4.db")
	if _, err := os.Stat(src); err != nil {
		b.Skip("no million-event database: run go test ./insights -run '^$' -bench Dashboard first")
	}
	data := b.TempDir()
	raw, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "portal.db"), raw, 0o600); err != nil {
		b.Fatal(err)
	}
	raw = nil
	svc := testportal.OpenIn(b, "testdata/content", data, server.LiveEncoders, nil)
	in, err := insights.Open(insights.Config{DB: svc.DB, Calendar: svc.Tickets.Calendar, Normalize: svc.Search.NormalizeQuery})
	if err != nil {
		b.Fatal(err)
	}
	con, err := console.New(console.Config{}, console.Services{KB: svc.Search.KB, Tickets: svc.Tickets, Deflect: svc.Deflect,
		Staff: svc.Staff, Hub: svc.Hub, Health: svc.Health, Insights: in})
	if err != nil {
		b.Fatal(err)
	}
	srv := httpkit.NewApp(httpkit.Config{}, nil)
	con.Routes(srv)
	session := operatorSession(b, svc.Staff)
	get := func() { getDashboard(b, srv, session, "/operator?from=2026-05-02&to=2026-05-31") }
	get() // rolls the settled days up, once per database
	b.ResetTimer()
	for b.Loop() {
		get()
	}
}

// Figures that cannot be computed leave the rest of the page: an operator
// needs publishing, staff and the audit most when something is wrong.
func TestDashboardFailureKeepsThePage(t *testing.T) {
	p := newDashPortal(t)
	dashFixture(t, p)
	op := signedIn(t, p, "olga@orbitask.example", staff.RoleOperator)
	if _, err := p.svc.DB.Raw().Exec(`DROP TABLE insights_days`); err != nil {
		t.Fatal(err)
	}
	res, body := op.send(t, "GET", "/operator?period=7", nil)
	wantStatus(t, res, http.StatusInternalServerError)
	wantContains(t, body, "The figures could not be computed", "Staff accounts", "olga@orbitask.example", "Recent staff activity")
	wantLacks(t, body, `data-figure="deflection-rate"`)
}
