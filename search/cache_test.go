package search

import (
	"context"
	"testing"
)

func TestResultCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newResultCache(2)
	c.put("a", Result{Total: 1})
	c.put("b", Result{Total: 2})
	if _, ok := c.get("a"); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.put("c", Result{Total: 3}) // evicts b
	if _, ok := c.get("b"); ok {
		t.Error("b should have been evicted")
	}
	if r, ok := c.get("a"); !ok || r.Total != 1 {
		t.Error("a evicted instead of b")
	}
	if r, ok := c.get("c"); !ok || r.Total != 3 {
		t.Error("c missing")
	}
	var off *resultCache = newResultCache(-1)
	off.put("a", Result{})
	if _, ok := off.get("a"); ok {
		t.Error("disabled cache returned a result")
	}
}

func TestCacheKeyIgnoresSpacingButNotMeaning(t *testing.T) {
	base := Query{Text: "reset  password", Lang: "en", Limit: 10}
	if cacheKey(base) != cacheKey(Query{Text: " reset password ", Lang: "en", Limit: 10}) {
		t.Error("whitespace splits the cache")
	}
	for _, other := range []Query{
		{Text: "reset password", Lang: "de", Limit: 10},
		{Text: "reset password", Lang: "en", Limit: 5},
		{Text: "reset password", Lang: "en", Limit: 10, Offset: 10},
		{Text: "reset password", Lang: "en", Limit: 10, Prefix: true},
		{Text: "reset password", Lang: "en", Limit: 10, Category: "Account"},
		{Text: "reset passwords", Lang: "en", Limit: 10},
	} {
		if cacheKey(base) == cacheKey(other) {
			t.Errorf("%+v shares a cache key with %+v", other, base)
		}
	}
}

func TestCachedSearchReturnsSameResult(t *testing.T) {
	ix := openFixture(t)
	q := Query{Text: "backup restore", Lang: "en"}
	first := top(t, ix, q)
	second := top(t, ix, q)
	if len(first.Hits) == 0 || len(first.Hits) != len(second.Hits) || first.Total != second.Total {
		t.Fatalf("cached result differs: %v vs %v", ids(first), ids(second))
	}
	for i := range first.Hits {
		if first.Hits[i].Article != second.Hits[i].Article || first.Hits[i].Snippet != second.Hits[i].Snippet {
			t.Errorf("hit %d differs", i)
		}
	}
	if _, err := ix.Search(context.Background(), Query{Text: "", Lang: "en"}); err == nil {
		t.Error("an invalid query must fail even when cached queries exist")
	}
}
