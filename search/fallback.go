package search

import (
	"context"
	"sort"

	"github.com/orbitask/portal/kb"
)

// searchWithFallback runs q, and when q is in a language L whose fallback
// language F (kb.KB.Fallback) has articles, F's search too: the answer is
// L's hits, in their order, then F's hits whose translation is not among
// L's hits (marked Fallback), so that an article and its translation never
// both appear. Unless q.NoFallback: then L alone.
//
// Paging is over that merged list: each language is searched from the
// start to Offset+Limit (F a little further, by the hits it may drop), and
// the page is cut from the merge. F's hits show only once L has none left,
// and L's hits are then all in hand, so every page is a slice of the same
// list. Total is L's matches plus F's, less the F matches dropped; a drop
// is known only within what was fetched, so on pages still in L's hits
// Total may count a few F articles whose translation comes later in L.
// Facets add up both languages' counts; "did you mean" is L's.
func (ix *Index) searchWithFallback(ctx context.Context, s *state, q Query) (Result, bool, error) {
	f := fallbackOf(s.kb, q)
	if f == "" {
		return ix.search(ctx, s, q)
	}
	window := q.Offset + q.Limit
	lq := q
	lq.Offset, lq.Limit = 0, window
	lq.Exclude = excludeIn(s.kb, q.Exclude, q.Lang)
	lres, lok, err := ix.search(ctx, s, lq)
	if err != nil {
		return Result{}, false, err
	}
	// Only then have all of L's hits been fetched, and F's may follow.
	allOfL := lres.Total <= uint64(window)

	// The translations of L's hits, and of the article left out, are not
	// shown in F: dropKeys by translation key, and how many F articles
	// that may be, which F's search fetches in addition.
	dropKeys := map[string]bool{}
	extra := 0
	drop := func(a *kb.Article) {
		if a.TranslationKey == "" || dropKeys[a.TranslationKey] {
			return
		}
		dropKeys[a.TranslationKey] = true
		for _, t := range s.kb.Translations(a) {
			if t.Lang == f {
				extra++
			}
		}
	}
	for _, h := range lres.Hits {
		drop(h.Article)
	}
	if a, ok := s.kb.ByID(q.Exclude); ok {
		drop(a)
	}

	fq := lq
	fq.Lang, fq.Limit = f, window+extra
	fq.Exclude = excludeIn(s.kb, q.Exclude, f)
	fres, fok, err := ix.search(ctx, s, fq)
	if err != nil {
		return Result{}, false, err
	}

	res := lres
	res.Hits = lres.Hits
	dropped := 0
	for _, h := range fres.Hits {
		if dropKeys[h.Article.TranslationKey] && h.Article.TranslationKey != "" {
			dropped++
			continue
		}
		if allOfL {
			h.Fallback = true
			res.Hits = append(res.Hits, h)
		}
	}
	res.Total = lres.Total + fres.Total - min(fres.Total, uint64(dropped))
	res.BelowFloor = lres.BelowFloor + fres.BelowFloor
	res.Categories = mergeFacets(lres.Categories, fres.Categories)
	res.Tags = mergeFacets(lres.Tags, fres.Tags)
	res.Hits = page(res.Hits, q.Offset, q.Limit)
	return res, lok && fok, nil
}

// fallbackOf is the language whose hits follow q's, or "" for none: a
// search in every language, or asked for its own language alone, has none,
// and neither has a language that is its own fallback, or whose fallback
// has no articles.
func fallbackOf(k *kb.KB, q Query) string {
	if q.Lang == "" || q.NoFallback {
		return ""
	}
	f := k.Fallback(q.Lang)
	if f == q.Lang || !k.HasLang(f) {
		return ""
	}
	return f
}

// excludeIn is the article to leave out of lang's search: id if it is in
// lang, else none (which also keeps that search's Total whole).
func excludeIn(k *kb.KB, id, lang string) string {
	if a, ok := k.ByID(id); ok && a.Lang == lang {
		return id
	}
	return ""
}

// page cuts hits[offset:offset+limit], as far as there are hits.
func page(hits []Hit, offset, limit int) []Hit {
	if offset >= len(hits) {
		return nil
	}
	return hits[offset:min(len(hits), offset+limit)]
}

// mergeFacets adds up the counts of two facets' values, most first.
func mergeFacets(a, b []Facet) []Facet {
	if len(b) == 0 {
		return a
	}
	out := append([]Facet(nil), a...)
	at := map[string]int{}
	for i, f := range out {
		at[f.Name] = i
	}
	for _, f := range b {
		if i, ok := at[f.Name]; ok {
			out[i].Count += f.Count
			continue
		}
		at[f.Name] = len(out)
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}
