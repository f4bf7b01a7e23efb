// Package langtag is the portal's one place for language tags: it normalises
// them, knows the default and the official support languages, matches an
// Accept-Language header against the languages on offer, and names a
// language in itself. It is built on golang.org/x/text/language and knows
// nothing of articles, tickets or HTTP.
package langtag

import (
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

// Default is the language used when nothing else fits: of an article that
// names none, of the portal's words for a reader whose language it lacks,
// and of the answer to a ticket that is not in an official language.
const Default = "en"

// official are the languages support answers in, in the order a language
// switcher lists them. A ticket in any other language is answered in
// English.
var official = []string{Default, "fr", "de", "cs"}

// Official returns the official support languages: en, fr, de, cs.
func Official() []string {
	return slices.Clone(official)
}

// IsOfficial reports whether code is one of the official languages itself
// ("de", not "de-CH"); IsOfficial(Base(code)) accepts their regional
// variants too.
func IsOfficial(code string) bool {
	return slices.Contains(official, code)
}

// Normalize turns "pt_BR", "PT-br" into "pt-BR" and reports whether the
// language is known: a two-letter ISO 639-1 code, optionally with a script
// and a region ("zh-Hant", "sr-Latn-RS"), and nothing more. A tag it does
// not know is returned trimmed, with false.
func Normalize(s string) (string, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(s, "_", "-"))
	if s == "" {
		return "", false
	}
	// Deprecated rather than the default canonicalization, whose legacy
	// mappings would turn Tagalog (tl) into Filipino (fil).
	t, err := language.Deprecated.Parse(s)
	if err != nil || len(t.Variants()) > 0 || len(t.Extensions()) > 0 {
		return s, false
	}
	// ISO 639-1 codes are the two-letter ones; the base must also be the
	// one written, not a replacement of a deprecated code ("iw" → "he").
	base, _, _ := t.Raw()
	written, _, _ := strings.Cut(s, "-")
	if len(written) != 2 || base.String() != strings.ToLower(written) {
		return s, false
	}
	return t.String(), true
}

// Base returns the language of a tag without its script or region:
// "pt-BR" → "pt".
func Base(tag string) string {
	n, _ := Normalize(tag)
	base, _, _ := strings.Cut(n, "-")
	return base
}

// Name returns a language's name in itself, its first letter in upper case
// as at the start of a list item: "English", "Deutsch", "Français",
// "Čeština", "Português europeu" (pt-PT). A language that x/text cannot
// name is returned as its code.
func Name(code string) string {
	t, err := language.Parse(code)
	if err != nil {
		return code
	}
	name := display.Self.Name(t)
	if name == "" {
		return code
	}
	first, size := utf8.DecodeRuneInString(name)
	return cases.Upper(t).String(string(first)) + name[size:]
}

// A Matcher chooses among a fixed list of languages the one an
// Accept-Language header prefers. It is safe for concurrent use.
type Matcher struct {
	supported []string
	matcher   language.Matcher
}

// NewMatcher returns a Matcher for the supported languages, normalised
// tags such as "en" or "pt-BR".
func NewMatcher(supported []string) *Matcher {
	tags := make([]language.Tag, len(supported))
	for i, l := range supported {
		tags[i] = language.Make(l)
	}
	return &Matcher{supported: slices.Clone(supported), matcher: language.NewMatcher(tags)}
}

// Match returns the supported language that an Accept-Language header
// prefers most, or "" if it accepts none of them. A range matches its own
// language or a regional variant of it ("de-CH" gives "de", "pt" gives
// "pt-BR"); higher q-values win, whatever the order; q=0 excludes a range;
// "*" alone names no language, so it gives "". Malformed ranges are
// skipped rather than spoiling the whole header.
func (m *Matcher) Match(acceptLanguage string) string {
	if len(m.supported) == 0 {
		return ""
	}
	type pref struct {
		tag language.Tag
		q   float32
	}
	var prefs []pref
	for _, part := range strings.Split(acceptLanguage, ",") {
		tags, qs, err := language.ParseAcceptLanguage(part)
		if err != nil {
			continue
		}
		for i := range tags {
			prefs = append(prefs, pref{tags[i], qs[i]})
		}
	}
	if len(prefs) == 0 {
		return ""
	}
	sort.SliceStable(prefs, func(i, j int) bool { return prefs[i].q > prefs[j].q })
	tags := make([]language.Tag, len(prefs))
	for i, p := range prefs {
		tags[i] = p.tag
	}
	// The matched tag may carry extensions (-u-rg-…); the index names the
	// supported language as it was given.
	_, index, conf := m.matcher.Match(tags...)
	if conf == language.No {
		return ""
	}
	return m.supported[index]
}
