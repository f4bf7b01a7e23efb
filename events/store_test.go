package events

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/internal/testclock"
	"github.com/orbitask/portal/sqlitedb"
)

func open(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portal.db")
	return openAt(t, path), path
}

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	db, err := sqlitedb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	s, err := Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// reader is a visitor numbered i: an address and a browser of its own.
func reader(i int) Visitor {
	return Visitor{Addr: fmt.Sprintf("198.51.100.%d", i), UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"}
}

// readAndVote views the article as v, then votes.
func readAndVote(t *testing.T, s *Store, v Visitor, article string, helpful bool) {
	t.Helper()
	s.RecordView(View{ArticleID: article, Lang: article[:2], Visitor: v})
	if err := s.Vote(context.Background(), Vote{ArticleID: article, Helpful: helpful, Visitor: v}); err != nil {
		t.Fatal(err)
	}
}

func TestVoteReplacesEarlierVoteOfSameVisitor(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	readAndVote(t, s, reader(1), "en/a", true)
	readAndVote(t, s, reader(2), "en/a", true)
	readAndVote(t, s, reader(1), "en/a", false) // reader 1 changes their mind
	readAndVote(t, s, reader(1), "en/b", true)
	yes, no, err := s.VoteCounts(ctx, "en/a")
	if err != nil || yes != 1 || no != 1 {
		t.Fatalf("en/a votes = %d yes, %d no, %v; want 1, 1", yes, no, err)
	}
	var events int
	s.db.QueryRow(`SELECT count(*) FROM events WHERE kind = 'vote'`).Scan(&events)
	if events != 4 {
		t.Errorf("vote events = %d, want 4 (every vote is history)", events)
	}
	if err := s.Vote(ctx, Vote{Visitor: reader(1)}); err == nil {
		t.Error("vote without article accepted")
	}
}

// A vote counts only from a visitor who has opened the article: not from
// one who opened another, nor from the same address with another browser.
func TestVoteNeedsAView(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	s.RecordView(View{ArticleID: "en/a", Lang: "en", Visitor: reader(1)})
	other := reader(1)
	other.UserAgent = "curl/8.5.0"
	for _, v := range []Vote{
		{ArticleID: "en/b", Helpful: true, Visitor: reader(1)},
		{ArticleID: "en/a", Helpful: true, Visitor: reader(2)},
		{ArticleID: "en/a", Helpful: true, Visitor: other},
	} {
		if err := s.Vote(ctx, v); !errors.Is(err, ErrNotViewed) {
			t.Errorf("vote %+v: %v, want ErrNotViewed", v, err)
		}
	}
	// A view older than ViewWindow does not count either.
	old := sqlitedb.FormatTime(time.Now().Add(-ViewWindow - time.Minute))
	if _, err := s.db.Raw().Exec(`UPDATE article_views SET at = ?`, old); err != nil {
		t.Fatal(err)
	}
	if err := s.Vote(ctx, Vote{ArticleID: "en/a", Helpful: true, Visitor: reader(1)}); !errors.Is(err, ErrNotViewed) {
		t.Errorf("vote after an old view: %v, want ErrNotViewed", err)
	}
	if yes, no, _ := s.VoteCounts(ctx, "en/a"); yes+no != 0 {
		t.Errorf("%d votes stored, want none", yes+no)
	}
}

// A view under yesterday's id counts the next day (a reader who opened the
// article just before midnight), and the vote is today's visitor's.
func TestViewBeforeMidnightCounts(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	salt, err := s.salt(ctx, day(now.AddDate(0, 0, -1)), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Raw().Exec(`INSERT INTO article_views (at, article_id, lang, visitor) VALUES (?, 'en/a', 'en', ?)`,
		sqlitedb.FormatTime(now.Add(-time.Hour)), VisitorID(salt, reader(1))); err != nil {
		t.Fatal(err)
	}
	if err := s.Vote(ctx, Vote{ArticleID: "en/a", Helpful: true, Visitor: reader(1)}); err != nil {
		t.Fatalf("vote after yesterday's view: %v", err)
	}
	if err := s.Vote(ctx, Vote{ArticleID: "en/a", Helpful: true, Visitor: reader(2)}); !errors.Is(err, ErrNotViewed) {
		t.Errorf("another reader's vote: %v, want ErrNotViewed", err)
	}
}

// One address counts at most VotersPerAddress voters on an article, however
// many browsers it reads with: the next is refused with ErrVoteNotCounted
// and nothing of it is stored. A counted voter may still change their mind,
// the cap is per article, and another address counts.
func TestVotersPerAddressCapped(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	browser := func(i int) Visitor {
		return Visitor{Addr: "198.51.100.7", UserAgent: fmt.Sprintf("Mozilla/5.0 Firefox/%d.0", 100+i)}
	}
	for i := range VotersPerAddress {
		readAndVote(t, s, browser(i), "en/a", true)
	}
	over := browser(VotersPerAddress)
	s.RecordView(View{ArticleID: "en/a", Lang: "en", Visitor: over})
	if err := s.Vote(ctx, Vote{ArticleID: "en/a", Helpful: true, Visitor: over}); !errors.Is(err, ErrVoteNotCounted) {
		t.Fatalf("vote of voter %d from one address: %v, want ErrVoteNotCounted", VotersPerAddress+1, err)
	}
	var rows, events int
	s.db.QueryRow(`SELECT count(*) FROM votes`).Scan(&rows)
	s.db.QueryRow(`SELECT count(*) FROM events WHERE kind = 'vote'`).Scan(&events)
	if rows != VotersPerAddress || events != VotersPerAddress {
		t.Errorf("%d votes and %d vote events stored, want %d of each (nothing of the refused vote)", rows, events, VotersPerAddress)
	}
	readAndVote(t, s, browser(0), "en/a", false) // a counted voter changes their mind
	readAndVote(t, s, over, "en/b", true)        // another article
	readAndVote(t, s, reader(1), "en/a", true)   // another address
	if yes, no, err := s.VoteCounts(ctx, "en/a"); err != nil || yes != VotersPerAddress || no != 1 {
		t.Errorf("en/a votes = %d yes, %d no, %v; want %d, 1", yes, no, err, VotersPerAddress)
	}
	// The address is stored as its hash under the day's salt, never as it is.
	salt, err := s.salt(ctx, day(time.Now()), false)
	if err != nil {
		t.Fatal(err)
	}
	var addrs int
	s.db.QueryRow(`SELECT count(*) FROM votes WHERE address = ?`, AddressID(salt, "198.51.100.7")).Scan(&addrs)
	if addrs != VotersPerAddress+1 {
		t.Errorf("%d votes stored with the address's id, want %d", addrs, VotersPerAddress+1)
	}
	var raw int
	s.db.QueryRow(`SELECT count(*) FROM votes WHERE address LIKE '%198.51%' OR voter LIKE '%198.51%'`).Scan(&raw)
	if raw != 0 {
		t.Errorf("%d votes store the address as it is", raw)
	}
}

// Across midnight a visitor's vote replaces the one they made yesterday
// (under yesterday's id), yesterday's voters from an address still count
// against its cap, and the day after, with yesterday's salt gone, they
// no longer can.
func TestVoteAfterMidnightReplacesYesterdays(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	clock := testclock.New(time.Date(2030, 3, 1, 23, 50, 0, 0, time.UTC))
	s.SetClock(clock.Now)
	browser := func(i int) Visitor {
		return Visitor{Addr: "198.51.100.7", UserAgent: fmt.Sprintf("Mozilla/5.0 Firefox/%d.0", 100+i)}
	}
	for i := range VotersPerAddress {
		readAndVote(t, s, browser(i), "en/a", true)
	}
	clock.Set(time.Date(2030, 3, 2, 0, 10, 0, 0, time.UTC))
	// No new view: the one before midnight counts.
	if err := s.Vote(ctx, Vote{ArticleID: "en/a", Helpful: false, Visitor: browser(0)}); err != nil {
		t.Fatalf("vote after midnight: %v", err)
	}
	if yes, no, err := s.VoteCounts(ctx, "en/a"); err != nil || yes != VotersPerAddress-1 || no != 1 {
		t.Errorf("votes = %d yes, %d no, %v; want %d, 1 (yesterday's vote replaced)", yes, no, err, VotersPerAddress-1)
	}
	over := browser(VotersPerAddress)
	s.RecordView(View{ArticleID: "en/a", Lang: "en", Visitor: over})
	if err := s.Vote(ctx, Vote{ArticleID: "en/a", Helpful: true, Visitor: over}); !errors.Is(err, ErrVoteNotCounted) {
		t.Errorf("new voter after midnight from an address with %d yesterday: %v, want ErrVoteNotCounted", VotersPerAddress, err)
	}
	clock.Set(time.Date(2030, 3, 3, 0, 10, 0, 0, time.UTC))
	readAndVote(t, s, over, "en/a", true)
	if yes, no, err := s.VoteCounts(ctx, "en/a"); err != nil || yes != VotersPerAddress || no != 1 {
		t.Errorf("two days on: %d yes, %d no, %v; want %d, 1", yes, no, err, VotersPerAddress)
	}
}

// Views are stored with the visitor's id, never the address; the id is the
// same all day, across a restart (the salt is stored), and differs for
// another address or browser.
func TestViewsStoreVisitorIDs(t *testing.T) {
	s, path := open(t)
	s.RecordView(View{ArticleID: "en/a", Lang: "en", Visitor: reader(1)})
	s.RecordView(View{ArticleID: "en/b", Lang: "en", Visitor: reader(2)})
	s.Close()
	s2 := openAt(t, path)
	s2.RecordView(View{ArticleID: "en/a", Lang: "en", Visitor: reader(1)})
	if err := s2.Flush(); err != nil {
		t.Fatal(err)
	}
	rows, err := s2.db.Query(`SELECT article_id, lang, visitor, at FROM article_views ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var article, lang, visitor, at string
		if err := rows.Scan(&article, &lang, &visitor, &at); err != nil {
			t.Fatal(err)
		}
		if len(visitor) != 64 || strings.Contains(visitor, "198.51") || lang != "en" {
			t.Errorf("view %s: lang %q, visitor %q", article, lang, visitor)
		}
		ids = append(ids, visitor)
	}
	if len(ids) != 3 || ids[0] != ids[2] || ids[0] == ids[1] {
		t.Errorf("visitor ids %q: want reader 1 the same twice, reader 2 another", ids)
	}
	var salts int
	s2.db.QueryRow(`SELECT count(*) FROM visitor_salts`).Scan(&salts)
	if salts != 1 {
		t.Errorf("%d salts stored, want 1 (today's)", salts)
	}
}

// Making a day's salt deletes those older than yesterday: ids of those
// days can no longer be traced back to an address.
func TestOldSaltsDeleted(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	for _, d := range []string{"2026-01-01", "2026-01-02", "2026-01-03"} {
		if _, err := s.salt(ctx, d, true); err != nil {
			t.Fatal(err)
		}
	}
	var days []string
	rows, _ := s.db.Query(`SELECT day FROM visitor_salts ORDER BY day`)
	for rows.Next() {
		var d string
		rows.Scan(&d)
		days = append(days, d)
	}
	rows.Close()
	if strings.Join(days, ",") != "2026-01-02,2026-01-03" {
		t.Errorf("salts kept for %v, want 2026-01-02 and 2026-01-03", days)
	}
	if salt, err := s.salt(ctx, "2026-01-01", false); err != nil || salt != nil {
		t.Errorf("deleted salt = %x, %v; want none", salt, err)
	}
}

func TestMostHelpfulRanksByConfidence(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	n := 0
	vote := func(id string, yes, no int) {
		for i := 0; i < yes+no; i++ {
			n++
			readAndVote(t, s, reader(n), id, i < yes)
		}
	}
	vote("en/lucky", 1, 0)
	vote("en/solid", 20, 1)
	vote("en/bad", 1, 9)
	vote("de/other", 30, 0)
	got, err := s.MostHelpful(ctx, []string{"en/lucky", "en/solid", "en/bad", "en/none"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ArticleID != "en/solid" || got[1].ArticleID != "en/lucky" {
		t.Fatalf("most helpful = %+v, want en/solid then en/lucky", got)
	}
}

func TestSearchEventsAreWrittenByCloseAndSurviveReopen(t *testing.T) {
	s, path := open(t)
	for i := 0; i < 100; i++ {
		s.RecordSearch(Search{Query: "reset password", Lang: "en", Source: "api", Total: 3})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openAt(t, path) // migrations already applied: must not fail
	var n int
	if err := s2.db.QueryRow(`SELECT count(*) FROM events WHERE kind = 'search' AND json_extract(data, '$.query') = 'reset password'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 100 {
		t.Fatalf("search events = %d, want 100", n)
	}
	s2.RecordSearch(Search{Query: "after close"}) // reopened store works
	s.RecordSearch(Search{Query: "dropped"})      // closed store must not panic
}

// Rows written before times had one layout are rewritten to it, so text
// comparisons of times are right at second boundaries.
func TestTimesMigratedToOneLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "portal.db")
	db, err := sqlitedb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw := db.Raw()
	// The database as the first version left it.
	if _, err := raw.Exec(`CREATE TABLE schema_migrations (owner TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL, PRIMARY KEY (owner, version))`); err != nil {
		t.Fatal(err)
	}
	body, err := migrations.ReadFile("migrations/001_events_votes.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(string(body)); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`INSERT INTO schema_migrations VALUES ('events', 1, '2026-11-01T10:00:00.5Z');
		INSERT INTO events (at, kind, data) VALUES ('2026-11-01T10:00:00Z', 'search', '{}'), ('2026-11-01T10:00:00.5Z', 'search', '{}'),
			('2026-11-01T10:00:00.123456789Z', 'search', '{}');
		INSERT INTO votes VALUES ('en/a', 'v', 1, '2026-11-01T10:00:01.25Z')`); err != nil {
		t.Fatal(err)
	}
	s, err := Open(db, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.RecordSearch(Search{Query: "new"})
	s.Close()
	var got []string
	rows, err := db.Query(`SELECT * FROM (SELECT at FROM events ORDER BY id) UNION ALL SELECT at FROM votes UNION ALL SELECT applied_at FROM schema_migrations`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var at string
		rows.Scan(&at)
		got = append(got, at)
		if _, err := time.Parse(sqlitedb.TimeLayout, at); err != nil {
			t.Errorf("stored time %q is not in the layout: %v", at, err)
		}
	}
	want := []string{"2026-11-01T10:00:00.000Z", "2026-11-01T10:00:00.500Z", "2026-11-01T10:00:00.123Z"}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("event %d at %q, want %q", i, got[i], w)
		}
	}
}

// What a page view costs the request serving it: queueing the view (the
// writer hashes and writes it in the background).
func BenchmarkRecordView(b *testing.B) {
	db, err := sqlitedb.Open(filepath.Join(b.TempDir(), "portal.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	s, err := Open(db, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	v := View{ArticleID: "en/a", Lang: "en", Visitor: reader(1)}
	for b.Loop() {
		s.RecordView(v)
	}
}

// What a "No" voter says was missing goes into the vote's event as one
// line; a "Yes" carries none; a line longer than MaxMissing is refused as
// a field error and nothing is stored.
func TestVoteMissingIsStoredWithTheEvent(t *testing.T) {
	s, path := open(t)
	ctx := context.Background()
	v := reader(1)
	s.RecordView(View{ArticleID: "en/a", Lang: "en", Visitor: v})
	votes := []Vote{
		{ArticleID: "en/a", Helpful: false, Visitor: v},
		{ArticleID: "en/a", Helpful: false, Visitor: v, Missing: "  Nothing about\nSSO  users "},
		{ArticleID: "en/a", Helpful: true, Visitor: v, Missing: "ignored"},
	}
	for _, vote := range votes {
		if err := s.Vote(ctx, vote); err != nil {
			t.Fatal(err)
		}
	}
	var ferr *fields.Error
	if err := s.Vote(ctx, Vote{ArticleID: "en/a", Visitor: v, Missing: strings.Repeat("é", MaxMissing+1)}); !errors.As(err, &ferr) || ferr.Fields["missing"].Code != fields.TooLong {
		t.Errorf("a line of %d characters: %v, want a field error", MaxMissing+1, err)
	}
	if err := s.Vote(ctx, Vote{ArticleID: "en/a", Visitor: v, Missing: strings.Repeat("é", MaxMissing)}); err != nil {
		t.Errorf("a line of %d characters: %v", MaxMissing, err)
	}
	s.Close()
	db, err := sqlitedb.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Raw().Query(`SELECT json_extract(data, '$.helpful'), json_extract(data, '$.missing') IS NOT NULL, coalesce(json_extract(data, '$.missing'), '') FROM events WHERE kind = 'vote' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var helpful, has bool
		var missing string
		if err := rows.Scan(&helpful, &has, &missing); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%v %v %d:%.20s", helpful, has, len([]rune(missing)), missing))
	}
	want := []string{"false false 0:", "false true 23:Nothing about SSO us", "true false 0:", fmt.Sprintf("false true %d:%s", MaxMissing, strings.Repeat("é", 20))}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("vote events:\n%q\nwant\n%q", got, want)
	}
}
