package insights_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/insights"
	"github.com/orbitask/portal/internal/testclock"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/search"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

// fixture is a database migrated by the real packages, with tickets filed
// through tickets.Store (their drafts marked filed by deflect.Tracker) on
// a clock the test sets.
type fixture struct {
	t       *testing.T
	db      *sqlitedb.DB
	clock   *testclock.Clock
	tickets *tickets.Store
	tracker *deflect.Tracker
	store   *insights.Store
}

// day is Tuesday 10 March 2026, UTC: the fixtures' day.
var day = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

// calendarYAML: UTC, Monday to Friday 09:00–17:00; basic is due after 24
// working hours (the default).
const calendarYAML = "time_zone: UTC\nworking_days: [mon, tue, wed, thu, fri]\nworking_hours: {start: \"09:00\", end: \"17:00\"}\n"

func open(t *testing.T, normalize func(lang, q string) string) *fixture {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "calendar.yaml"), []byte(calendarYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := sqlitedb.Open(filepath.Join(dir, "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ev, err := events.Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ev.Close() })
	f := &fixture{t: t, db: db, clock: testclock.New(day.Add(9 * time.Hour))}
	if f.tracker, err = deflect.Open(deflect.Config{DB: db, Now: f.clock.Now, AbandonAfter: 1000 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.tracker.Close() })
	if f.tickets, err = tickets.Open(tickets.Config{DB: db, DataDir: dir, Now: f.clock.Now, OnFiledTx: f.tracker.TicketFiled}); err != nil {
		t.Fatal(err)
	}
	if f.store, err = insights.Open(insights.Config{DB: db, Calendar: f.tickets.Calendar, Normalize: normalize, Now: f.clock.Now}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) exec(query string, args ...any) {
	f.t.Helper()
	if err := f.db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
		_, err := tx.Exec(query, args...)
		return err
	}); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
}

// ev is one event of a session: "suggested a,b" with query q, "opened a".
type ev struct {
	kind     string
	query    string
	articles []string
	article  string
}

func suggested(q string, articles ...string) ev {
	return ev{kind: "suggested", query: q, articles: append([]string{}, articles...)}
}
func opened(a string) ev { return ev{kind: "opened", article: a} }

// session inserts a draft started at `at` with its events a minute
// apart, ended by outcome ("solved ARTICLE", "abandoned", "" for open);
// "filed" files a ticket from email through tickets.Store, whose number
// it returns.
func (f *fixture) session(name string, at time.Time, lang string, evs []ev, outcome, article, email string) int {
	f.t.Helper()
	var raw [16]byte
	copy(raw[:], name)
	id := base64.RawURLEncoding.EncodeToString(raw[:]) // as deflect makes them
	f.exec(`INSERT INTO deflect_sessions (id, lang, started_at, last_activity_at) VALUES (?, ?, ?, ?)`,
		id, lang, sqlitedb.FormatTime(at), sqlitedb.FormatTime(at))
	f.exec(`INSERT INTO deflect_events (session_id, kind, at) VALUES (?, 'started', ?)`, id, sqlitedb.FormatTime(at))
	t := at
	for _, e := range evs {
		t = t.Add(time.Minute)
		var articles any
		if e.kind == "suggested" {
			b, _ := json.Marshal(e.articles)
			articles = string(b)
		}
		f.exec(`INSERT INTO deflect_events (session_id, kind, at, query, articles, article) VALUES (?, ?, ?, ?, ?, nullif(?, ''))`,
			id, e.kind, sqlitedb.FormatTime(t), e.query, articles, e.article)
	}
	t = t.Add(time.Minute)
	switch outcome {
	case "":
	case "filed":
		f.clock.Set(t)
		tk, _, err := f.tickets.File(context.Background(), tickets.NewTicket{Name: "Ann", Company: "Acme", Phone: "+420 123 456 789",
			Email: email, Subject: "Help", Description: "It does not work.", Severity: 3, Lang: "en", DeflectionSession: id})
		if err != nil {
			f.t.Fatal(err)
		}
		return tk.Number
	default:
		f.exec(`INSERT INTO deflect_events (session_id, kind, at, article) VALUES (?, ?, ?, nullif(?, ''))`, id, outcome, sqlitedb.FormatTime(t), article)
		f.exec(`UPDATE deflect_sessions SET ended_at = ?, outcome = ?, article = nullif(?, '') WHERE id = ?`,
			sqlitedb.FormatTime(t), outcome, article, id)
	}
	return 0
}

func (f *fixture) search(at time.Time, id, query, lang string, total int, visitor string) {
	f.t.Helper()
	data := map[string]any{"query": query, "lang": lang, "source": "page", "total": total, "took_ms": 1}
	if id != "" {
		data["id"] = id
	}
	if visitor != "" {
		data["visitor"] = visitor
	}
	b, _ := json.Marshal(data)
	f.exec(`INSERT INTO events (at, kind, data) VALUES (?, 'search', ?)`, sqlitedb.FormatTime(at), string(b))
}

func (f *fixture) view(at time.Time, article, visitor, searchID string) {
	f.t.Helper()
	f.exec(`INSERT INTO article_views (at, article_id, lang, visitor, search_id) VALUES (?, ?, 'en', ?, nullif(?, ''))`,
		sqlitedb.FormatTime(at), article, visitor, searchID)
}

// tenDrafts is the fixture of the funnel: 10 drafts on day, 4 solved, 3
// filed (two from the same customer, in two spellings), 3 abandoned (2
// after seeing suggestions); it returns the tickets of drafts 5, 6, 7.
func (f *fixture) tenDrafts() [3]int {
	at := func(h int) time.Time { return day.Add(time.Duration(h) * time.Hour) }
	// Three intents showing a in draft 1: one draft, one suggestion of a.
	f.session("s1", at(1), "en", []ev{suggested("reset", "a"), suggested("reset pass", "a", "b"), suggested("reset password", "a", "b"), opened("a")}, "solved", "a", "")
	f.session("s2", at(2), "en", []ev{suggested("login", "a"), opened("a")}, "solved", "a", "")
	f.session("s3", at(3), "en", []ev{suggested("backup", "b"), opened("b")}, "solved", "b", "")
	f.session("s4", at(4), "en", []ev{suggested("export", "a", "c"), opened("c")}, "solved", "c", "")
	var n [3]int
	n[0] = f.session("s5", at(5), "en", []ev{suggested("Printer offline\nMy printer shows offline.")}, "filed", "", "Ann@Example.com")
	n[1] = f.session("s6", at(6), "en", []ev{suggested("The printers are offline\nSince Monday.", "a")}, "filed", "", "ann@example.com")
	// Nothing at first, then b, read: not a weak suggestion.
	n[2] = f.session("s7", at(7), "en", []ev{suggested("Invoice"), suggested("Invoice missing", "b"), opened("b")}, "filed", "", "bob@example.com")
	f.session("s8", at(8), "en", []ev{suggested("vpn", "a")}, "abandoned", "", "")
	f.session("s9", at(9), "en", []ev{suggested("mail", "c"), opened("c")}, "abandoned", "", "")
	f.session("s10", at(10), "en", nil, "abandoned", "", "")
	return n
}

func rate(a, b int) *float64 {
	r := float64(a) / float64(b)
	return &r
}

func TestFunnel(t *testing.T) {
	f := open(t, nil)
	f.tenDrafts()
	// Visitors: v1 viewed twice and searched on day (one visitor-day), v2
	// viewed, v3 searched; v1 again the next day; a search without a
	// visitor id (recorded before them) counts nobody.
	f.view(day.Add(time.Hour), "a", "v1", "")
	f.view(day.Add(2*time.Hour), "a", "v1", "")
	f.view(day.Add(3*time.Hour), "b", "v2", "")
	f.search(day.Add(4*time.Hour), "", "reset", "en", 2, "v1")
	f.search(day.Add(5*time.Hour), "", "reset", "en", 2, "v3")
	f.search(day.Add(6*time.Hour), "", "reset", "en", 2, "")
	f.view(day.Add(30*time.Hour), "a", "v1", "")
	f.view(day.Add(-time.Hour), "a", "v9", "") // the day before: outside

	got, err := f.store.Funnel(context.Background(), insights.Period{From: day, To: day.AddDate(0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	want := insights.Funnel{Drafts: 10, Shown: 8, Opened: 6, Solved: 4, Abandoned: 3, AbandonedAfterSuggestions: 2, Filed: 3,
		DeflectionRate: rate(4, 7), ImplicitRate: rate(2, 9), ClickThrough: rate(6, 8),
		KBVisitors: 4, FilingCustomers: 2, SelfService: rate(4, 2)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("funnel\n got %s\nwant %s", show(got), show(want))
	}
}

// show prints a funnel with its rates' values, not their addresses.
func show(f insights.Funnel) string {
	r := func(p *float64) string {
		if p == nil {
			return "nil"
		}
		return fmt.Sprintf("%.4f", *p)
	}
	return fmt.Sprintf("%+v rates %s %s %s %s", struct{ D, Sh, O, S, A, AS, F, V, C int }{f.Drafts, f.Shown, f.Opened, f.Solved,
		f.Abandoned, f.AbandonedAfterSuggestions, f.Filed, f.KBVisitors, f.FilingCustomers},
		r(f.DeflectionRate), r(f.ImplicitRate), r(f.ClickThrough), r(f.SelfService))
}

// TestFunnelBoundaries: a period is [From, To): a draft started at From
// counts, one a millisecond before or at To does not; an empty period has
// no rates (nil, not 0).
func TestFunnelBoundaries(t *testing.T) {
	f := open(t, nil)
	p := insights.Period{From: day, To: day.AddDate(0, 0, 1)}
	f.session("before", day.Add(-time.Millisecond), "en", nil, "solved", "a", "")
	f.session("first", day, "en", nil, "solved", "a", "")
	f.session("last", p.To.Add(-time.Millisecond), "en", nil, "", "", "") // still open
	f.session("after", p.To, "en", nil, "abandoned", "", "")
	got, err := f.store.Funnel(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Drafts != 2 || got.Solved != 1 || got.Abandoned != 0 || got.Filed != 0 || *got.DeflectionRate != 1 {
		t.Errorf("funnel %s, want 2 drafts (one open), 1 solved", show(got))
	}
	empty, err := f.store.Funnel(context.Background(), p.Previous().Previous())
	if err != nil {
		t.Fatal(err)
	}
	if empty.Drafts != 0 || empty.DeflectionRate != nil || empty.ClickThrough != nil || empty.SelfService != nil || empty.ImplicitRate != nil {
		t.Errorf("empty period: %s, want zeros and nil rates", show(empty))
	}
}

func TestPeriods(t *testing.T) {
	now := time.Date(2026, 3, 10, 15, 4, 5, 0, time.FixedZone("CET", 3600))
	p := insights.LastDays(now, 7)
	if want := (insights.Period{From: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC)}); p != want {
		t.Errorf("LastDays = %v, want %v", p, want)
	}
	if prev := p.Previous(); prev.From != p.From.AddDate(0, 0, -7) || prev.To != p.From {
		t.Errorf("Previous = %v", prev)
	}
}

// TestDaily: one entry per UTC day of the period, empty days included,
// each day's figures its own; the days' counts add up to the period's.
func TestDaily(t *testing.T) {
	f := open(t, nil)
	f.tenDrafts()
	f.session("next", day.AddDate(0, 0, 1).Add(time.Hour), "en", []ev{suggested("x", "a")}, "filed", "", "carl@example.com")
	p := insights.Period{From: day.AddDate(0, 0, -1), To: day.AddDate(0, 0, 3)}
	days, err := f.store.Daily(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 4 {
		t.Fatalf("%d days, want 4", len(days))
	}
	for i, d := range days {
		if want := p.From.AddDate(0, 0, i); !d.Day.Equal(want) {
			t.Errorf("day %d is %v, want %v", i, d.Day, want)
		}
	}
	if d := days[0].Funnel; d.Drafts != 0 || d.DeflectionRate != nil {
		t.Errorf("empty day: %s", show(d))
	}
	if d := days[1].Funnel; d.Drafts != 10 || d.Solved != 4 || d.Filed != 3 || d.FilingCustomers != 2 || *d.DeflectionRate != 4.0/7 {
		t.Errorf("day of the ten drafts: %s", show(d))
	}
	if d := days[2].Funnel; d.Drafts != 1 || d.Filed != 1 || d.Shown != 1 || d.FilingCustomers != 1 || *d.DeflectionRate != 0 {
		t.Errorf("next day: %s", show(d))
	}
	total, err := f.store.Funnel(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if total.Drafts != 11 || total.Filed != 4 || total.FilingCustomers != 3 {
		t.Errorf("period: %s", show(total))
	}
}

func TestArticles(t *testing.T) {
	f := open(t, nil)
	f.tenDrafts()
	f.view(day.Add(time.Hour), "a", "v1", "")
	f.view(day.Add(2*time.Hour), "a", "v1", "")
	f.view(day.Add(3*time.Hour), "b", "v2", "")
	f.view(day.AddDate(0, 0, -3), "d", "v2", "") // outside
	f.exec(`INSERT INTO votes (article_id, voter, helpful, at) VALUES
		('a', 'v1', 1, ?), ('a', 'v2', 0, ?), ('b', 'v3', 1, ?), ('e', 'v1', 1, ?)`,
		sqlitedb.FormatTime(day.Add(time.Hour)), sqlitedb.FormatTime(day.Add(2*time.Hour)),
		sqlitedb.FormatTime(day.Add(3*time.Hour)), sqlitedb.FormatTime(day.AddDate(0, 0, -3)))
	got, err := f.store.Articles(context.Background(), insights.Period{From: day, To: day.AddDate(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	want := []insights.ArticleRow{
		{ID: "a", Views: 2, Suggested: 5, OpenedFromSuggestion: 2, Solved: 2, Helpful: 1, NotHelpful: 1},
		{ID: "b", Views: 1, Suggested: 3, OpenedFromSuggestion: 2, Solved: 1, Helpful: 1, TicketsAfterReading: 1},
		{ID: "c", Suggested: 2, OpenedFromSuggestion: 2, Solved: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("articles\n got %+v\nwant %+v", got, want)
	}
}

// openIndex is a real search index of a one-article knowledge base, for
// its NormalizeQuery.
func openIndex(t *testing.T) *search.Index {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "en"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "en", "printer.md"), []byte("---\ntitle: Printer\n---\nPrinters.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	k, err := kb.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ix, _, err := search.Open(search.Config{Dir: t.TempDir()}, k)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// TestGaps: searches without results and without a click, and filed
// drafts whose last intent was weak, grouped by the stemmed query.
func TestGaps(t *testing.T) {
	f := open(t, openIndex(t).NormalizeQuery)
	tk := f.tenDrafts()
	at := day.Add(12 * time.Hour)
	f.search(at, "00000000000000a0", "Printers offline", "en", 0, "v1")
	f.search(at, "00000000000000a1", "printer offline", "en", 0, "v2")
	f.search(at, "00000000000000a2", "the printer  OFFLINE", "en", 0, "v3")
	f.search(at, "00000000000000a3", "printer offline", "en", 0, "v4")
	f.search(at, "00000000000000a4", "vpn", "en", 0, "v4")
	f.search(day.AddDate(0, 0, -1), "00000000000000a5", "vpn", "en", 0, "v4") // outside
	// Found: clicked, not clicked (twice, one word stemmed), and one from
	// before search ids, which cannot tell.
	f.search(at, "00000000000000b0", "reset password", "en", 3, "v1")
	f.view(at.Add(time.Minute), "a", "v1", "00000000000000b0")
	f.search(at, "00000000000000b1", "router lights", "en", 2, "v1")
	f.search(at, "00000000000000b2", "Router light", "en", 2, "v2")
	f.search(at, "", "old search", "en", 2, "")

	got, err := f.store.Gaps(context.Background(), insights.Period{From: day, To: day.AddDate(0, 0, 1)}, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []insights.Gap{
		{Kind: insights.GapNoResults, Query: "printer offlin", Count: 4, Examples: []string{"printer offline", "Printers offline", "the printer OFFLINE"}},
		{Kind: insights.GapNoResults, Query: "vpn", Count: 1, Examples: []string{"vpn"}},
		// Draft 5's last intent showed nothing; draft 7's first did, but
		// its last found an article.
		{Kind: insights.GapNoGoodMatch, Query: "printer offlin", Count: 1, Examples: []string{"Printer offline"}, Tickets: []int{tk[0]}},
		{Kind: insights.GapNoClick, Query: "router light", Count: 2, Examples: []string{"Router light", "router lights"}},
		// Drafts 5 (nothing shown) and 6 (shown, not opened); 7 read what
		// its last intent showed.
		{Kind: insights.GapWeakSuggestions, Query: "printer offlin", Count: 2, Examples: []string{"Printer offline", "The printers are offline"},
			Tickets: []int{tk[1], tk[0]}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("gaps\n got %+v\nwant %+v", got, want)
	}
	limited, err := f.store.Gaps(context.Background(), insights.Period{From: day, To: day.AddDate(0, 0, 1)}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(limited) != 4 || limited[0].Query != "printer offlin" || limited[1].Kind != insights.GapNoGoodMatch || limited[2].Kind != insights.GapNoClick {
		t.Errorf("limit 1 per kind: %+v", limited)
	}
}

// TestKeystrokesAreOneIntent: a burst of keystrokes through the real
// tracker is one search intent, and the figures count drafts, not
// keystrokes.
func TestKeystrokesAreOneIntent(t *testing.T) {
	f := open(t, nil)
	ctx := context.Background()
	f.clock.Set(day.Add(10 * time.Hour))
	id, err := f.tracker.Start(ctx, "en")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"p", "pr", "pri", "prin", "print", "printe", "printer"} {
		f.clock.Add(100 * time.Millisecond)
		if err := f.tracker.Suggested(ctx, id, q, []string{"a", "b"}, 0); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Add(time.Second)
	if err := f.tracker.Opened(ctx, id, "a"); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	if err := f.tracker.Solved(ctx, id, "a"); err != nil {
		t.Fatal(err)
	}
	p := insights.Period{From: day, To: day.AddDate(0, 0, 1)}
	fn, err := f.store.Funnel(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if fn.Drafts != 1 || fn.Shown != 1 || fn.Opened != 1 || fn.Solved != 1 {
		t.Errorf("funnel %s, want one draft shown, opened, solved", show(fn))
	}
	rows, err := f.store.Articles(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	want := []insights.ArticleRow{{ID: "a", Suggested: 1, OpenedFromSuggestion: 1, Solved: 1}, {ID: "b", Suggested: 1}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("articles %+v, want %+v", rows, want)
	}
}

// TestHealth: tickets filed Monday 9 to Thursday 12 March 2026, seen on
// Friday noon, on a calendar of 09:00–17:00 UTC weekdays (basic: due 24
// working hours after filing).
func TestHealth(t *testing.T) {
	f := open(t, nil)
	ctx := context.Background()
	mon := time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)
	agent := tickets.Staff{ID: 1, Name: "Agent"}
	file := func(at time.Time, severity int, email string) int {
		t.Helper()
		f.clock.Set(at)
		tk, _, err := f.tickets.File(ctx, tickets.NewTicket{Name: "Ann", Company: "Acme", Phone: "+420 123 456 789",
			Email: email, Subject: "Help", Description: "It does not work.", Severity: severity, Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		return tk.Number
	}
	post := func(at time.Time, n int, r tickets.AgentReply) {
		t.Helper()
		f.clock.Set(at)
		if _, err := f.tickets.Post(ctx, n, agent, r); err != nil {
			t.Fatal(err)
		}
	}
	h := func(d, hh, mm int) time.Time {
		return mon.AddDate(0, 0, d).Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
	}

	// 1: answered after 2 h, solved Tuesday 10:00 (9 working hours), due Wednesday 17:00: met.
	t1 := file(h(0, 9, 0), 3, "a@example.com")
	post(h(0, 11, 0), t1, tickets.AgentReply{Body: "Try this."})
	post(h(1, 10, 0), t1, tickets.AgentReply{Body: "Solved.", Status: tickets.StatusSolved})
	// 2: filed Monday 16:00, answered Tuesday 10:00 (2 working hours),
	// three replies raise the call flag (the reply rule), unsolved past
	// its due time (Thursday 16:00): breached.
	t2 := file(h(0, 16, 0), 3, "b@example.com")
	post(h(1, 10, 0), t2, tickets.AgentReply{Body: "One."})
	post(h(1, 10, 5), t2, tickets.AgentReply{Body: "Two."})
	post(h(1, 10, 10), t2, tickets.AgentReply{Body: "Three."})
	// 3: filed Thursday, not due yet, not answered.
	file(h(3, 10, 0), 3, "c@example.com")
	// 4: answered after 30 minutes, an internal note first (no answer),
	// solved Thursday 10:00, after its due time (Wednesday 17:00): 25
	// working hours, breached.
	t4 := file(h(0, 9, 0), 4, "d@example.com")
	post(h(0, 9, 10), t4, tickets.AgentReply{Body: "Note.", Internal: true})
	post(h(0, 9, 30), t4, tickets.AgentReply{Body: "Looking."})
	post(h(3, 10, 0), t4, tickets.AgentReply{Body: "Done.", Status: tickets.StatusSolved})
	// Filed the week before: outside.
	file(mon.AddDate(0, 0, -3).Add(10*time.Hour), 1, "e@example.com")

	f.clock.Set(h(4, 12, 0))
	got, err := f.store.Health(ctx, insights.Period{From: mon, To: mon.AddDate(0, 0, 7)})
	if err != nil {
		t.Fatal(err)
	}
	want := insights.Health{
		ByPlan:     []insights.Count{{Key: "basic", N: 4}},
		BySeverity: []insights.Count{{Key: "3", N: 3}, {Key: "4", N: 1}},
		ByLang:     []insights.Count{{Key: "en", N: 4}},
		ByStatus:   []insights.Count{{Key: "solved", N: 2}, {Key: "new", N: 1}, {Key: "open", N: 1}},
		SLA: []insights.SLARow{
			{Plan: "basic", Severity: 3, Met: 1, Breached: 1, Open: 1},
			{Plan: "basic", Severity: 4, Breached: 1},
		},
		MedianFirstResponse: 2 * time.Hour,  // 30 min, 2 h, 2 h
		MedianResolution:    17 * time.Hour, // 9 h and 25 h
		CallFlagged:         1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("health\n got %+v\nwant %+v", got, want)
	}
}

// TestRollupsAgreeWithEvents: once its days are settled, a period's
// figures come from the daily rollups and are the same as computed from
// the events; a day with a draft still open is not rolled up, and a
// period not cut at midnight computes its ends from the events.
func TestRollupsAgreeWithEvents(t *testing.T) {
	f := open(t, openIndex(t).NormalizeQuery)
	f.tenDrafts()
	f.session("open", day.AddDate(0, 0, 1).Add(time.Hour), "en", []ev{suggested("vpn", "a")}, "", "", "")
	at := day.Add(12 * time.Hour)
	f.search(at, "00000000000000a0", "Printers offline", "en", 0, "v1")
	f.search(at, "00000000000000b1", "router lights", "en", 2, "v1")
	f.search(at, "00000000000000b0", "reset password", "en", 3, "v2")
	f.view(at.Add(time.Minute), "a", "v2", "00000000000000b0")
	f.view(at.Add(time.Minute), "b", "v3", "")
	ctx := context.Background()
	p := insights.Period{From: day.AddDate(0, 0, -1), To: day.AddDate(0, 0, 2)}
	type figures struct {
		Funnel   insights.Funnel
		Daily    []insights.Day
		Articles []insights.ArticleRow
		Gaps     []insights.Gap
	}
	all := func(p insights.Period) figures {
		t.Helper()
		var out figures
		var err error
		if out.Funnel, err = f.store.Funnel(ctx, p); err != nil {
			t.Fatal(err)
		}
		if out.Daily, err = f.store.Daily(ctx, p); err != nil {
			t.Fatal(err)
		}
		if out.Articles, err = f.store.Articles(ctx, p); err != nil {
			t.Fatal(err)
		}
		if out.Gaps, err = f.store.Gaps(ctx, p, 0); err != nil {
			t.Fatal(err)
		}
		return out
	}
	f.clock.Set(day.Add(23 * time.Hour)) // the day is not over
	live := all(p)
	if live.Funnel.Drafts != 11 || live.Funnel.Solved != 4 || len(live.Gaps) == 0 {
		t.Fatalf("live figures: %s, %d gaps", show(live.Funnel), len(live.Gaps))
	}
	if n := f.count(`SELECT count(*) FROM insights_days`); n != 1 { // the day before, empty
		t.Fatalf("%d days rolled up, want only the day before", n)
	}
	f.clock.Set(day.AddDate(0, 0, 1).Add(30 * time.Minute)) // day ended, not an hour ago
	all(p)
	if n := f.count(`SELECT count(*) FROM insights_days`); n != 1 {
		t.Fatalf("%d days rolled up within the hour after the day, want only the one before", n)
	}
	f.clock.Set(day.AddDate(0, 0, 5))
	if rolled := all(p); !reflect.DeepEqual(rolled, live) {
		t.Errorf("from the rollups\n%+v\nfrom the events\n%+v", rolled, live)
	}
	// The day of the ten drafts is rolled up; the next has a draft open.
	if got := f.count(`SELECT count(*) FROM insights_days WHERE day IN ('2026-03-09', '2026-03-10')`); got != 2 {
		t.Errorf("%d of the settled days rolled up, want 2", got)
	}
	if got := f.count(`SELECT count(*) FROM insights_days WHERE day = '2026-03-11'`); got != 0 {
		t.Error("a day with a draft still open was rolled up")
	}
	// A period from noon: its first half-day from the events, the rest
	// from the rollups.
	noon := insights.Period{From: day.Add(12 * time.Hour), To: day.AddDate(0, 0, 2)}
	half := all(noon)
	if half.Funnel.Drafts != 1 || half.Funnel.KBVisitors != 3 || len(half.Daily) != 2 {
		t.Errorf("from noon: %s, %d days", show(half.Funnel), len(half.Daily))
	}
}

func (f *fixture) count(query string) int {
	f.t.Helper()
	var n int
	if err := f.db.QueryRow(query).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

// TestRollupsOnFullDisk: when the rollups cannot be stored, the figures
// are computed from the events all the same, and stored once there is
// room again.
func TestRollupsOnFullDisk(t *testing.T) {
	f := open(t, nil)
	f.tenDrafts()
	// Enough articles that their rollup needs pages the full file lacks.
	f.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
		INSERT INTO article_views (at, article_id, lang, visitor) SELECT ?, 'en/article-with-a-long-name-' || i, 'en', 'v' FROM n`,
		sqlitedb.FormatTime(day.Add(time.Hour)))
	f.clock.Set(day.AddDate(0, 0, 5))
	p := insights.Period{From: day, To: day.AddDate(0, 0, 1)}
	testportal.FillDatabase(t, f.db)
	got, err := f.store.Funnel(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Drafts != 10 || got.Solved != 4 || got.Filed != 3 {
		t.Errorf("funnel on a full disk: %s", show(got))
	}
	if n := f.count(`SELECT count(*) FROM insights_days`); n != 0 {
		t.Errorf("%d days stored on a full disk", n)
	}
	testportal.FreeDatabase(t, f.db)
	if again, err := f.store.Funnel(context.Background(), p); err != nil || !reflect.DeepEqual(again, got) {
		t.Errorf("with room again: %s, %v", show(again), err)
	}
	if n := f.count(`SELECT count(*) FROM insights_days`); n != 1 {
		t.Errorf("%d days stored with room again, want 1", n)
	}
}
