package insights_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/insights"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/search"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

// benchVersion names the cached database: change it when the generator or
// the schema changes.
const benchVersion = "insights-bench-v4"

// benchEnd is the end of the generated data, and of the measured period.
var benchEnd = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// benchDays of data; the dashboard shows the last 30.
const benchDays = 180

// BenchmarkDashboard measures what /operator computes for a 30-day period
// — Funnel, Daily, Articles, Gaps and Health — over a database of about a
// million events (docs/benchmarks.md): 180 days of 60,000 drafts (about
// 300,000 deflect events), 350,000 searches, 350,000 article views, 15,000
// tickets with their messages and events, 20,000 votes. The database is
// made once and kept in the temporary directory (its name carries
// benchVersion). The first pass over a new database, which computes the
// daily rollups, is logged apart; the benchmark measures the passes after
// it, the last day (which ends at "now") always computed from the events.
//
//	go test ./insights -run '^$' -bench Dashboard -benchtime 20x
func BenchmarkDashboard(b *testing.B) {
	path := filepath.Join(os.TempDir(), benchVersion+".db")
	if _, err := os.Stat(path); err != nil {
		tmp := filepath.Join(b.TempDir(), "portal.db")
		generate(b, tmp)
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
	}
	db, err := sqlitedb.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	st, err := insights.Open(insights.Config{DB: db, Normalize: benchIndex(b).NormalizeQuery, Now: func() time.Time { return benchEnd }})
	if err != nil {
		b.Fatal(err)
	}
	var n int
	if err := db.QueryRow(`SELECT (SELECT count(*) FROM deflect_events) + (SELECT count(*) FROM events) + (SELECT count(*) FROM article_views)`).Scan(&n); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d events", n)
	p := insights.LastDays(benchEnd.Add(-time.Second), 30)
	ctx := context.Background()
	parts := []struct {
		name string
		run  func() error
	}{
		{"Funnel", func() error { _, err := st.Funnel(ctx, p); return err }},
		{"Daily", func() error { _, err := st.Daily(ctx, p); return err }},
		{"Articles", func() error { _, err := st.Articles(ctx, p); return err }},
		{"Gaps", func() error { _, err := st.Gaps(ctx, p, 20); return err }},
		{"Health", func() error { _, err := st.Health(ctx, p); return err }},
		// The dashboard compares with the previous period too.
		{"FunnelPrev", func() error { _, err := st.Funnel(ctx, p.Previous()); return err }},
		{"HealthPrev", func() error { _, err := st.Health(ctx, p.Previous()); return err }},
	}
	// The first pass rolls the settled days up (once per database): cold.
	var cold []string
	for _, part := range parts {
		start := time.Now()
		if err := part.run(); err != nil {
			b.Fatal(err)
		}
		cold = append(cold, fmt.Sprintf("%s %v", part.name, time.Since(start).Round(100*time.Microsecond)))
	}
	b.Logf("first pass: %s", strings.Join(cold, ", "))
	spent := make([]time.Duration, len(parts))
	b.ResetTimer()
	for range b.N {
		for i, part := range parts {
			start := time.Now()
			if err := part.run(); err != nil {
				b.Fatal(err)
			}
			spent[i] += time.Since(start)
		}
	}
	for i, part := range parts {
		b.ReportMetric(float64(spent[i].Microseconds())/1000/float64(b.N), part.name+"-ms")
	}
}

// benchIndex is an index of the search package's fixture, for its
// NormalizeQuery.
func benchIndex(b *testing.B) *search.Index {
	k, err := kb.Load(filepath.Join("..", "search", "testdata", "content"))
	if err != nil {
		b.Fatal(err)
	}
	ix, _, err := search.Open(search.Config{Dir: b.TempDir()}, k)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ix.Close() })
	return ix
}

