package search

import (
	"fmt"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/registry"
)

// Word pairs score short queries as phrases: a field of each article holds
// every two consecutive words of its title, description and text, as its
// language analyses them (stop words dropped, so "mot de passe" is the pair
// "mot pass"), and a short query's own pairs are looked up there. An
// article that says what the query says, in that order, ranks above one
// that has the same words scattered, or one of them only: the ordered
// window of Metzler and Croft's sequential dependence model, as a plain
// term look-up rather than positional phrase queries.

const pairsAnalyzerType = "portal_pairs"

// pairsAnalyzer is the name of the pairs analyzer of analyzer an.
func pairsAnalyzer(an string) string { return an + "_pairs" }

type pairs struct{ base analysis.Analyzer }

func (p pairs) Analyze(text []byte) analysis.TokenStream {
	toks := p.base.Analyze(text)
	if len(toks) < 2 {
		return nil
	}
	out := make(analysis.TokenStream, 0, len(toks)-1)
	for i := 1; i < len(toks); i++ {
		a, b := toks[i-1], toks[i]
		term := make([]byte, 0, len(a.Term)+1+len(b.Term))
		term = append(append(append(term, a.Term...), ' '), b.Term...)
		out = append(out, &analysis.Token{Term: term, Position: i, Start: a.Start, End: b.End, Type: analysis.Shingle})
	}
	return out
}

func init() {
	// Registering with Bleve's registry is how a custom analyzer type
	// becomes usable in a mapping; the registry is Bleve's, written once at
	// start.
	if err := registry.RegisterAnalyzer(pairsAnalyzerType, func(config map[string]interface{}, cache *registry.Cache) (analysis.Analyzer, error) {
		name, _ := config["base"].(string)
		var base analysis.Analyzer
		var err error
		if def, ok := config["base_def"].(map[string]interface{}); ok {
			base, err = custom.AnalyzerConstructor(def, cache)
		} else {
			base, err = cache.AnalyzerNamed(name)
		}
		if err != nil {
			return nil, fmt.Errorf("pairs of %q: %w", name, err)
		}
		return pairs{base}, nil
	}); err != nil {
		panic(err)
	}
}
