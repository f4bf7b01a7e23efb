package search

import (
	"strings"
)

// NormalizeQuery is the analysed form of a customer's query, for grouping
// queries that mean the same ("printers" and "printer"): the terms the
// language's analyzer keeps (lowercased, stemmed, stop words dropped), in
// order, space-separated. With lang "" (all languages) a word any of the
// knowledge base's languages drops as a stop word is dropped, and the
// others are stemmed as its first language stems them. It is "" when
// nothing is left.
func (ix *Index) NormalizeQuery(lang, q string) string {
	if lang != "" {
		return strings.Join(ix.terms(analyzerFor(strings.ToLower(lang)), q), " ")
	}
	analyzers := ix.cur.Load().analyzers
	if len(analyzers) == 0 {
		return strings.Join(ix.terms(analyzerGeneric, q), " ")
	}
	// Tokens keep the position of their word through the filters, so a
	// position missing from one analyzer's output is a word it dropped.
	kept := map[int]int{}
	for _, an := range analyzers[1:] {
		seen := map[int]bool{}
		for _, t := range ix.tokens(an, q) {
			if !seen[t.Position] {
				seen[t.Position] = true
				kept[t.Position]++
			}
		}
	}
	var out []string
	for _, t := range ix.tokens(analyzers[0], q) {
		if kept[t.Position] == len(analyzers)-1 {
			out = append(out, string(t.Term))
		}
	}
	return strings.Join(out, " ")
}
