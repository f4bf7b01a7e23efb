package search

import (
	"math"
	"slices"

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
		if df := vocab.df(f); df > 0 {
			best = max(best, idf(df, docs))
		}
	}
	if best == 0 { // no article has any form: it counts neither way
		return
	}
	c.words = append(c.words, coverWord{forms, best})
	c.total += best
}

// coverSynonyms lets a word of the query that a synonym group stands for
// count as found in an article that has another of the group's one-word
// variants: "passcode" is covered by an article on passwords.
func (p *plan) coverSynonyms(an string, g synonymGroup, present map[string]bool, vocab *termDict, docs int) {
	var typed string
	var forms []string
	for _, v := range g {
		if len(v) != 1 {
			continue
		}
		forms = append(forms, v[0])
		if present[v[0]] && typed == "" {
			typed = v[0]
		}
	}
	if typed == "" || len(forms) < 2 {
		return
	}
	if c := p.cover[an]; c != nil {
		for i, w := range c.words {
			if slices.Contains(w.forms, typed) {
				for _, f := range forms {
					if !slices.Contains(w.forms, f) {
						c.words[i].forms = append(c.words[i].forms, f)
					}
				}
				return
			}
		}
	}
	p.addCover(an, forms, vocab, docs)
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
