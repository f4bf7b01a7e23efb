package search

import (
	"slices"
	"testing"
)

// TestCategoryFacetsMergeTranslations: on the bundled content, where the
// German e-mail article is in "E-Mail" and its English original in
// "E-mail", one facet counts both, named in the search's language, and
// filtering on it finds both.
func TestCategoryFacetsMergeTranslations(t *testing.T) {
	ix := openBundled(t)
	k := ix.KB()
	count := func(lang, category string) int {
		n := 0
		for _, a := range k.Articles {
			if (lang == "" || a.Lang == lang) && a.Category == category {
				n++
			}
		}
		return n
	}
	facet := func(r Result, name string) (Facet, bool) {
		for _, f := range r.Categories {
			if f.Name == name {
				return f, true
			}
		}
		return Facet{}, false
	}

	all := top(t, ix, Query{Text: "e-mail smtp", Facets: true, Limit: 100})
	if _, ok := facet(all, "E-Mail"); ok {
		t.Errorf("categories %v list the German name beside the English one", all.Categories)
	}
	email, ok := facet(all, "E-mail")
	if !ok {
		t.Fatalf("categories %v lack E-mail", all.Categories)
	}
	var inEmail int
	for _, h := range all.Hits {
		if h.Article.Category == "E-mail" || h.Article.Category == "E-Mail" {
			inEmail++
		}
	}
	if email.Count != inEmail || inEmail <= count("en", "E-mail") {
		t.Errorf("E-mail facet counts %d, the hits hold %d, of which English %d", email.Count, inEmail, count("en", "E-mail"))
	}
	seen := map[string]bool{}
	for _, f := range all.Categories {
		if seen[f.Name] {
			t.Errorf("category %q listed twice: %v", f.Name, all.Categories)
		}
		seen[f.Name] = true
	}
	// Over all languages the names are the English ones (the most articles).
	for _, de := range []string{"Konto & Anmeldung", "Fehlerbehebung", "Hilfe erhalten"} {
		if _, ok := facet(all, de); ok {
			t.Errorf("categories %v name a category in German", all.Categories)
		}
	}

	// The facet's link filters on its name: every language's articles of it.
	for _, name := range []string{"E-mail", "E-Mail"} {
		r := top(t, ix, Query{Text: "e-mail smtp", Category: name, Limit: 100})
		langs := map[string]bool{}
		for _, h := range r.Hits {
			if h.Article.Category != "E-mail" && h.Article.Category != "E-Mail" {
				t.Errorf("category %s: hit %s in %q", name, h.Article.ID, h.Article.Category)
			}
			langs[h.Article.Lang] = true
		}
		if !langs["en"] || !langs["de"] {
			t.Errorf("category %s: languages %v, want English and German", name, langs)
		}
	}

	// In German, the English name maps to the German one.
	de := top(t, ix, Query{Text: "passwort e-mail", Lang: "de", Facets: true})
	if _, ok := facet(de, "Konto & Anmeldung"); !ok {
		t.Errorf("German categories %v", de.Categories)
	}
	c := newCategoryNames(k)
	for _, tc := range []struct{ name, lang, want string }{
		{"E-mail", "de", "E-Mail"},
		{"E-Mail", "en", "E-mail"},
		{"E-Mail", "", "E-mail"},
		{"Troubleshooting", "cs", "Řešení problémů"},
		{"Konto & Anmeldung", "fr", "Compte et connexion"},
		{"Billing", "de", "Billing"}, // no German counterpart
	} {
		if got := c.name(tc.name, tc.lang); got != tc.want {
			t.Errorf("%q in %s = %q, want %q", tc.name, tc.lang, got, tc.want)
		}
	}
	if m := c.members["de"]["E-Mail"]; !slices.Equal(m, []string{"E-Mail", "E-mail"}) {
		t.Errorf("members of E-Mail in German = %v", m)
	}
}
