package search

import (
	"sort"
	"strings"
	"unicode/utf8"

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

// noiseTerms analyses, with the analyzer as, the noise words of the
// languages that analyzer an serves.
func (ix *Index) noiseTerms(an, as string) map[string]bool {
	out := map[string]bool{}
	for lang, words := range noiseWords {
		if analyzerFor(lang) != an {
			continue
		}
		for _, t := range ix.terms(as, words) {
			out[t] = true
		}
	}
	return out
}

// didYouMean replaces each word of text that no article of the analyzer's
// languages contains with the closest, then most common, indexed word within
// one or two edits, and returns the result, or "" when there is nothing to
// correct.
func (ix *Index) didYouMean(reader index.IndexReader, an, text string, prefix bool) string {
	fz, ok := reader.(index.IndexReaderFuzzy)
	if !ok {
		return ""
	}
	rc, ok := reader.(index.IndexReaderContains)
	if !ok {
		return ""
	}
	dict, err := rc.FieldDictContains(field(an, fieldSpell))
	if err != nil {
		return ""
	}
	words := strings.Fields(text)
	if len(words) > 12 {
		return ""
	}
	last := lastWord(text)
	changed := false
	for i, raw := range words {
		w := strings.ToLower(strings.Trim(raw, `.,;:!?"'()[]{}`))
		n := utf8.RuneCountInString(w)
		if n < 4 || (prefix && i == len(words)-1 && w == last) {
			continue
		}
		if ok, err := dict.Contains([]byte(w)); err != nil || ok {
			continue
		}
		fuzz := 1
		if n >= 8 {
			fuzz = 2
		}
		fd, err := fz.FieldDictFuzzy(field(an, fieldSpell), w, fuzz, "")
		if err != nil {
			continue
		}
		type cand struct {
			term  string
			dist  int
			count uint64
		}
		var cands []cand
		for e, err := fd.Next(); err == nil && e != nil; e, err = fd.Next() {
			cands = append(cands, cand{e.Term, levenshtein(w, e.Term), e.Count})
		}
		fd.Close()
		if len(cands) == 0 {
			continue
		}
		// Closest first, then the most common.
		sort.SliceStable(cands, func(a, b int) bool {
			if cands[a].dist != cands[b].dist {
				return cands[a].dist < cands[b].dist
			}
			return cands[a].count > cands[b].count
		})
		words[i] = cands[0].term
		changed = true
	}
	if !changed {
		return ""
	}
	return strings.Join(words, " ")
}

// levenshtein counts the single-rune edits (insert, delete, substitute,
// transpose adjacent runes) that turn a into b.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
