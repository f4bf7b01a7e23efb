package kb

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/orbitask/portal/langtag"
)

// LanguagesFile is the name of the languages' settings at the root of the
// content tree: which language's articles a search in another language
// also shows.
const LanguagesFile = "languages.yaml"

// Fallback returns the language whose articles a search in lang shows after
// lang's own: the one languages.yaml names for lang (or for its base
// language, "de" for "de-ch"), else the default language.
func (k *KB) Fallback(lang string) string {
	if l, ok := langtag.Normalize(lang); ok {
		lang = l
	}
	if f, ok := k.fallback[lang]; ok {
		return f
	}
	if f, ok := k.fallback[langtag.Base(lang)]; ok {
		return f
	}
	return langtag.Default
}

// loadLanguages reads languages.yaml:
//
//	fallback:
//	  cs: en
//	  de: en
//
// An entry with a problem is left out (its language falls back to the
// default), and so is every entry of a cycle: a reader of the file sees
// the problem, a customer the default.
func loadLanguages(fsys fs.FS) (map[string]string, []byte, []Problem) {
	raw, err := fs.ReadFile(fsys, LanguagesFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	sum := sha256.Sum256(raw)
	if err != nil {
		return nil, sum[:], []Problem{{LanguagesFile, 1, "cannot read: " + err.Error()}}
	}
	const expected = "expected `fallback: {LANG: LANG, ...}`"
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		line, msg := yamlProblem(err, 0)
		return nil, sum[:], []Problem{{LanguagesFile, line, expected + ": " + msg}}
	}
	if len(root.Content) == 0 { // an empty file
		return nil, sum[:], nil
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, sum[:], []Problem{{LanguagesFile, doc.Line, expected}}
	}
	var problems []Problem
	problem := func(line int, format string, args ...any) {
		problems = append(problems, Problem{LanguagesFile, line, fmt.Sprintf(format, args...)})
	}
	fallback := map[string]string{}
	lineOf := map[string]int{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		key, val := doc.Content[i], doc.Content[i+1]
		if key.Value != "fallback" {
			problem(key.Line, "unknown setting %q (the settings are: fallback)", key.Value)
			continue
		}
		if val.Kind != yaml.MappingNode {
			problem(val.Line, "%s: the fallback of each language, as `LANG: LANG`", expected)
			continue
		}
		for j := 0; j+1 < len(val.Content); j += 2 {
			from, to := val.Content[j], val.Content[j+1]
			l, ok := langtag.Normalize(from.Value)
			if !ok || from.Kind != yaml.ScalarNode {
				problem(from.Line, "unknown language %q (use an ISO 639-1 code such as en, de, fr, cs)", from.Value)
				continue
			}
			f, ok := langtag.Normalize(to.Value)
			if !ok || to.Kind != yaml.ScalarNode {
				problem(to.Line, "unknown fallback language %q for %s (use an ISO 639-1 code such as en, de, fr, cs)", to.Value, l)
				continue
			}
			if _, dup := fallback[l]; dup {
				problem(from.Line, "%s has a fallback already (line %d)", l, lineOf[l])
				continue
			}
			if f == l {
				problem(from.Line, "%s falls back to itself", l)
				continue
			}
			fallback[l], lineOf[l] = f, from.Line
		}
	}
	// A chain that comes back to where it started is a cycle: cs → de → cs.
	// Languages are visited in order so that a cycle is reported once, by
	// its first language, whatever the map's order.
	langs := make([]string, 0, len(fallback))
	for l := range fallback {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	inCycle := map[string]bool{}
	for _, start := range langs {
		if inCycle[start] {
			continue
		}
		chain := []string{start}
		for l := fallback[start]; ; l = fallback[l] {
			if _, ok := fallback[l]; !ok || inCycle[l] {
				break
			}
			if l == start {
				for _, c := range chain {
					inCycle[c] = true
				}
				problem(lineOf[start], "the fallbacks form a cycle: %s → %s", strings.Join(chain, " → "), start)
				break
			}
			if len(chain) > len(fallback) { // a cycle further on, reported from its own start
				break
			}
			chain = append(chain, l)
		}
	}
	for l := range inCycle {
		delete(fallback, l)
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].Line < problems[j].Line })
	return fallback, sum[:], problems
}
