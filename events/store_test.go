package events

import (
	"context"
	"path/filepath"
	"testing"
	"time"

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

func TestVoteReplacesEarlierVoteOfSameVoter(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	for _, v := range []Vote{
		{"en/a", true, "v1"},
		{"en/a", true, "v2"},
		{"en/a", false, "v1"}, // v1 changes their mind
		{"en/b", true, "v1"},
	} {
		if err := s.Vote(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	yes, no, err := s.VoteCounts(ctx, "en/a")
	if err != nil || yes != 1 || no != 1 {
		t.Fatalf("en/a votes = %d yes, %d no, %v; want 1, 1", yes, no, err)
	}
	var events int
	s.db.QueryRow(`SELECT count(*) FROM events WHERE kind = 'vote'`).Scan(&events)
	if events != 4 {
		t.Errorf("vote events = %d, want 4 (every vote is history)", events)
	}
	if err := s.Vote(ctx, Vote{ArticleID: "en/a"}); err == nil {
		t.Error("vote without voter accepted")
	}
}

func TestMostHelpfulRanksByConfidence(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	vote := func(id string, yes, no int) {
		for i := 0; i < yes+no; i++ {
			if err := s.Vote(ctx, Vote{id, i < yes, id + string(rune('a'+i))}); err != nil {
				t.Fatal(err)
			}
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
