package search

import (
	"math"

	"github.com/orbitask/portal/kb"
)

// coverage is the share of the query's information an article has: the
// IDF-weighted fraction of the query's words (noise words left out) found
// in it. A word the articles lack but that stands for known ones (a typo's
// neighbours, a word being typed and its completions) counts as found when
// the article has any of them, weighed as the rarest of them. Words no
// article has and that stand for nothing count neither way: no article
// could have them.
//
// Unlike a BM25 score it is comparable across queries, so it can decide
// whether a suggestion is good enough to show (Query.MinCoverage).
type coverage struct {
	words []coverWord
	total float64
}

type coverWord struct {
	forms []string // the word's analysed term, or the known terms it stands for
	idf   float64
}

func (p *plan) coverage(an string) *coverage {
	if c, ok := p.cover[an]; ok {
		return c
	}
	return nil
}

// addCover records one word of the query for coverage.
func (p *plan) addCover(an string, forms []string, vocab *termDict, docs int) {
	if vocab == nil || len(forms) == 0 {
		return
	}
	c := p.cover[an]
	if c == nil {
		c = &coverage{}
		p.cover[an] = c
	}
	best := 0.0
	for _, f := range forms {
		best = max(best, idf(vocab.df(f), docs))
	}
	c.words = append(c.words, coverWord{forms, best})
	c.total += best
}

// idf is BM25's inverse document frequency of a term in df of n articles.
func idf(df uint32, n int) float64 {
	return math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
}

// of returns the coverage, 0..1, of an article whose terms are has.
func (c *coverage) of(has map[string]bool) float64 {
	if c == nil || c.total == 0 {
		return 0
	}
	found := 0.0
	for _, w := range c.words {
		for _, f := range w.forms {
			if has[f] {
				found += w.idf
				break
			}
		}
	}
	return found / c.total
}

// articleTerms returns the analysed terms of a's searched fields, read once
// per generation.
func (ix *Index) articleTerms(s *state, a *kb.Article, an string) map[string]bool {
	if v, ok := s.terms.Load(a.ID); ok {
		return v.(map[string]bool)
	}
	doc := document(a)[an].(map[string]interface{})
	has := map[string]bool{}
	for _, fb := range fieldBoosts {
		for _, t := range ix.terms(an, doc[fb.name].(string)) {
			has[t] = true
		}
	}
	s.terms.Store(a.ID, has)
	return has
}
