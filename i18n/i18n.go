// Package i18n holds the portal's words in its four official languages
// (English, French, German, Czech) and picks a language for a reader.
//
// The words live in locales/LANG.yaml, embedded in the binary. Keys are
// dotted paths of the YAML maps ("ticket.reply.send"). A message may name
// placeholders in braces ("Ticket #{number}"), filled from key/value
// arguments. A map of "one", "few" and "other" is a plural message: its forms
// ("one", "few", "other") are chosen by the "count" argument with the
// language's rules. A key ending in _html holds markup; whoever renders it
// escapes the arguments. English is the reference: Load refuses a locale
// that lacks one of its keys, has another, or names other placeholders.
//
// The package knows nothing of HTTP; the web layer and the e-mail channel
// both use it.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/orbitask/portal/langtag"
)

//go:embed locales/*.yaml
var localeFS embed.FS

// languages are the supported languages, the official ones, in the order a
// switcher lists them. The first, langtag.Default (English), is the
// reference, and the fallback when nothing else fits.
var languages = langtag.Official()

// CountArg is the argument that chooses a plural message's form.
const CountArg = "count"

// message is one entry of a locale: a text, or plural forms by category.
type message struct {
	text  string
	forms map[string]string // nil unless plural
}

// Bundle is every locale, parsed and checked. It is immutable and safe for
// concurrent use.
type Bundle struct {
	messages map[string]map[string]message // lang → key → message
	matcher  *langtag.Matcher
}

// Load parses and checks the embedded locales.
func Load() (*Bundle, error) {
	return load(localeFS)
}

func load(fsys fs.FS) (*Bundle, error) {
	b := &Bundle{messages: map[string]map[string]message{}}
	for _, lang := range languages {
		// A language's words are LANG.yaml and any LANG.PART.yaml beside
		// it (one part per feature), merged; a key may be in one file only.
		parts, err := fs.Glob(fsys, "locales/"+lang+".*.yaml")
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		msgs := map[string]message{}
		for _, file := range append([]string{"locales/" + lang + ".yaml"}, parts...) {
			data, err := fs.ReadFile(fsys, file)
			if err != nil {
				return nil, fmt.Errorf("i18n: %w", err)
			}
			var root map[string]any
			if err := yaml.Unmarshal(data, &root); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", file, err)
			}
			part := map[string]message{}
			if err := flatten(lang, "", root, part); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", file, err)
			}
			for k, m := range part {
				if _, dup := msgs[k]; dup {
					return nil, fmt.Errorf("i18n: %s: key %s is also in another file of %s", file, k, lang)
				}
				msgs[k] = m
			}
		}
		b.messages[lang] = msgs
	}
	if err := b.check(); err != nil {
		return nil, err
	}
	b.matcher = langtag.NewMatcher(languages)
	return b, nil
}

// flatten adds the messages under node to out, keyed by their dotted path.
func flatten(lang, prefix string, node map[string]any, out map[string]message) error {
	for k, v := range node {
		key := prefix + k
		switch v := v.(type) {
		case string:
			out[key] = message{text: v}
		case map[string]any:
			if !isPlural(v) {
				if err := flatten(lang, key+".", v, out); err != nil {
					return err
				}
				continue
			}
			forms := map[string]string{}
			for form, text := range v {
				s, ok := text.(string)
				if !ok {
					return fmt.Errorf("%s.%s: a plural form must be text", key, form)
				}
				forms[form] = s
			}
			if want, got := pluralForms(lang), sortedKeys(forms); !slices.Equal(want, got) {
				return fmt.Errorf("%s: plural forms %v, want %v", key, got, want)
			}
			out[key] = message{forms: forms}
		default:
			return fmt.Errorf("%s: want text or a map, got %T", key, v)
		}
	}
	return nil
}

// isPlural reports whether a map is a plural message: an "other" form,
// and no key that is not a plural category.
func isPlural(m map[string]any) bool {
	if _, ok := m["other"]; !ok {
		return false
	}
	for k := range m {
		switch k {
		case "zero", "one", "two", "few", "many", "other":
		default:
			return false
		}
	}
	return true
}

// check compares every locale with English: the same keys, plural where
// English is plural, and the same placeholders.
func (b *Bundle) check() error {
	en := b.messages[langtag.Default]
	for _, lang := range languages[1:] {
		file := "locales/" + lang + ".yaml"
		msgs := b.messages[lang]
		for _, key := range sortedKeys(en) {
			m, ok := msgs[key]
			if !ok {
				return fmt.Errorf("i18n: %s: missing key %s", file, key)
			}
			if (m.forms == nil) != (en[key].forms == nil) {
				return fmt.Errorf("i18n: %s: %s: plural in one language only", file, key)
			}
			if want, got := en[key].placeholders(), m.placeholders(); !slices.Equal(want, got) {
				return fmt.Errorf("i18n: %s: %s: placeholders %v, want %v as in en", file, key, got, want)
			}
		}
		for _, key := range sortedKeys(msgs) {
			if _, ok := en[key]; !ok {
				return fmt.Errorf("i18n: %s: extra key %s (not in en)", file, key)
			}
		}
	}
	return nil
}

var placeholder = regexp.MustCompile(`\{([a-z_][a-z0-9_]*)\}`)

