package search

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/cs"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"

	// Language analyzers register themselves with Bleve when imported.
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ar"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/cjk"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/da"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/de"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/en"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/es"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fa"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fi"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/fr"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/hi"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/hr"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/hu"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/it"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/nl"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/no"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/pt"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ro"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/ru"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/sv"
	_ "github.com/blevesearch/bleve/v2/analysis/lang/tr"
)

// MappingVersion changes whenever the mapping or the analysis changes, so
// that an index built by an older portal is rebuilt rather than misread.
const MappingVersion = 6

// Field names in the index.
const (
	fieldType        = "type"
	fieldLang        = "lang"
	fieldTitle       = "title"
	fieldTitleWords  = "title_words" // unstemmed, for as-you-type prefixes
	fieldDescription = "description"
	fieldTags        = "tags"
	fieldHeadings    = "headings"
	fieldBody        = "body"
	fieldSpell       = "spell" // unstemmed words, for "did you mean"
	fieldPairs       = "pairs" // consecutive analysed words, for phrases (pairs.go)
	fieldCategory    = "category"
	fieldTagKeys     = "tag_keys"
)

// fieldBoosts weigh a match per field. All are 1: on the development sets
// (docs/benchmarks.md, issue 13) weighing titles ×3, tags and descriptions
// ×2 and headings ×1.5 lifted covidfaq but cost Recall@5 and MRR on the
// tldr and Python FAQ sets, and a weight stays only if it helps on every
// set.
var fieldBoosts = []struct {
	name  string
	boost float64
}{
	{fieldTitle, 1},
	{fieldTags, 1},
	{fieldDescription, 1},
	{fieldHeadings, 1},
	{fieldBody, 1},
}

const (
	analyzerCzech   = "cs"
	analyzerGeneric = "generic"
)

// languageAnalyzers maps a base language to the Bleve analyzer that stems it.
// Languages not listed get analyzerGeneric: Unicode word splitting and
// lowercasing, no stemming and no stop words.
var languageAnalyzers = map[string]string{
	"ar": "ar", "cs": analyzerCzech, "da": "da", "de": "de", "en": "en", "es": "es", "fa": "fa",
	"fi": "fi", "fr": "fr", "hi": "hi", "hr": "hr", "hu": "hu", "it": "it", "nl": "nl",
	"no": "no", "nb": "no", "nn": "no", "pt": "pt", "ro": "ro", "ru": "ru", "sv": "sv", "tr": "tr",
	"zh": "cjk", "ja": "cjk", "ko": "cjk",
}

// field names the analysed field f of analyzer an's languages.
func field(an, f string) string { return an + "." + f }

// analyzerFor returns the analyzer used for articles and queries in lang.
func analyzerFor(lang string) string {
	base := lang
	for i, r := range lang {
		if r == '-' {
			base = lang[:i]
			break
		}
	}
	if a, ok := languageAnalyzers[base]; ok {
		return a
	}
	return analyzerGeneric
}

// allAnalyzers lists every analyzer a document type may use.
func allAnalyzers() []string {
	seen := map[string]bool{analyzerGeneric: true}
	out := []string{analyzerGeneric}
	for _, a := range languageAnalyzers {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// newMapping builds the explicit index mapping: one document type per
// analyzer, the same field names in each, and no default mapping, so nothing
// is indexed by accident.
func newMapping() (*mapping.IndexMappingImpl, error) {
	im := bleve.NewIndexMapping()
	im.ScoringModel = "bm25"
	im.TypeField = fieldType
	im.DefaultAnalyzer = analyzerGeneric
	im.DefaultMapping = bleve.NewDocumentDisabledMapping()
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false

	custom := customAnalyzers()
	for name, def := range custom {
		if err := im.AddCustomAnalyzer(name, def); err != nil {
			return nil, err
		}
	}
	for _, an := range allAnalyzers() {
		// The pairs analyzer of a custom analyzer carries its definition:
		// Bleve builds a mapping's custom analyzers in no set order, so it
		// may not be found by name yet.
		def := map[string]interface{}{"type": pairsAnalyzerType, "base": an}
		if c, ok := custom[an]; ok {
			def["base_def"] = c
		}
		if err := im.AddCustomAnalyzer(pairsAnalyzer(an), def); err != nil {
			return nil, err
		}
	}
	for _, an := range allAnalyzers() {
		dm := bleve.NewDocumentStaticMapping()
		text := func(analyzer string) *mapping.FieldMapping {
			f := bleve.NewTextFieldMapping()
			f.Analyzer = analyzer
			f.Store = false
			f.IncludeTermVectors = false
			f.IncludeInAll = false
			f.DocValues = false
			return f
		}
		kw := func() *mapping.FieldMapping {
			f := bleve.NewKeywordFieldMapping()
			f.Analyzer = keyword.Name
			f.Store = false
			f.IncludeInAll = false
			f.DocValues = true // facets read doc values
			return f
		}
		// The analysed text lives under a sub-document named after the
		// analyzer ("en.body", "de.body"), so each language has its own
		// term dictionary and statistics: a French stem never makes an
		// English typo look like a known word, and IDF is per language.
		sub := bleve.NewDocumentStaticMapping()
		for _, fb := range fieldBoosts {
			sub.AddFieldMappingsAt(fb.name, text(an))
		}
		sub.AddFieldMappingsAt(fieldSpell, text(analyzerGeneric))
		sub.AddFieldMappingsAt(fieldPairs, text(pairsAnalyzer(an)))
		sub.AddFieldMappingsAt(fieldTitleWords, text(analyzerGeneric))
		dm.AddSubDocumentMapping(an, sub)
		dm.AddFieldMappingsAt(fieldLang, kw())
		dm.AddFieldMappingsAt(fieldCategory, kw())
		dm.AddFieldMappingsAt(fieldTagKeys, kw())
		im.AddDocumentMapping(an, dm)
	}
	return im, im.Validate()
}

// customAnalyzers defines the analyzers Bleve does not ship.
func customAnalyzers() map[string]map[string]interface{} {
	return map[string]map[string]interface{}{
		analyzerGeneric: {
			"type":          custom.Name,
			"tokenizer":     unicode.Name,
			"token_filters": []interface{}{lowercase.Name},
		},
		analyzerCzech: {
			"type":          custom.Name,
			"tokenizer":     unicode.Name,
			"token_filters": []interface{}{lowercase.Name, cs.StopName, czechStemmerName},
		},
	}
}

// foldASCII strips diacritics, so that Czech typed without háčky and čárky
// still matches.
var foldASCII = asciifolding.New()
