package events

import (
	"context"
	"path/filepath"
	"testing"
)

func open(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "portal.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
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
	s2, err := Open(path, nil) // migrations already applied: must not fail
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
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
