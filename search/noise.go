package search

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// noiseWords are the greetings, thanks and sign-offs that wrap a ticket
// draft. They say nothing about the problem, so a draft's search leaves them
// out (unless nothing else is left).
var noiseWords = map[string]string{
	"en": "hi hello hey dear greetings thanks thank thx regards kind best cheers sincerely please advance appreciate appreciated help anyone hope guys team morning afternoon evening",
	"de": "hallo liebe lieber sehr geehrte geehrter damen herren danke dank vielen grüße gruß gruss freundlichen beste bitte",
	"fr": "bonjour bonsoir salut madame monsieur cher chère merci remerciements cordialement salutations bien sincères bonne journée svp",
	"cs": "dobrý dobry den ahoj vážení vážený děkuji dekuji díky diky předem pozdravem zdravím prosím prosim",
}

// noiseTerms analyses the noise words of the languages that analyzer an
// serves.
func (ix *Index) noiseTerms(an string) map[string]bool {
	out := map[string]bool{}
	for lang, words := range noiseWords {
		if analyzerFor(lang) != an {
			continue
		}
		for _, t := range ix.terms(an, words) {
			out[t] = true
		}
	}
	return out
}

// Bounds on "did you mean": the candidates kept per unknown word, the
// corrections whose hits are counted, and the words of a query worth
// correcting at all (a longer text is a draft, not a mistyped query).
const (
	spellCandidates   = 3
	spellCombinations = 27
	spellMaxWords     = 12
)

// spellCandidate is an indexed word near an unknown one.
type spellCandidate struct {
	term  string
	dist  int
	count uint64 // articles containing it
}

// didYouMean replaces each word of text that no article of the analyzer's
// languages contains with an indexed word within one or two edits, and
// returns the result, or "" when there is nothing to correct. Of the
// combinations of the nearest candidates it picks the one whose words most
// articles contain together, then the closest, then the most common: the
// correction a visitor can click and find something with ("password reset"
// rather than "password resent").
func (ix *Index) didYouMean(s *state, reader index.IndexReader, an, text string, prefix bool) string {
	vocab, err := s.spell[an].get(reader)
	if err != nil {
		return ""
	}
	rc, ok := reader.(index.IndexReaderContains)
	if !ok {
		return ""
	}
	spell := field(an, fieldSpell)
	dict, err := rc.FieldDictContains(spell)
	if err != nil {
		return ""
	}
	words := strings.Fields(text)
	if len(words) > spellMaxWords {
		return ""
	}
	last := lastWord(text)
	var known []string // indexed words of the query, which every correction keeps
	var slots []int    // the positions in words of the words to correct
	var cands [][]spellCandidate
	combos := 1
	for i, raw := range words {
		toks := ix.terms(analyzerGeneric, raw)
		if len(toks) != 1 {
			for _, t := range toks {
				if ok, err := dict.Contains([]byte(t)); err == nil && ok {
					known = append(known, t)
				}
			}
			continue
		}
		w := toks[0]
		if ok, err := dict.Contains([]byte(w)); err == nil && ok {
			known = append(known, w)
			continue
		}
		n := utf8.RuneCountInString(w)
		if n < 4 || (prefix && i == len(words)-1 && w == last) {
			continue
		}
		// Once the combinations are used up (combos stays at most
		// spellCombinations), a word gets its best candidate only.
		c := nearWords(vocab, w, min(spellCandidates, spellCombinations/combos))
		if len(c) == 0 {
			continue
		}
		combos *= len(c)
		slots = append(slots, i)
		cands = append(cands, c)
	}
	if len(slots) == 0 {
		return ""
	}
	// Walk every combination (at most spellCombinations) and keep the best.
	type choice struct {
		pick       []int
		all, fixed int // articles with all the words; with the corrected ones
		dist       int
		count      uint64
	}
	better := func(a, b choice) bool {
		switch {
		case a.all != b.all:
			return a.all > b.all
		case a.fixed != b.fixed:
			return a.fixed > b.fixed
		case a.dist != b.dist:
			return a.dist < b.dist
		}
		return a.count > b.count
	}
	var best choice
	pick := make([]int, len(slots))
	for n := 0; n < combos; n++ {
		rest := n
		fixed := make([]string, len(slots))
		var c choice
		for j := range slots {
			pick[j] = rest % len(cands[j])
			rest /= len(cands[j])
			sc := cands[j][pick[j]]
			fixed[j] = sc.term
			c.dist += sc.dist
			c.count += sc.count
		}
		c.pick = append([]int(nil), pick...)
		c.fixed = ix.countAll(reader, spell, fixed)
		c.all = c.fixed
		if len(known) > 0 && c.fixed > 0 {
			c.all = ix.countAll(reader, spell, append(fixed, known...))
		}
		if n == 0 || better(c, best) {
			best = c
		}
	}
	for j, i := range slots {
		words[i] = cands[j][best.pick[j]].term
	}
	return strings.Join(words, " ")
}

// nearWords returns up to keep indexed words within one edit of w (two for
// a word of eight runes or more), the closest first, then the most common.
func nearWords(vocab *termDict, w string, keep int) []spellCandidate {
	var out []spellCandidate
	for _, n := range vocab.neighbours(w, maxFuzzy(runeLen(w)), keep) {
		out = append(out, spellCandidate{n.term, n.dist, uint64(n.freq)})
	}
	return out
}

// countAll counts the articles whose field contains every one of terms,
// without scoring them.
func (ix *Index) countAll(reader index.IndexReader, field string, terms []string) int {
	parts := make([]query.Query, len(terms))
	for i, t := range terms {
		tq := bleve.NewTermQuery(t)
		tq.SetField(field)
		parts[i] = tq
	}
	ctx := context.Background()
	sr, err := bleve.NewConjunctionQuery(parts...).Searcher(ctx, reader, ix.mapping, bsearch.SearcherOptions{Score: "none"})
	if err != nil {
		return 0
	}
	defer sr.Close()
	sctx := &bsearch.SearchContext{DocumentMatchPool: bsearch.NewDocumentMatchPool(sr.DocumentMatchPoolSize(), 0)}
	n := 0
	for dm, err := sr.Next(sctx); err == nil && dm != nil; dm, err = sr.Next(sctx) {
		n++
		sctx.DocumentMatchPool.Put(dm)
	}
	return n
}