// generate fills a new database at path, migrated by the real packages,
// in one transaction through DB.Write.
func generate(b *testing.B, path string) {
	b.Helper()
	start := time.Now()
	db, err := sqlitedb.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ev, err := events.Open(db, nil)
	if err != nil {
		b.Fatal(err)
	}
	ev.Close()
	tr, err := deflect.Open(deflect.Config{DB: db})
	if err != nil {
		b.Fatal(err)
	}
	tr.Close()
	if _, err := tickets.Open(tickets.Config{DB: db, DataDir: filepath.Dir(path)}); err != nil {
		b.Fatal(err)
	}
	if _, err := insights.Open(insights.Config{DB: db}); err != nil {
		b.Fatal(err)
	}
	err = db.Write(context.Background(), func(tx *sqlitedb.Tx) error { return fill(tx) })
	if err != nil {
		b.Fatal(err)
	}
	if err := db.Write(context.Background(), func(tx *sqlitedb.Tx) error { _, err := tx.Exec(`ANALYZE`); return err }); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %s in %v", path, time.Since(start).Round(time.Millisecond))
}

// fill writes the data: a skewed mix of queries and articles, as real
// traffic is (a few topics are most of it).
func fill(tx *sqlitedb.Tx) error {
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("printer offline password reset login backup restore invoice export import mail vpn router " +
		"license upgrade install database ticket attachment calendar holiday report api token webhook sync error timeout " +
		"slow crash update language account billing refund delete user role permission")
	zipf := rand.NewZipf(rng, 1.2, 1, 1999)
	query := func() string {
		n := int(zipf.Uint64())
		q := []string{words[n%len(words)], words[(n/len(words))%len(words)]}
		if n%3 == 0 {
			q[0] = strings.ToUpper(q[0][:1]) + q[0][1:] + "s" // typed differently, same stem
		}
		return strings.Join(q, " ")
	}
	artZipf := rand.NewZipf(rng, 1.1, 1, 299)
	article := func() string { return fmt.Sprintf("en/article-%03d", artZipf.Uint64()) }
	visitor := func(day int) string {
		h := sha256.Sum256(binary.AppendUvarint([]byte{byte(day)}, uint64(rng.IntN(20000))))
		return fmt.Sprintf("%x", h[:16])
	}
	at := func(day int) time.Time {
		return benchEnd.AddDate(0, 0, -benchDays+day).Add(time.Duration(rng.Int64N(int64(24 * time.Hour))))
	}
	prep := func(q string) *sql.Stmt {
		s, err := tx.Prepare(q)
		if err != nil {
			panic(err)
		}
		return s
	}
	insSearch := prep(`INSERT INTO events (at, kind, data) VALUES (?, 'search', ?)`)
	insView := prep(`INSERT INTO article_views (at, article_id, lang, visitor, search_id) VALUES (?, ?, 'en', ?, ?)`)
	insSession := prep(`INSERT INTO deflect_sessions (id, lang, started_at, last_activity_at, ended_at, outcome, article, ticket) VALUES (?, 'en', ?, ?, ?, ?, ?, ?)`)
	insEvent := prep(`INSERT INTO deflect_events (session_id, kind, at, query, articles, article, ticket) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	insTicket := prep(`INSERT INTO tickets (number, token_hash, status, plan, severity, subject, lang, answer_in_english, name, company, phone, email,
		created_at, updated_at, sla_due, call_required, deflection_session, paused_at) VALUES (?, ?, ?, ?, ?, ?, 'en', 0, 'Ann', 'Acme', '123456', ?, ?, ?, ?, 0, ?, ?)`)
	insMessage := prep(`INSERT INTO ticket_messages (ticket_id, author, body, created_at) VALUES (?, ?, 'text', ?)`)
	insTicketEvent := prep(`INSERT INTO ticket_events (ticket_id, kind, actor, data, at) VALUES (?, ?, ?, ?, ?)`)
	insVote := prep(`INSERT OR IGNORE INTO votes (article_id, voter, helpful, at) VALUES (?, ?, ?, ?)`)
	ts := sqlitedb.FormatTime
	must := func(_ sql.Result, err error) {
		if err != nil {
			panic(err)
		}
	}
	var nulls any
	for i := range 350_000 {
		day := i * benchDays / 350_000
		t := at(day)
		id := fmt.Sprintf("%016x", rng.Uint64())
		total := 0
		if rng.IntN(10) > 0 {
			total = 1 + rng.IntN(30)
		}
		v := visitor(day)
		data, _ := json.Marshal(map[string]any{"id": id, "query": query(), "lang": "en", "source": "page", "total": total, "took_ms": 1.5, "visitor": v})
		must(insSearch.Exec(ts(t), string(data)))
		// Half the searches with results lead to a view; other views come
		// from links.
		if total > 0 && rng.IntN(2) == 0 {
			must(insView.Exec(ts(t.Add(5*time.Second)), article(), v, id))
		} else {
			must(insView.Exec(ts(t.Add(time.Minute)), article(), visitor(day), nulls))
		}
	}
	number := 1001
	for i := range 60_000 {
		day := i * benchDays / 60_000
		t := at(day)
		var raw [16]byte
		binary.BigEndian.PutUint64(raw[:], uint64(i))
		sid := base64.RawURLEncoding.EncodeToString(raw[:])
		var evs [][]any
		add := func(kind string, q, arts, art, ticket any) {
			t = t.Add(time.Duration(2+rng.IntN(60)) * time.Second)
			evs = append(evs, []any{sid, kind, ts(t), q, arts, art, ticket})
		}
		start := t
		add("started", nulls, nulls, nulls, nulls)
		var shown []string
		for range 1 + rng.IntN(4) {
			shown = shown[:0]
			if rng.IntN(5) > 0 {
				for range 1 + rng.IntN(5) {
					shown = append(shown, article())
				}
			}
			list, _ := json.Marshal(append([]string{}, shown...))
			add("suggested", query()+"\nIt stopped working this morning.", string(list), nulls, nulls)
		}
		var opened string
		if len(shown) > 0 && rng.IntN(2) == 0 {
			opened = shown[rng.IntN(len(shown))]
			add("opened", nulls, nulls, opened, nulls)
		}
		outcome, art, ticket := "abandoned", any(nil), any(nil)
		switch r := rng.IntN(100); {
		case opened != "" && r < 60:
			outcome, art = "solved", opened
			add("solved", nulls, nulls, opened, nulls)
		case r < 85:
			outcome, ticket = "filed", number
			add("filed", nulls, nulls, nulls, number)
		default:
			add("abandoned", nulls, nulls, nulls, nulls)
		}
		must(insSession.Exec(sid, ts(start), ts(t), ts(t), outcome, art, ticket))
		for _, e := range evs {
			must(insEvent.Exec(e...))
		}
		if outcome != "filed" {
			continue
		}
		// The ticket, answered within hours, solved within days (most).
		token := sha256.Sum256(raw[:])
		due := t.Add(72 * time.Hour)
		status, paused := "open", any(nil)
		solved := t.Add(time.Duration(1+rng.IntN(96)) * time.Hour)
		if solved.Before(benchEnd) && rng.IntN(4) > 0 {
			status, paused = "solved", ts(solved)
		}
		res, err := insTicket.Exec(number, token[:], status, []string{"basic", "priority", "individual"}[rng.IntN(3)], 1+rng.IntN(4),
			"Help", fmt.Sprintf("c%d@example.com", rng.IntN(8000)), ts(t), ts(t), ts(due), sid, paused)
		if err != nil {
			return err
		}
		tid, _ := res.LastInsertId()
		must(insMessage.Exec(tid, "customer", ts(t)))
		must(insTicketEvent.Exec(tid, "filed", "customer", `{"status":"new"}`, ts(t)))
		if rng.IntN(10) > 0 {
			must(insMessage.Exec(tid, "support", ts(t.Add(time.Duration(1+rng.IntN(600))*time.Minute))))
		}
		if status == "solved" {
			must(insTicketEvent.Exec(tid, "status", "support", `{"status":"solved","from":"open"}`, ts(solved)))
		}
		number++
	}
	for i := range 20_000 {
		day := i * benchDays / 20_000
		must(insVote.Exec(article(), visitor(day), rng.IntN(3)/2, ts(at(day))))
	}
	return nil
}
