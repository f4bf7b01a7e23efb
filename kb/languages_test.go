package kb

import (
	"slices"
	"testing"
)

func TestFallback(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "en/a.md", "---\ntitle: A\n---\nOne.\n")
	k, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := k.Fallback("cs"); got != "en" {
		t.Errorf("without languages.yaml, Fallback(cs) = %q, want en", got)
	}
	write(t, dir, LanguagesFile, "# Swiss German readers read German first.\nfallback:\n  de-CH: de\n  cs: de\n")
	k2, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(k2.Problems) != 0 {
		t.Fatalf("problems: %v", k2.Problems)
	}
	for lang, want := range map[string]string{"de-ch": "de", "cs": "de", "de": "en", "fr": "en", "cs-cz": "de"} {
		if got := k2.Fallback(lang); got != want {
			t.Errorf("Fallback(%s) = %q, want %q", lang, got, want)
		}
	}
	if k2.Fingerprint == k.Fingerprint {
		t.Error("the fingerprint did not change with languages.yaml")
	}
}

// TestLanguagesProblems: each mistake in languages.yaml is reported with
// its line, and the entry is left out (that language falls back to the
// default) while the good entries stay.
func TestLanguagesProblems(t *testing.T) {
	cases := []struct {
		name, file string
		want       []string
		fallback   map[string]string // checked languages
	}{
		{"syntax", "fallback:\n  cs: en\n  de: [\n", []string{"languages.yaml:3: expected `fallback: {LANG: LANG, ...}`"}, map[string]string{"cs": "en"}},
		{"not a mapping", "- cs\n", []string{"languages.yaml:1: expected `fallback: {LANG: LANG, ...}`"}, nil},
		{"unknown setting", "fallbacks:\n  cs: de\n", []string{`languages.yaml:1: unknown setting "fallbacks" (the settings are: fallback)`}, map[string]string{"cs": "en"}},
		{"unknown language", "fallback:\n  cs: de\n  xx: en\n", []string{`languages.yaml:3: unknown language "xx"`}, map[string]string{"cs": "de"}},
		{"unknown fallback", "fallback:\n  cs: de\n  fr: klingon\n", []string{`languages.yaml:3: unknown fallback language "klingon" for fr`}, map[string]string{"cs": "de", "fr": "en"}},
		{"itself", "fallback:\n  fr: fr\n", []string{"languages.yaml:2: fr falls back to itself"}, map[string]string{"fr": "en"}},
		{"twice", "fallback:\n  fr: de\n  fr: cs\n", []string{"languages.yaml:3: "}, map[string]string{"fr": "de"}},
		{"cycle", "fallback:\n  sk: cs\n  cs: de\n  de: cs\n", []string{"languages.yaml:3: the fallbacks form a cycle: cs → de → cs"}, map[string]string{"cs": "en", "de": "en", "sk": "cs"}},
		{"long cycle", "fallback:\n  de: fr\n  fr: cs\n  cs: de\n", []string{"languages.yaml:4: the fallbacks form a cycle: cs → de → fr → cs"}, map[string]string{"cs": "en", "de": "en", "fr": "en"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "en/a.md", "---\ntitle: A\n---\nOne.\n")
			write(t, dir, LanguagesFile, c.file)
			k, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range k.Problems {
				got = append(got, p.String())
			}
			if len(got) != len(c.want) {
				t.Fatalf("problems = %q, want %d", got, len(c.want))
			}
			for i, w := range c.want {
				if !slices.ContainsFunc(got[i:i+1], func(g string) bool { return len(g) >= len(w) && g[:len(w)] == w }) {
					t.Errorf("problem %q, want one starting with %q", got[i], w)
				}
			}
			for lang, want := range c.fallback {
				if f := k.Fallback(lang); f != want {
					t.Errorf("Fallback(%s) = %q, want %q", lang, f, want)
				}
			}
			if _, ok := k.Get("en", "a"); !ok {
				t.Error("the article is not served: a problem of languages.yaml must not hold up the articles")
			}
		})
	}
}
