package search

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// kbIndex opens an index over the files given, cache as asked.
func kbIndex(t *testing.T, files map[string]string, cfg Config) *Index {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k, err := kb.Load(dir)
	if err != nil || len(k.Problems) > 0 {
		t.Fatalf("load: %v %v", err, k.Problems)
	}
	cfg.Dir = t.TempDir()
	ix, _, err := Open(cfg, k)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// TestWarmedFallback: a warmed search in a language has its fallback hits,
// as the same search unwarmed has.
func TestWarmedFallback(t *testing.T) {
	files := map[string]string{
		"en/hook.md": "---\ntitle: Webhooks\n---\nWebhook deliveries and retries.\n",
		"de/a.md":    "---\ntitle: Webhook Grundlagen\n---\nEin Webhook sendet Ereignisse.\n",
	}
	q := Query{Text: "webhook", Lang: "de", Limit: 10}
	cold := top(t, kbIndex(t, files, Config{CacheSize: -1}), q)
	ix := kbIndex(t, files, Config{Warm: func(context.Context) []Query { return []Query{q} }})
	warm := top(t, ix, q)
	if ix.CacheHits() != 1 {
		t.Fatalf("not answered from the warmed cache: %d hits", ix.CacheHits())
	}
	if got, want := ids(warm), ids(cold); !slices.Equal(got, want) || warm.Total != cold.Total || len(want) != 2 {
		t.Fatalf("warmed %v (total %d), unwarmed %v (total %d)", got, warm.Total, want, cold.Total)
	}
}

// TestFloorShowsTranslationOfCutHit: a first-language hit the relative floor
// cuts does not hide its strong translation in the fallback language.
func TestFloorShowsTranslationOfCutHit(t *testing.T) {
	long := strings.Repeat("Dieser Artikel beschreibt viele Dinge rund um Ereignisse und Zustellung. ", 60)
	ix := kbIndex(t, map[string]string{
		"en/hook.md": "---\ntitle: Webhook delivery failing\ntranslationKey: hook\n---\nWhen webhook delivery is failing, check the endpoint.\n",
		"de/hook.md": "---\ntitle: Ereignisse\ntranslationKey: hook\n---\n" + long + " Webhook.\n",
		"de/a.md":    "---\ntitle: Webhook delivery\n---\nWebhook delivery failing webhook.\n",
	}, Config{CacheSize: -1})
	r := top(t, ix, DraftQuery("webhook delivery failing", "de", 5))
	if !slices.Contains(ids(r), "en/hook") || slices.Contains(ids(r), "de/hook") {
		t.Fatalf("draft = %v (below floor %d): want en/hook, not its cut translation", ids(r), r.BelowFloor)
	}
}

// TestCoverageFloorLetsFallbackIn: when the coverage floor leaves a large
// first language with fewer good hits than asked for, the fallback's
// follow.
func TestCoverageFloorLetsFallbackIn(t *testing.T) {
	files := map[string]string{
		"en/hook.md": "---\ntitle: Webhook delivery\n---\nWebhook Zustellung Update.\n",
	}
	for i := 0; i < 40; i++ {
		files[fmt.Sprintf("de/u%02d.md", i)] = fmt.Sprintf("---\ntitle: Artikel %d\n---\nNach dem Update %s.\n", i, words(i))
	}
	files["de/z.md"] = "---\ntitle: Zustellung\n---\nDie Zustellung von Nachrichten nach dem Update.\n"
	ix := kbIndex(t, files, Config{CacheSize: -1})
	r := top(t, ix, DraftQuery("Webhook Zustellung kommt nicht an nach dem Update", "de", 5))
	if !slices.Contains(ids(r), "en/hook") {
		t.Fatalf("draft = %v (total %d, below floor %d): the English article is missing", ids(r), r.Total, r.BelowFloor)
	}
}

// TestDraftCoversSynonyms: a draft's word that a synonym of an article's
// word stands for counts as covered, so the floor keeps the article.
func TestDraftCoversSynonyms(t *testing.T) {
	ix := kbIndex(t, map[string]string{
		"synonyms.yaml": "en:\n  - [password, passcode]\n",
		"en/pw.md":      "---\ntitle: Reset your password\n---\nChoose a new password from the sign-in page.\n",
		"en/inv.md":     "---\ntitle: Invoices\n---\nIf you forgot where invoices are, open Billing.\n",
	}, Config{CacheSize: -1})
	for _, text := range []string{"passcode ", "I forgot my passcode "} {
		r := top(t, ix, DraftQuery(text, "en", 5))
		if !slices.Contains(ids(r), "en/pw") {
			t.Errorf("draft %q = %v (below floor %d), want en/pw shown", text, ids(r), r.BelowFloor)
		}
	}
}
