package events

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/orbitask/portal/internal/testclock"
)

// The most frequent searches of the window come first, each (text,
// language, source) once; older searches do not count.
func TestRecentQueries(t *testing.T) {
	s, _ := open(t)
	now := time.Date(2030, 3, 10, 12, 0, 0, 0, time.UTC)
	clock := testclock.New(now.Add(-8 * 24 * time.Hour))
	s.SetClock(clock.Now)
	search := func(q, lang, source string, times int) {
		for i := 0; i < times; i++ {
			s.RecordSearch(Search{ID: NewSearchID(), Query: q, Lang: lang, Source: source, Total: 1, Visitor: reader(i)})
		}
		if err := s.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	search("old favourite", "en", "page", 10) // 8 days ago: out of the window
	clock.Set(now.Add(-2 * time.Hour))
	search("reset password", "en", "page", 3)
	search("reset password", "de", "page", 2)
	search("invoice", "en", "api", 1)
	clock.Set(now.Add(-time.Hour))
	search("reset password", "en", "instant", 2)
	search("webhook", "", "page", 1)
	clock.Set(now)
	search("export", "en", "page", 1)

	got, err := s.RecentQueries(context.Background(), 7*24*time.Hour, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []WarmQuery{
		{"reset password", "en", "page", 3},
		{"reset password", "en", "instant", 2}, // as frequent as the next, more recent
		{"reset password", "de", "page", 2},
		{"export", "en", "page", 1},
		{"webhook", "", "page", 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("recent queries:\n got %+v\nwant %+v", got, want)
	}
	if got, err := s.RecentQueries(context.Background(), time.Minute, 10); err != nil || len(got) != 1 || got[0].Text != "export" {
		t.Errorf("the last minute: %+v %v", got, err)
	}
}
