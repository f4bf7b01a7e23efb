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
	rel := q.MinRelScore
	q.MinRelScore = 0 // applied here, over both languages' hits
	if f == "" {
		res, ok, err := ix.search(ctx, s, q)
		if err == nil && rel > 0 && len(res.Hits) > 0 {
			var cut int
			res.Hits, cut, _ = relFloor(res.Hits, rel*res.Hits[0].Score)
			res.BelowFloor += cut
			res.Total -= min(res.Total, uint64(cut))
		}
		return res, ok, err
	}
	window := q.Offset + q.Limit
	lq := q
	lq.Offset, lq.Limit = 0, window
	lq.Exclude = excludeIn(s.kb, q.Exclude, q.Lang)
	lres, lok, err := ix.search(ctx, s, lq)
	if err != nil {
		return Result{}, false, err
	}
	// Only then have all of L's hits been fetched, and F's may follow. A
	// coverage floor that left fewer than asked for means L has no more
	// good hits either (as far as a draft's search looks).
	allOfL := lres.Total <= uint64(window) || (q.MinCoverage > 0 && len(lres.Hits) < window)

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
	var lcut int
	if rel > 0 {
		// Hits far below the best of either language are not shown; L's
		// come by score, so once one is cut, the rest of L is too.
		best := 0.0
		if len(lres.Hits) > 0 {
			best = lres.Hits[0].Score
		}
		if len(fres.Hits) > 0 {
			best = max(best, fres.Hits[0].Score)
		}
		var fcut int
		var lout bool
		res.Hits, lcut, lout = relFloor(lres.Hits, rel*best)
		fres.Hits, fcut, _ = relFloor(fres.Hits, rel*best)
		allOfL = allOfL || lout
		res.BelowFloor += lcut + fcut
		lres.Total -= min(lres.Total, uint64(lcut))
		fres.Total -= min(fres.Total, uint64(fcut))
	}
	if lcut > 0 {
		// L's hits the floor cut are not shown: their translations in F
		// may be.
		clear(dropKeys)
		for _, h := range res.Hits {
			dropKeys[h.Article.TranslationKey] = true
		}
		if a, ok := s.kb.ByID(q.Exclude); ok {
			dropKeys[a.TranslationKey] = true
		}
		delete(dropKeys, "")
	}
	dropped := 0
	for _, h := range fres.Hits {
		if dropKeys[h.Article.TranslationKey] && h.Article.TranslationKey != "" {
			dropped++
			// A translation not shown is not counted in the facets either.
			uncount(fres.Categories, h.Article.Category)
			for _, t := range h.Article.Tags {
				uncount(fres.Tags, t)
			}
			continue
		}
		if allOfL {
			h.Fallback = true
			res.Hits = append(res.Hits, h)
		}
	}
	res.Total = lres.Total + fres.Total - min(fres.Total, uint64(dropped))
	res.BelowFloor += fres.BelowFloor
	res.Categories = s.categories.merge(nonZero(mergeFacets(lres.Categories, fres.Categories)), q.Lang)
	res.Tags = nonZero(mergeFacets(lres.Tags, fres.Tags))
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

// relFloor keeps the hits scoring at least least, in order, and says how
// many it cut and whether any were (then no later hit of that search
// passes).
func relFloor(hits []Hit, least float64) ([]Hit, int, bool) {
	out := hits[:0:0]
	for _, h := range hits {
		if h.Score >= least {
			out = append(out, h)
		}
	}
	cut := len(hits) - len(out)
	return out, cut, cut > 0
}

// uncount takes one article off the facet value named name.
func uncount(values []Facet, name string) {
	for i := range values {
		if values[i].Name == name && values[i].Count > 0 {
			values[i].Count--
			return
		}
	}
}

// nonZero leaves out the values no article is counted under.
func nonZero(values []Facet) []Facet {
	out := values[:0:0]
	for _, f := range values {
		if f.Count > 0 {
			out = append(out, f)
		}
	}
	return out
}