// placeholders lists the names a message uses, in all its forms; the
// count of a plural message is always available, named or not.
func (m message) placeholders() []string {
	seen := map[string]bool{}
	texts := []string{m.text}
	if m.forms != nil {
		seen[CountArg] = true
		texts = nil
		for _, t := range m.forms {
			texts = append(texts, t)
		}
	}
	for _, t := range texts {
		for _, sub := range placeholder.FindAllStringSubmatch(t, -1) {
			seen[sub[1]] = true
		}
	}
	return sortedKeys(seen)
}

// Languages returns the supported languages: en, fr, de, cs.
func (b *Bundle) Languages() []string {
	return slices.Clone(languages)
}

// Has reports whether lang is a supported language.
func (b *Bundle) Has(lang string) bool {
	_, ok := b.messages[lang]
	return ok
}

// T returns the message key in lang with its placeholders filled from args,
// given as name/value pairs ("number", 1001). An unknown language falls
// back to English; an unknown key is returned as it is, so that it shows.
func (b *Bundle) T(lang, key string, args ...any) string {
	msgs, ok := b.messages[lang]
	if !ok {
		lang, msgs = langtag.Default, b.messages[langtag.Default]
	}
	m, ok := msgs[key]
	if !ok {
		return key
	}
	text := m.text
	if m.forms != nil {
		text = m.forms[pluralCategory(lang, countOf(args))]
	}
	if len(args) < 2 || !strings.Contains(text, "{") {
		return text
	}
	return placeholder.ReplaceAllStringFunc(text, func(p string) string {
		name := p[1 : len(p)-1]
		for i := 0; i+1 < len(args); i += 2 {
			if args[i] == name {
				return fmt.Sprint(args[i+1])
			}
		}
		return p
	})
}

// Strings returns the messages of lang whose keys start with prefix, for a
// page's script. A plural message appears once per form, as KEY.FORM
// ("search.instant.count.one"); the script picks the form with
// Intl.PluralRules, falling back to "other".
func (b *Bundle) Strings(lang, prefix string) map[string]string {
	msgs, ok := b.messages[lang]
	if !ok {
		msgs = b.messages[langtag.Default]
	}
	out := map[string]string{}
	for key, m := range msgs {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		if m.forms == nil {
			out[key] = m.text
			continue
		}
		for form, text := range m.forms {
			out[key+"."+form] = text
		}
	}
	return out
}

// Match returns the supported language that an Accept-Language header
// prefers most ("de-AT" gives "de"), or "" if it accepts none of them. A
// range with q=0 is excluded; "*" alone names no language, so it gives "".
// Malformed ranges are skipped rather than spoiling the whole header.
func (b *Bundle) Match(acceptLanguage string) string {
	return b.matcher.Match(acceptLanguage)
}

// Date writes a day in lang: "28 September 2026", "28. září 2026".
func (b *Bundle) Date(lang string, t time.Time) string {
	return b.T(lang, "date.long", "day", t.Day(), "month", b.T(lang, fmt.Sprintf("date.month.%d", t.Month())), "year", t.Year())
}

// DateTimeUTC writes a moment in UTC in lang: "28 September 2026, 14:05 UTC".
func (b *Bundle) DateTimeUTC(lang string, t time.Time) string {
	t = t.UTC()
	return b.T(lang, "date.time_utc", "date", b.Date(lang, t), "time", t.Format("15:04"))
}

// WeekdayDateTimeUTC is DateTimeUTC with the day of the week first, for
// deadlines: "Monday 28 September 2026, 14:05 UTC".
func (b *Bundle) WeekdayDateTimeUTC(lang string, t time.Time) string {
	t = t.UTC()
	return b.T(lang, "date.with_weekday", "weekday", b.T(lang, fmt.Sprintf("date.weekday.%d", t.Weekday())),
		"datetime", b.DateTimeUTC(lang, t))
}

// pluralForms are the forms a plural message has in lang, sorted.
func pluralForms(lang string) []string {
	if lang == "cs" {
		return []string{"few", "one", "other"}
	}
	return []string{"one", "other"}
}

// pluralCategory is the form of a plural message for n in lang, after the
// CLDR rules for whole numbers: French treats 0 as singular, Czech has a
// form for 2 to 4.
func pluralCategory(lang string, n int64) string {
	switch lang {
	case "fr":
		if n == 0 || n == 1 {
			return "one"
		}
	case "cs":
		switch {
		case n == 1:
			return "one"
		case n >= 2 && n <= 4:
			return "few"
		}
	default:
		if n == 1 {
			return "one"
		}
	}
	return "other"
}

// countOf finds the count argument; without one, the "other" form is used.
func countOf(args []any) int64 {
	for i := 0; i+1 < len(args); i += 2 {
		if args[i] != CountArg {
			continue
		}
		var n int64
		switch v := args[i+1].(type) {
		case int:
			n = int64(v)
		case int32:
			n = int64(v)
		case int64:
			n = v
		case uint:
			n = int64(v)
		case float64:
			if v != math.Trunc(v) {
				return math.MaxInt64 // a fraction: "other" in all four languages
			}
			n = int64(v)
		default:
			return math.MaxInt64
		}
		if n < 0 {
			n = -n
		}
		return n
	}
	return math.MaxInt64
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
