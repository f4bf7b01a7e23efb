package web

import (
	"sort"
	"strconv"
	"strings"

	"github.com/orbitask/portal/kb"
)

// pickLang chooses the language of a page: the one asked for, if it has
// articles; else the best match of the Accept-Language header among the
// languages that have articles; else the default language.
func pickLang(k *kb.KB, asked, acceptLanguage string) string {
	if l, ok := kb.NormalizeLang(asked); ok && k.HasLang(l) {
		return l
	}
	if l := matchAcceptLanguage(acceptLanguage, k.Languages()); l != "" {
		return l
	}
	return kb.DefaultLang
}

// matchAcceptLanguage returns the available language the header prefers
// most, or "". A range matches a language exactly, or by base language
// ("de-AT" matches "de", "de" matches "de-CH"); q=0 excludes a range.
func matchAcceptLanguage(header string, available []string) string {
	type pref struct {
		tag string
		q   float64
	}
	var prefs []pref
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.TrimSpace(tag)
		if tag == "" || tag == "*" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if q > 0 {
			prefs = append(prefs, pref{tag, q})
		}
	}
	sort.SliceStable(prefs, func(i, j int) bool { return prefs[i].q > prefs[j].q })
	for _, p := range prefs {
		norm, ok := kb.NormalizeLang(p.tag)
		if !ok {
			continue
		}
		for _, l := range available {
			if l == norm {
				return l
			}
		}
		for _, l := range available {
			if kb.BaseLang(l) == kb.BaseLang(norm) {
				return l
			}
		}
	}
	return ""
}
