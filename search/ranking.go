package search

import (
	"fmt"
	"slices"
)

// DraftFloor is the least coverage (Hit.Coverage) of a suggestion shown
// beside a ticket draft, chosen on the development sets (docs/benchmarks.md):
// the right article of a draft has less than 5% of its information in 1% of
// covidfaq's drafts (the set closest to the floor), 0.10 would cost 0.04
// Recall@5 there, and a floor may cost at most 0.01.
const DraftFloor = 0.05

// DraftRelFloor is the least score, as a fraction of the best suggestion's,
// of a suggestion shown beside a ticket draft: on the development sets
// 0.10 costs at most 0.007 Recall@5 (covidfaq; none on the others) and
// leaves out a quarter to two thirds of a suggestion per draft that was
// wrong (docs/benchmarks.md).
const DraftRelFloor = 0.10

// Ranking features, each of which can be turned off to measure what it adds
// (cmd/relevance -off). A feature stays in the portal only if it helps on
// every development set and hurts none; title weights and the typed words
// against titles did not (docs/benchmarks.md) and were removed.
const (
	FeatureNoise    = "noise"    // greetings and sign-offs of drafts left out
	FeatureSynonyms = "synonyms" // the content tree's synonym groups
	FeatureFuzzy    = "fuzzy"    // unknown words matched within one or two edits
	FeaturePhrases  = "phrases"  // a short query's consecutive words, consecutive in the article
)

// Features lists every ranking feature by name.
var Features = []string{FeatureNoise, FeatureSynonyms, FeatureFuzzy, FeaturePhrases}

// Ranking selects the ranking features; the zero value is the portal's
// ranking.
type Ranking struct {
	Off []string // features turned off
}

// Validate reports an unknown feature name.
func (r Ranking) Validate() error {
	for _, f := range r.Off {
		if !slices.Contains(Features, f) {
			return fmt.Errorf("search: unknown ranking feature %q (known: %v)", f, Features)
		}
	}
	return nil
}

func (r Ranking) on(feature string) bool { return !slices.Contains(r.Off, feature) }
