package search

import (
	"sort"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/orbitask/portal/kb"
)

// categoryNames knows which categories are translations of one another, so
// that a search's category facet lists "E-mail" once, not once per
// language ("E-mail", "E-Mail"). The knowledge base has no category
// translations of its own; its articles' translations tell them: the
// category of an article's translation is, most often, the translation of
// the article's category.
type categoryNames struct {
	// canon maps, per language, each category name of the knowledge base
	// to the name in that language of the same category (itself when the
	// language has no counterpart). The key "" holds the names in the
	// language with the most articles, for searches over all languages.
	canon map[string]map[string]string
	// members lists, per language, the names that canon maps to a name.
	members map[string]map[string][]string
}

// newCategoryNames pairs the categories of k's articles with those of
// their translations.
func newCategoryNames(k *kb.KB) *categoryNames {
	byKey := map[string][]*kb.Article{}
	names := map[string]bool{}
	inLang := map[string]map[string]bool{}
	for _, a := range k.Articles {
		if a.Category == "" {
			continue
		}
		names[a.Category] = true
		if inLang[a.Lang] == nil {
			inLang[a.Lang] = map[string]bool{}
		}
		inLang[a.Lang][a.Category] = true
		if a.TranslationKey != "" {
			byKey[a.TranslationKey] = append(byKey[a.TranslationKey], a)
		}
	}
	// pairs counts, per category name and language, the translated
	// articles whose category in that language is each name.
	type nameLang struct{ name, lang string }
	pairs := map[nameLang]map[string]int{}
	for _, group := range byKey {
		for _, a := range group {
			for _, b := range group {
				if a.Lang == b.Lang || a.Category == b.Category {
					continue
				}
				nl := nameLang{a.Category, b.Lang}
				if pairs[nl] == nil {
					pairs[nl] = map[string]int{}
				}
				pairs[nl][b.Category]++
			}
		}
	}
	c := &categoryNames{canon: map[string]map[string]string{}, members: map[string]map[string][]string{}}
	langs := k.Languages()
	for i, lang := range langs {
		canon := map[string]string{}
		for name := range names {
			canon[name] = name
			if inLang[lang][name] {
				continue
			}
			// The most frequent counterpart; equal ones by name, so that
			// the choice is the same on every start.
			best, most := "", 0
			for other, n := range pairs[nameLang{name, lang}] {
				if n > most || (n == most && other < best) {
					best, most = other, n
				}
			}
			if best != "" {
				canon[name] = best
			}
		}
		members := map[string][]string{}
		for name, to := range canon {
			members[to] = append(members[to], name)
		}
		for _, m := range members {
			sort.Strings(m)
		}
		c.canon[lang], c.members[lang] = canon, members
		if i == 0 {
			c.canon[""], c.members[""] = canon, members
		}
	}
	return c
}

// name returns the name in lang of the category named name.
func (c *categoryNames) name(name, lang string) string {
	if to, ok := c.canon[lang][name]; ok {
		return to
	}
	return name
}

// merge sums the counts of the facet values that name one category and
// names each in lang; the most frequent first.
func (c *categoryNames) merge(values []Facet, lang string) []Facet {
	if len(values) < 2 {
		for i := range values {
			values[i].Name = c.name(values[i].Name, lang)
		}
		return values
	}
	at := map[string]int{}
	var out []Facet
	for _, f := range values {
		n := c.name(f.Name, lang)
		if i, ok := at[n]; ok {
			out[i].Count += f.Count
			continue
		}
		at[n] = len(out)
		out = append(out, Facet{Name: n, Count: f.Count})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}

// filter matches the articles of the category named name in any language:
// a facet's link names it in the search's language.
func (c *categoryNames) filter(name, lang string) query.Query {
	m := c.members[lang][c.name(name, lang)]
	if len(m) < 2 {
		return filterTerm(name, fieldCategory)
	}
	parts := make([]query.Query, len(m))
	for i, n := range m {
		parts[i] = filterTerm(n, fieldCategory)
	}
	return bleve.NewDisjunctionQuery(parts...)
}

// CategoryName returns the name in lang ("" for a search over every
// language) of the category named name, as the category facets of a search
// in lang name it: a results page marks the facet it filters on.
func (ix *Index) CategoryName(name, lang string) string {
	s := ix.acquire()
	defer s.release()
	if s.categories == nil {
		return name
	}
	return s.categories.name(name, lang)
}
