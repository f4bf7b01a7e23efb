package search

import (
	"slices"
	"testing"

	"github.com/orbitask/portal/kb"
)

// openBundled indexes the knowledge base the portal ships with.
func openBundled(t testing.TB) *Index {
	t.Helper()
	k, err := kb.Load("../content")
	if err != nil {
		t.Fatal(err)
	}
	ix, _, err := Open(Config{Dir: t.TempDir()}, k)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

// TestDidYouMeanMostResults: of the corrections one edit away ("reset",
// "resent", "resets" for "resett"), the one that finds articles together
// with the other words wins.
func TestDidYouMeanMostResults(t *testing.T) {
	ix := openBundled(t)
	cases := []struct{ text, lang, want string }{
		{"pasword resett", "en", "password reset"},
		{"Pasword resett!", "en", "password reset"},
		{"reset pasword", "en", "reset password"},
		{"password reset", "en", ""},
		{"how do I reset my password", "en", ""},
		{"Passwort zurücksetzn", "de", "Passwort zurücksetzen"},
	}
	for _, c := range cases {
		r := top(t, ix, Query{Text: c.text, Lang: c.lang})
		if r.DidYouMean != c.want {
			t.Errorf("%q (%s): did you mean %q, want %q", c.text, c.lang, r.DidYouMean, c.want)
		}
	}
}

func BenchmarkDidYouMean(b *testing.B) {
	ix := openBundled(b)
	s := ix.acquire()
	defer s.release()
	adv, err := s.idx.Advanced()
	if err != nil {
		b.Fatal(err)
	}
	reader, err := adv.Reader()
	if err != nil {
		b.Fatal(err)
	}
	defer reader.Close()
	for b.Loop() {
		if got := ix.didYouMean(s, reader, "en", "pasword resett for the acount", false); got != "password reset for the account" {
			b.Fatalf("got %q", got)
		}
	}
}

// TestTwoWordsAsPhrase: "mot de passe" typed in the search box scores as a
// phrase ("mot pass" once French drops "de"): the SMTP article, which says
// "mot de passe", ranks above the severity levels, which say "ce qui se
// passe"; without phrases it did not.
func TestTwoWordsAsPhrase(t *testing.T) {
	k, err := kb.Load("../content")
	if err != nil {
		t.Fatal(err)
	}
	rank := func(off []string) []string {
		ix, _, err := Open(Config{Dir: t.TempDir(), CacheSize: -1, Ranking: Ranking{Off: off}}, k)
		if err != nil {
			t.Fatal(err)
		}
		defer ix.Close()
		return ids(top(t, ix, Query{Text: "mot de passe", Lang: "fr", NoFallback: true}))
	}
	before := func(hits []string, a, b string) bool {
		ia, ib := slices.Index(hits, a), slices.Index(hits, b)
		return ia >= 0 && (ib < 0 || ia < ib)
	}
	const phrase, word = "fr/configure-outgoing-email", "fr/severity-levels"
	if hits := rank(nil); !before(hits, phrase, word) {
		t.Errorf("with phrases: %v, want %s before %s", hits, phrase, word)
	}
	if hits := rank([]string{FeaturePhrases}); before(hits, phrase, word) {
		t.Errorf("without phrases: %v; the test no longer shows what phrases do", hits)
	}
}
