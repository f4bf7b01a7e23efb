package search

import (
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/registry"
)

// Bleve ships only Czech stop words. This is the light stemmer of Dolamic &
// Savoy ("Indexing and stemming approaches for the Czech language", 2009), as
// used by Lucene's CzechStemmer: it strips case endings and possessive
// suffixes and normalises a few consonant alternations. It is deliberately
// light: recall improves without conflating unrelated words.

const czechStemmerName = "stem_cs_light"

type czechStemmer struct{}

func (czechStemmer) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		r := []rune(string(t.Term))
		// Folding after stemming: the stemmer needs the diacritics to find
		// endings, customers often type without them.
		t.Term = foldASCII.Filter([]byte(string(stemCzech(r))))
	}
	return input
}

func stemCzech(s []rune) []rune {
	n := czechRemoveCase(s, len(s))
	n = czechRemovePossessives(s, n)
	if n > 0 {
		n = czechNormalize(s, n)
	}
	return s[:n]
}

func endsWith(s []rune, n int, suffix string) bool {
	suf := []rune(suffix)
	if len(suf) > n {
		return false
	}
	for i := range suf {
		if s[n-len(suf)+i] != suf[i] {
			return false
		}
	}
	return true
}

func endsWithAny(s []rune, n int, suffixes ...string) bool {
	for _, x := range suffixes {
		if endsWith(s, n, x) {
			return true
		}
	}
	return false
}

func czechRemoveCase(s []rune, n int) int {
	switch {
	case n > 7 && endsWith(s, n, "atech"):
		return n - 5
	case n > 6 && endsWithAny(s, n, "ětem", "etem", "atům"):
		return n - 4
	case n > 5 && endsWithAny(s, n, "ech", "ich", "ích", "ého", "ěmi", "emi", "ému", "ěte", "ete", "ěti", "eti",
		"ího", "iho", "ími", "ímu", "imu", "ách", "ata", "aty", "ých", "ama", "ami", "ové", "ovi", "ými"):
		return n - 3
	case n > 4 && endsWithAny(s, n, "em", "es", "ém", "ím", "ům", "at", "ám", "os", "us", "ým", "mi", "ou"):
		return n - 2
	case n > 3:
		switch s[n-1] {
		case 'a', 'e', 'i', 'o', 'u', 'ů', 'y', 'á', 'é', 'í', 'ý', 'ě':
			return n - 1
		}
	}
	return n
}

func czechRemovePossessives(s []rune, n int) int {
	if n > 5 && endsWithAny(s, n, "ov", "in", "ův") {
		return n - 2
	}
	return n
}

func czechNormalize(s []rune, n int) int {
	if endsWith(s, n, "čt") {
		s[n-2], s[n-1] = 'c', 'k'
		return n
	}
	if endsWith(s, n, "št") {
		s[n-2], s[n-1] = 's', 'k'
		return n
	}
	switch s[n-1] {
	case 'c', 'č':
		s[n-1] = 'k'
		return n
	case 'z', 'ž':
		s[n-1] = 'h'
		return n
	}
	if n > 1 && s[n-2] == 'e' {
		s[n-2] = s[n-1]
		return n - 1
	}
	if n > 2 && s[n-2] == 'ů' {
		s[n-2] = 'o'
		return n
	}
	return n
}

func init() {
	// Registering with Bleve's registry is how custom filters become usable in
	// a mapping; the registry is Bleve's, written once at start.
	if err := registry.RegisterTokenFilter(czechStemmerName, func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
		return czechStemmer{}, nil
	}); err != nil {
		panic(err)
	}
}
