package search

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/orbitask/portal/kb"
)

func openFixture(t *testing.T) *Index {
	t.Helper()
	k, err := kb.Load("testdata/content")
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Problems) > 0 {
		t.Fatalf("fixture problems: %v", k.Problems)
	}
	ix, stats, err := Open(Config{Dir: t.TempDir()}, k)
	if err != nil {
		t.Fatal(err)
	}
	if !stats.Rebuilt {
		t.Fatal("a new directory must build the index")
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func ids(r Result) []string {
	var out []string
	for _, h := range r.Hits {
		out = append(out, h.Article.ID)
	}
	return out
}

func top(t *testing.T, ix *Index, q Query) Result {
	t.Helper()
	r, err := ix.Search(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSearchBehaviour is the shared behaviour suite: each case names the
// article that must come first.
func TestSearchBehaviour(t *testing.T) {
	ix := openFixture(t)
	cases := []struct {
		name string
		q    Query
		want string
	}{
		{"keywords", Query{Text: "forgotten password", Lang: "en"}, "en/reset-password"},
		{"word only in tags", Query{Text: "receipts", Lang: "en"}, "en/invoices"},
		{"stemming", Query{Text: "restoring backups", Lang: "en"}, "en/backup"},
		{"typo", Query{Text: "pasword reset", Lang: "en"}, "en/reset-password"},
		// The French stemmer makes "pasword" of "password"; that must not
		// make the English typo look like a known word.
		{"typo not masked by another language", Query{Text: "pasword", Lang: "en"}, "en/reset-password"},
		{"typo long word", Query{Text: "troubelshooting", Lang: "en"}, "en/slow"},
		{"synonym multi-word to single", Query{Text: "cannot sign in", Lang: "en"}, "en/cannot-login"},
		{"synonym single word", Query{Text: "where is my bill", Lang: "en"}, "en/invoices"},
		{"German stemming", Query{Text: "Passwörter zurücksetzen", Lang: "de"}, "de/reset-password"},
		{"French", Query{Text: "mot de passe oublié", Lang: "fr"}, "fr/reset-password"},
		{"Czech light stemmer", Query{Text: "zapomenutá hesla", Lang: "cs"}, "cs/reset-password"},
		{"Czech without diacritics", Query{Text: "zapomenute heslo", Lang: "cs"}, "cs/reset-password"},
		{"as-you-type prefix", Query{Text: "backu", Lang: "en", Prefix: true}, "en/backup"},
		{"whole ticket draft", Query{Lang: "en", Text: `Hello support team,

I hope you are well. Since this morning our pages are very slow: opening a
project takes 20 seconds and the background jobs queue keeps growing. We did
not change anything on the server.

Could you please help? Thanks in advance!

Kind regards,
Sophie Martin
Acme Ltd`}, "en/slow"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := top(t, ix, c.q)
			if len(r.Hits) == 0 || r.Hits[0].Article.ID != c.want {
				t.Errorf("Search(%q) = %v, want %s first", c.q.Text, ids(r), c.want)
			}
		})
	}
}

func TestLanguageFilterAndAllLanguages(t *testing.T) {
	ix := openFixture(t)
	r := top(t, ix, Query{Text: "password", Lang: "en"})
	for _, h := range r.Hits {
		if h.Article.Lang != "en" {
			t.Errorf("lang=en returned %s", h.Article.ID)
		}
	}
	r = top(t, ix, Query{Text: "Passwort"})
	if len(r.Hits) == 0 || r.Hits[0].Article.ID != "de/reset-password" {
		t.Errorf("no-language search for Passwort = %v", ids(r))
	}
}

func TestExactMatchBeatsFuzzy(t *testing.T) {
	ix := openFixture(t)
	// "login" is a real word here; the fuzzy neighbour must not outrank it.
	r := top(t, ix, Query{Text: "login", Lang: "en"})
	if len(r.Hits) == 0 || r.Hits[0].Article.ID != "en/cannot-login" {
		t.Fatalf("login = %v", ids(r))
	}
}

func TestSnippetMarksAndEscapes(t *testing.T) {
	ix := openFixture(t)
	r := top(t, ix, Query{Text: "invoice VAT", Lang: "en"})
	if len(r.Hits) == 0 {
		t.Fatal("no hits")
	}
	s := string(r.Hits[0].Snippet)
	if !strings.Contains(s, "<mark>VAT</mark>") || !strings.Contains(s, "<mark>Invoices</mark>") {
		t.Errorf("snippet lacks marks: %s", s)
	}
	if strings.Contains(s, "<tag>") || !strings.Contains(s, "&lt;tag&gt;") {
		t.Errorf("snippet does not escape article text: %s", s)
	}
}

func TestFacetsAndFilters(t *testing.T) {
	ix := openFixture(t)
	r := top(t, ix, Query{Text: "account password login", Lang: "en", Facets: true})
	var account int
	for _, f := range r.Categories {
		if f.Name == "Account" {
			account = f.Count
		}
	}
	if account != 2 {
		t.Errorf("category facet Account = %d, want 2 (facets %v)", account, r.Categories)
	}
	if len(r.Tags) == 0 {
		t.Error("no tag facet")
	}
	r = top(t, ix, Query{Text: "account password login", Lang: "en", Category: "Account", Tag: "login"})
	if len(r.Hits) != 1 || r.Hits[0].Article.ID != "en/cannot-login" {
		t.Errorf("filtered = %v, want only en/cannot-login", ids(r))
	}
}

func TestPagination(t *testing.T) {
	ix := openFixture(t)
	all := top(t, ix, Query{Text: "the account password backup invoices pages", Lang: "en", Limit: 10})
	if all.Total < 4 {
		t.Fatalf("total = %d", all.Total)
	}
	p2 := top(t, ix, Query{Text: "the account password backup invoices pages", Lang: "en", Limit: 2, Offset: 2})
	if len(p2.Hits) != 2 || p2.Hits[0].Article.ID != all.Hits[2].Article.ID {
		t.Errorf("page 2 = %v, want it to continue %v", ids(p2), ids(all))
	}
}

func TestDidYouMean(t *testing.T) {
	ix := openFixture(t)
	r := top(t, ix, Query{Text: "invocies", Lang: "en"})
	if r.DidYouMean != "invoices" {
		t.Errorf("did you mean = %q, want invoices", r.DidYouMean)
	}
	if r := top(t, ix, Query{Text: "invoices", Lang: "en"}); r.DidYouMean != "" {
		t.Errorf("correct query got a suggestion %q", r.DidYouMean)
	}
}

func TestRelatedExcludesItself(t *testing.T) {
	ix := openFixture(t)
	r := top(t, ix, Query{Text: "Reset a forgotten password account", Lang: "en", Exclude: "en/reset-password", Limit: 3})
	for _, h := range r.Hits {
		if h.Article.ID == "en/reset-password" {
			t.Fatal("the excluded article was returned")
		}
	}
}

func TestInvalidQueries(t *testing.T) {
	ix := openFixture(t)
	for _, q := range []Query{
		{Text: ""},
		{Text: "   "},
		{Text: "x", Limit: 101},
		{Text: "x", Limit: -1},
		{Text: "x", Offset: -1},
		{Text: "x", Lang: "xx"},
		{Text: strings.Repeat("a ", MaxTextBytes)},
		{Text: "\xff\xfe"},
	} {
		if _, err := ix.Search(context.Background(), q); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("Search(%.20q, limit %d, lang %q) err = %v, want ErrInvalidQuery", q.Text, q.Limit, q.Lang, err)
		}
	}
	// Only stop words: a valid query with no results, not an error.
	if r := top(t, ix, Query{Text: "the and of", Lang: "en"}); len(r.Hits) > 0 && r.Hits[0].Score <= 0 {
		t.Errorf("stop words: %v", ids(r))
	}
}

// TestRestartReusesIndex is the derived-data contract: same content and
// mapping → reuse; changed content, a missing meta file or a corrupt index →
// rebuild.
func TestRestartReusesIndex(t *testing.T) {
	content := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(content, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("en/a.md", "---\ntitle: Alpha\n---\nFirst article about alpacas.\n")
	data := t.TempDir()
	open := func() (*Index, OpenStats) {
		k, err := kb.Load(content)
		if err != nil {
			t.Fatal(err)
		}
		ix, st, err := Open(Config{Dir: data}, k)
		if err != nil {
			t.Fatal(err)
		}
		return ix, st
	}
	ix, st := open()
	ix.Close()
	if !st.Rebuilt {
		t.Fatal("first open did not build")
	}
	ix, st = open()
	if st.Rebuilt {
		t.Fatalf("unchanged content rebuilt the index: %s", st.Reason)
	}
	if r := top(t, ix, Query{Text: "alpacas", Lang: "en"}); len(r.Hits) != 1 {
		t.Fatalf("reused index: %v", ids(r))
	}
	// A second process (here: a second Open) must fail at once, not hang.
	k0, _ := kb.Load(content)
	if _, _, err := Open(Config{Dir: data}, k0); !errors.Is(err, ErrInUse) {
		t.Fatalf("second open: %v, want ErrInUse", err)
	}
	ix.Close()

	write("en/b.md", "---\ntitle: Beta\n---\nSecond article about llamas.\n")
	ix, st = open()
	if !st.Rebuilt || st.Reason != "content changed" {
		t.Fatalf("changed content: rebuilt=%v reason=%q", st.Rebuilt, st.Reason)
	}
	if r := top(t, ix, Query{Text: "llamas", Lang: "en"}); len(r.Hits) != 1 {
		t.Fatalf("rebuilt index misses new article: %v", ids(r))
	}
	ix.Close()

	// Corrupt the index files: the next start must rebuild, not fail.
	filepath.Walk(filepath.Join(liveGen(t, data), indexName), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			os.WriteFile(p, []byte("garbage"), 0o644)
		}
		return nil
	})
	ix, st = open()
	if !st.Rebuilt {
		t.Fatal("corrupt index was reused")
	}
	if r := top(t, ix, Query{Text: "llamas", Lang: "en"}); len(r.Hits) != 1 {
		t.Fatalf("after corruption: %v", ids(r))
	}
	ix.Close()
}

