package search

import (
	"context"
	"reflect"
	"testing"
)

func TestResultCacheEvictsLeastRecentlyUsed(t *testing.T) {
	c := newResultCache(2)
	a, b, cc := Query{Text: "a"}, Query{Text: "b"}, Query{Text: "c"}
	c.put(a, Result{Total: 1})
	c.put(b, Result{Total: 2})
	if _, ok := c.get(a); !ok { // a is now the most recent
		t.Fatal("a missing")
	}
	c.put(cc, Result{Total: 3}) // evicts b
	if _, ok := c.get(b); ok {
		t.Error("b should have been evicted")
	}
	if r, ok := c.get(a); !ok || r.Total != 1 {
		t.Error("a evicted instead of b")
	}
	if r, ok := c.get(cc); !ok || r.Total != 3 {
		t.Error("c missing")
	}
	var off *resultCache = newResultCache(-1)
	off.put(a, Result{})
	if _, ok := off.get(a); ok {
		t.Error("disabled cache returned a result")
	}
}

func mustNormalize(t *testing.T, q Query) Query {
	t.Helper()
	n, err := q.normalize()
	if err != nil {
		t.Fatalf("normalize(%+v): %v", q, err)
	}
	return n
}

// Every field of Query is part of the cache key: changing any one of them,
// including a field added later, gives another key.
func TestCacheKeyCoversEveryField(t *testing.T) {
	base := Query{Text: "reset password", Lang: "en", Limit: 10}
	// A value per string field that passes validation; other string fields
	// get "x".
	strValues := map[string]string{"Text": "reset passwords", "Lang": "de"}
	key := mustNormalize(t, base)
	typ := reflect.TypeOf(base)
	for i := range typ.NumField() {
		f := typ.Field(i)
		other := base
		v := reflect.ValueOf(&other).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			s, ok := strValues[f.Name]
			if !ok {
				s = "x"
			}
			v.SetString(s)
		case reflect.Int:
			v.SetInt(v.Int() + 1)
		case reflect.Bool:
			v.SetBool(!v.Bool())
		case reflect.Float64:
			v.SetFloat(v.Float() + 0.25)
		default:
			t.Fatalf("Query.%s: no test value for a %s; add one here", f.Name, v.Kind())
		}
		if mustNormalize(t, other) == key {
			t.Errorf("changing Query.%s (%+v) keeps the cache key of %+v", f.Name, other, base)
		}
	}
}

func TestCacheKeySharedBySpellingsOfOneQuery(t *testing.T) {
	for _, c := range []struct{ a, b Query }{
		{Query{Text: "reset  password", Lang: "en", Limit: 10}, Query{Text: " reset\tpassword\n", Lang: "en", Limit: 10}},
		{Query{Text: "reset password", Lang: "EN"}, Query{Text: "reset password", Lang: "en", Limit: 10}},
		{Query{Text: "reset pass", Draft: true}, Query{Text: "reset ", Draft: true}},
		{Query{Text: "reset  pass ", Prefix: true}, Query{Text: "reset pass  ", Prefix: true}},
	} {
		if ka, kb := mustNormalize(t, c.a), mustNormalize(t, c.b); ka != kb {
			t.Errorf("%+v and %+v: keys differ: %+v vs %+v", c.a, c.b, ka, kb)
		}
	}
	// What spacing still means: a finished last word while typing, and case,
	// which "did you mean" repeats.
	for _, c := range []struct{ a, b Query }{
		{Query{Text: "reset pass", Prefix: true}, Query{Text: "reset pass ", Prefix: true}},
		{Query{Text: "Reset password"}, Query{Text: "reset password"}},
	} {
		if mustNormalize(t, c.a) == mustNormalize(t, c.b) {
			t.Errorf("%+v and %+v share a cache key", c.a, c.b)
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
