package search

import (
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