func TestCzechStemmer(t *testing.T) {
	for in, want := range map[string]string{
		"zapomenuté": "zapomenut",
		"zapomenutá": "zapomenut",
		"hesla":      "hesl",
		"heslo":      "hesl",
		"účet":       "účt",
		"stránkách":  "stránk",
		"stránky":    "stránk",
	} {
		if got := string(stemCzech([]rune(in))); got != want {
			t.Errorf("stemCzech(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestDraftCompletesUnfinishedWord: a draft's last word, while typed, stands
// for the words it may become; a finished one (known to the articles, or
// ended by a space or punctuation) is searched as it is.
func TestDraftCompletesUnfinishedWord(t *testing.T) {
	for in, want := range map[string]string{
		"cannot restore the backu":   "backu",
		"cannot restore the backup ": "",
		"cannot restore the backup.": "",
		"backu":                      "",
		"zapomenuté Hes":             "hes",
	} {
		if got := unfinishedWord(in); got != want {
			t.Errorf("unfinishedWord(%q) = %q, want %q", in, got, want)
		}
	}
	ix := openFixture(t)
	for _, text := range []string{"I need to restore my backu", "I need to restore my backup", "I need to restore my ba"} {
		r := top(t, ix, DraftQuery(text, "en", 5))
		if len(r.Hits) == 0 || r.Hits[0].Article.ID != "en/backup" || r.DidYouMean != "" {
			t.Errorf("draft %q = %v, did you mean %q", text, ids(r), r.DidYouMean)
		}
	}
}

// TestSnippetIsRenderedText: snippets are cut from the text the reader sees,
// escaped once, whatever the Markdown source looks like.
func TestSnippetIsRenderedText(t *testing.T) {
	dir := t.TempDir()
	src := "---\ntitle: Tags in messages\n---\n# Formatting\n\n" +
		"Use the `<b>` tag for **bold** text, or write &lt;b&gt; in a [message](https://example.com/m) &amp; its tag.\n"
	if err := os.MkdirAll(filepath.Join(dir, "en"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "en", "tags.md"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	k, err := kb.Load(dir)
	if err != nil || len(k.Problems) > 0 {
		t.Fatalf("load: %v %v", err, k.Problems)
	}
	ix, _, err := Open(Config{Dir: t.TempDir()}, k)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	r := top(t, ix, Query{Text: "bold tag", Lang: "en"})
	if len(r.Hits) != 1 {
		t.Fatalf("hits = %v", ids(r))
	}
	s := string(r.Hits[0].Snippet)
	want := "Formatting · Use the &lt;b&gt; <mark>tag</mark> for <mark>bold</mark> text, or write &lt;b&gt; in a message &amp; its <mark>tag</mark>."
	if s != want {
		t.Errorf("snippet:\n got %s\nwant %s", s, want)
	}
}

// TestNeighbours: typos within the edits a word's length allows find the
// word; the deletion hashes agree with the spellings they stand for.
func TestNeighbours(t *testing.T) {
	d := &termDict{pos: map[string]int32{}}
	for i, w := range []string{"password", "passwords", "backup", "restore", "webhook", "configuration"} {
		d.terms = append(d.terms, w)
		d.freq = append(d.freq, uint32(10-i))
	}
	sort.Strings(d.terms)
	for i, w := range d.terms {
		d.pos[w] = int32(i)
	}
	for typo, want := range map[string]string{
		"pasword": "password", "passwrod": "password", "pssword": "password", "passwodr": "password",
		"bakup": "backup", "restor": "restore", "webhok": "webhook", "configuraton": "configuration",
		"cnofiguratoin": "configuration", "psasword": "password",
	} {
		got := d.neighbours(typo, maxFuzzy(runeLen(typo)), 3)
		if len(got) == 0 || got[0].term != want {
			t.Errorf("neighbours(%q) = %v, want %s first", typo, got, want)
		}
	}
	for _, far := range []string{"pwd", "backpack", "webhooks2x", "xyzzy"} {
		if got := d.neighbours(far, maxFuzzy(runeLen(far)), 3); len(got) != 0 {
			t.Errorf("neighbours(%q) = %v, want none", far, got)
		}
	}
	var spellings []uint64
	forDeletions([]rune("abcd"), 2, func(h uint64) { spellings = append(spellings, h) })
	want := map[uint64]bool{}
	for _, s := range []string{"abcd", "bcd", "acd", "abd", "abc", "cd", "bd", "bc", "ad", "ac", "ab"} {
		forDeletions([]rune(s), 0, func(h uint64) { want[h] = true })
	}
	if len(spellings) != 11 {
		t.Fatalf("%d spellings of abcd, want 11", len(spellings))
	}
	for _, h := range spellings {
		if !want[h] {
			t.Errorf("hash %x is no spelling of abcd with up to two letters deleted", h)
		}
	}
}
