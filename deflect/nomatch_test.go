package deflect

import (
	"context"
	"testing"
	"time"
)

// TestNoGoodMatch: an intent that showed nothing is recorded as a draft
// with no good match, with the number of matches too weak to be shown;
// within a burst the last answer counts.
func TestNoGoodMatch(t *testing.T) {
	f := open(t)
	ctx := context.Background()
	id := f.start(t)
	for _, s := range []struct {
		query    string
		articles []string
		below    int
	}{
		{"webhook", []string{"en/webhooks"}, 0},
		{"webhook nefunguje", nil, 3}, // same burst: replaces the one above
	} {
		if err := f.tr.Suggested(ctx, id, s.query, s.articles, s.below); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(100 * time.Millisecond)
	}
	f.clock.Add(time.Minute)
	if err := f.tr.Suggested(ctx, id, "webhooky přestaly chodit", nil, 0); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Minute)
	if err := f.tr.Suggested(ctx, id, "webhooky přestaly chodit po aktualizaci", []string{"en/webhooks"}, 1); err != nil {
		t.Fatal(err)
	}
	var got []Event
	for _, e := range f.trail(t, id) {
		if e.Kind == KindSuggested {
			got = append(got, e)
		}
	}
	want := []struct {
		query   string
		below   int
		noMatch bool
	}{
		{"webhook nefunguje", 3, true},
		{"webhooky přestaly chodit", 0, true},
		{"webhooky přestaly chodit po aktualizaci", 1, false},
	}
	if len(got) != len(want) {
		t.Fatalf("%d intents, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		if got[i].Query != w.query || got[i].BelowFloor != w.below || got[i].NoGoodMatch() != w.noMatch {
			t.Errorf("intent %d = %q below %d no match %v, want %+v", i, got[i].Query, got[i].BelowFloor, got[i].NoGoodMatch(), w)
		}
	}
}
