package web

import (
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/langtag"
)

// A page has two languages that usually agree: the language of its words
// (the i18n bundle's: en, fr, de, cs), and the language of the articles it
// lists or searches (any language the knowledge base has).
//
//   - An article or category page is in its article's language, words and
//     all (English words for a language the bundle lacks).
//   - A ticket's page is in the language asked for with ?lang=, else the
//     ticket's own if the bundle has it, else English: tickets in other
//     languages are answered in English (ticketLang).
//   - Any other page is in the language asked for with ?lang=, else the
//     best of the Accept-Language header, else English (requestLang). The
//     articles it lists are in that language too if there are any in it,
//     else in the language pickLang chooses (kbLang).

// requestLang is the language of the words of a page that is not about an
// article or a ticket: ?lang= if the bundle has it, else the best match of
// Accept-Language, else English.
func (h *handler) requestLang(c *fiber.Ctx) string {
	if l := h.i18n.Match(c.Query("lang")); l != "" {
		return l
	}
	if l := h.i18n.Match(c.Get(fiber.HeaderAcceptLanguage)); l != "" {
		return l
	}
	return langtag.Default
}

// kbLang is the language of the articles a page in lang lists: the one
// asked for with ?lang= if it has articles, else lang if it has, else
// pickLang's choice.
func (h *handler) kbLang(c *fiber.Ctx, lang string) string {
	if l, ok := kb.NormalizeLang(c.Query("lang")); ok && h.kb.HasLang(l) {
		return l
	}
	if h.kb.HasLang(lang) {
		return lang
	}
	return pickLang(h.kb, "", c.Get(fiber.HeaderAcceptLanguage))
}

// ticketLang is the language of a ticket's page: ?lang= if the bundle has
// it, else the ticket's language if the bundle has it, else English.
func (h *handler) ticketLang(c *fiber.Ctx, ticketLang string) string {
	if l := h.i18n.Match(c.Query("lang")); l != "" {
		return l
	}
	if l := kb.BaseLang(ticketLang); h.i18n.Has(l) { // as tickets decides who is answered in English
		return l
	}
	return langtag.Default
}

// wordsLang is the language of the words of a page about content in lang:
// lang itself if the bundle has it, else English.
func (h *handler) wordsLang(lang string) string {
	if h.i18n.Has(lang) {
		return lang
	}
	return langtag.Default
}

// pickLang chooses a language that has articles: the one asked for, if it
// has articles; else the best match of the Accept-Language header among the
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
