package search

import (
	"context"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A new pair's cache is filled with the warmer's queries before it serves:
// after Open and after Apply the first such search is a cache hit, with
// the new pair's answer; other searches are not.
func TestWarmBeforeServing(t *testing.T) {
	dir, k := generated(t, 20)
	var calls atomic.Int32
	warmQ := Query{Text: word("qx", 3), Lang: "en", Limit: 10}
	cfg := Config{Dir: t.TempDir(), Warm: func(ctx context.Context) []Query {
		calls.Add(1)
		if _, ok := ctx.Deadline(); !ok {
			t.Error("the warmer's context has no deadline")
		}
		// An invalid query is skipped, a duplicate warmed once.
		return []Query{{Text: ""}, warmQ, warmQ}
	}}
	ix, _, err := Open(cfg, k)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if calls.Load() != 1 || ix.CacheHits() != 0 {
		t.Fatalf("after Open: %d warmer calls, %d hits; want 1, 0", calls.Load(), ix.CacheHits())
	}
	ctx := context.Background()
	search := func(q Query) Result {
		t.Helper()
		r, err := ix.Search(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	search(Query{Text: word("qx", 4), Lang: "en", Limit: 10})
	if ix.CacheHits() != 0 {
		t.Fatalf("a query never warmed was a cache hit")
	}
	// Spelled differently, normalised the same: the same key.
	q := warmQ
	q.Text = "  " + warmQ.Text + " "
	if r := search(q); len(r.Hits) != 1 || r.Hits[0].Article.ID != articleID(3) {
		t.Fatalf("warmed query: %v", ids(r))
	}
	if ix.CacheHits() != 1 {
		t.Fatalf("the first search of a warmed query after Open: %d cache hits, want 1", ix.CacheHits())
	}

	writeArticle(t, dir, 3, "second")
	if err := ix.Apply(ctx, load(t, dir), []string{articleID(3)}, nil); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 2 || ix.CacheHits() != 0 {
		t.Fatalf("after Apply: %d warmer calls, %d hits; want 2, 0", calls.Load(), ix.CacheHits())
	}
	r := search(warmQ)
	if ix.CacheHits() != 1 {
		t.Fatalf("the first search of a warmed query after Apply: %d cache hits, want 1", ix.CacheHits())
	}
	if len(r.Hits) != 1 || !strings.Contains(r.Hits[0].Article.Title, "second") {
		t.Fatalf("the warmed answer is not the new content's: %+v", r.Hits)
	}
}

// Warming stops when its budget is spent, and says so.
func TestWarmStopsAtItsBudget(t *testing.T) {
	_, k := generated(t, 20)
	var qs []Query
	for i := 0; i < 20; i++ {
		qs = append(qs, Query{Text: word("qx", i), Lang: "en"})
	}
	rec := &logRecorder{}
	ix, _, err := Open(Config{Dir: t.TempDir(), Logger: slog.New(rec), WarmBudget: time.Nanosecond,
		Warm: func(context.Context) []Query { return qs }}, k)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for _, q := range qs {
		if _, err := ix.Search(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	if ix.CacheHits() != 0 {
		t.Errorf("%d cache hits after a warming with no time", ix.CacheHits())
	}
	found := false
	for _, s := range rec.recs {
		if strings.Contains(s, "result cache warmed") && strings.Contains(s, "warmed=0") && strings.Contains(s, "out_of_time=true") {
			found = true
		}
	}
	if !found {
		t.Errorf("no log of a warming out of time: %q", rec.recs)
	}
}

// Without a cache there is nothing to warm, and the warmer is not asked.
func TestNoWarmWithoutCache(t *testing.T) {
	_, k := generated(t, 5)
	ix, _, err := Open(Config{Dir: t.TempDir(), CacheSize: -1, Warm: func(context.Context) []Query {
		t.Error("warmer called for an index without a cache")
		return nil
	}}, k)
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
}
