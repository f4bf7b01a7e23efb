package search

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/orbitask/portal/kb"
)

// fallbackFixture is a knowledge base where twelve English articles and
// three German ones mention printers; two of the German ones translate
// English ones.
func fallbackFixture(t *testing.T, files map[string]string) *Index {
	t.Helper()
	dir := t.TempDir()
	put := func(name, body string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 12; i++ {
		put(fmt.Sprintf("en/printer-%d.md", i), fmt.Sprintf("---\ntitle: Printer problem %d\ntranslationKey: p%d\n---\nThe printer jams on page %d. %s\n", i, i, i, words(i)))
	}
	put("en/other.md", "---\ntitle: Invoices\n---\nWhere to find your invoices.\n")
	for i := 1; i <= 2; i++ {
		put(fmt.Sprintf("de/drucker-%d.md", i), fmt.Sprintf("---\ntitle: Druckerproblem %d\ntranslationKey: p%d\n---\nDer Printer klemmt auf Seite %d.\n", i, i, i))
	}
	put("de/drucker-nur.md", "---\ntitle: Printer im Netz\n---\nDer Printer ist im Netz nicht zu finden.\n")
	put("de/rechnung.md", "---\ntitle: Rechnungen\n---\nWo Sie Ihre Rechnungen finden.\n")
	put("fr/imprimante.md", "---\ntitle: Imprimante\ntranslationKey: p3\n---\nLe printer bloque.\n")
	for name, body := range files {
		put(name, body)
	}
	k, err := kb.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Problems) > 0 {
		t.Fatalf("fixture problems: %v", k.Problems)
	}
	ix, _, err := Open(Config{Dir: t.TempDir(), CacheSize: -1}, k)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// words makes the English articles' scores differ, so their order is the
// index's and not a tie.
func words(i int) string {
	out := ""
	for j := 0; j < i; j++ {
		out += "Paper tray. "
	}
	return out
}

func TestFallbackMerge(t *testing.T) {
	ix := fallbackFixture(t, nil)
	all := top(t, ix, Query{Text: "printer", Lang: "de", Limit: 50})
	got := ids(all)
	// The German articles first, then the English ones but the two the
	// German ones translate: 3 + 12 - 2.
	if len(got) != 13 || all.Total != 13 {
		t.Fatalf("hits %v, total %d; want 13 of each", got, all.Total)
	}
	for i, h := range all.Hits {
		if wantDE := i < 3; (h.Article.Lang == "de") != wantDE || h.Fallback == wantDE {
			t.Errorf("hit %d: %s fallback=%v; want the 3 German articles first, then English ones marked", i, h.Article.ID, h.Fallback)
		}
	}
	for _, id := range []string{"en/printer-1", "en/printer-2"} {
		if slices.Contains(got, id) {
			t.Errorf("%s is shown beside its German translation: %v", id, got)
		}
	}
	if !slices.Contains(got, "en/printer-3") {
		t.Errorf("en/printer-3 has no German translation and must be shown: %v", got)
	}
	if all.DidYouMean != "" {
		t.Errorf("did you mean %q for a known word", all.DidYouMean)
	}

	// Pages of the merged list: the same list, each hit once, the same Total.
	var paged []string
	for offset := 0; offset < 20; offset += 5 {
		r := top(t, ix, Query{Text: "printer", Lang: "de", Limit: 5, Offset: offset})
		if r.Total != 13 {
			t.Errorf("offset %d: total %d, want 13", offset, r.Total)
		}
		paged = append(paged, ids(r)...)
	}
	if !slices.Equal(paged, got) {
		t.Errorf("pages of 5 give %v\nwant %v", paged, got)
	}
	// A page within German's hits. Its Total may count an English article
	// whose German translation is a later hit (see searchWithFallback).
	if r := top(t, ix, Query{Text: "printer", Lang: "de", Limit: 2}); len(r.Hits) != 2 || r.Hits[0].Fallback || r.Hits[1].Fallback || r.Total < 13 || r.Total > 14 {
		t.Errorf("first page of 2: %v total %d", ids(r), r.Total)
	}

	// German alone.
	de := top(t, ix, Query{Text: "printer", Lang: "de", Limit: 50, NoFallback: true})
	if len(de.Hits) != 3 || de.Total != 3 {
		t.Errorf("NoFallback: %v total %d, want the 3 German articles", ids(de), de.Total)
	}
	// English has no fallback: English alone.
	if en := top(t, ix, Query{Text: "printer", Lang: "en", Limit: 50}); en.Total != 12 {
		t.Errorf("English: %v total %d, want 12", ids(en), en.Total)
	}
	// Every language: no fallback, every article.
	if every := top(t, ix, Query{Text: "printer", Limit: 50}); every.Total != 16 {
		t.Errorf("every language: total %d, want 16", every.Total)
	}
}

func TestFallbackExclude(t *testing.T) {
	ix := fallbackFixture(t, nil)
	// Leaving out a German article leaves out its English original too: the
	// related articles of a page never list the page itself.
	r := top(t, ix, Query{Text: "printer", Lang: "de", Limit: 50, Exclude: "de/drucker-1"})
	got := ids(r)
	if slices.Contains(got, "de/drucker-1") || slices.Contains(got, "en/printer-1") || slices.Contains(got, "en/printer-2") {
		t.Errorf("hits %v", got)
	}
	if len(got) != 12 || r.Total != 12 {
		t.Errorf("hits %v total %d, want 12 of each", got, r.Total)
	}
	// An English article left out of a German search.
	r = top(t, ix, Query{Text: "printer", Lang: "de", Limit: 50, Exclude: "en/printer-5"})
	if got := ids(r); slices.Contains(got, "en/printer-5") || len(got) != 12 || r.Total != 12 {
		t.Errorf("hits %v total %d, want 12 without en/printer-5", got, r.Total)
	}
}

func TestFallbackConfigured(t *testing.T) {
	ix := fallbackFixture(t, map[string]string{kb.LanguagesFile: "fallback:\n  de: fr\n  cs: de\n"})
	r := top(t, ix, Query{Text: "printer", Lang: "de", Limit: 50})
	got := ids(r)
	if !slices.Equal(got[:3:3], []string{got[0], got[1], got[2]}) || len(got) != 4 || got[3] != "fr/imprimante" || !r.Hits[3].Fallback {
		t.Errorf("German falling back to French: %v, want the 3 German articles then fr/imprimante", got)
	}
	// Czech falls back to German, which has its own articles.
	r = top(t, ix, Query{Text: "printer", Lang: "cs", Limit: 50})
	if got := ids(r); len(got) != 3 || r.Hits[0].Article.Lang != "de" || !r.Hits[0].Fallback {
		t.Errorf("Czech falling back to German: %v", got)
	}
	// Dutch, without articles, falls back to English.
	r = top(t, ix, Query{Text: "printer", Lang: "nl", Limit: 50})
	if r.Total != 12 || !r.Hits[0].Fallback {
		t.Errorf("Dutch: %v total %d, want the 12 English articles, marked", ids(r), r.Total)
	}
}
