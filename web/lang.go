package web

import (
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
//     one asked for last (the portal_lang cookie ?lang= sets), else the
//     best of the Accept-Language header, else English (requestLang). The
//     articles it lists are in that language too if there are any in it,
//     else in the language pickLang chooses (kbLang).

// langCookie remembers the language a visitor chose with ?lang= (the
// language switcher), so that every later page keeps it.
const langCookie = "portal_lang"

// chosenLang is the visitor's choice: ?lang= (remembered in the cookie
// for the pages that follow), else the cookie's, else "".
func chosenLang(c *fiber.Ctx) string {
	if q := c.Query("lang"); q != "" {
		if l, ok := langtag.Normalize(q); ok {
			if c.Cookies(langCookie) != l {
				c.Cookie(&fiber.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
					HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: c.Secure()})
				// An answer that sets one visitor's cookie is that visitor's.
				c.Set(fiber.HeaderCacheControl, "private")
			}
			return l
		}
		return q // not a language: the callers refuse or ignore it
	}
	if l, ok := langtag.Normalize(c.Cookies(langCookie)); ok {
		return l
	}
	return ""
}

// requestLang is the language of the words of a page that is not about an
// article or a ticket: the visitor's choice (chosenLang) if the bundle has
// it, else the best match of Accept-Language, else English.
func (h *handler) requestLang(c *fiber.Ctx) string {
	if l := h.i18n.Match(chosenLang(c)); l != "" {
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
	if l, ok := langtag.Normalize(chosenLang(c)); ok && h.kb().HasLang(l) {
		return l
	}
	if h.kb().HasLang(lang) {
		return lang
	}
	return pickLang(h.kb(), "", c.Get(fiber.HeaderAcceptLanguage))
}

// ticketLang is the language of a ticket's page: the visitor's choice if
// the bundle has it, else the ticket's language if the bundle has it, else
// English.
func (h *handler) ticketLang(c *fiber.Ctx, ticketLang string) string {
	if l := h.i18n.Match(chosenLang(c)); l != "" {
		return l
	}
	if l := langtag.Base(ticketLang); h.i18n.Has(l) { // as tickets decides who is answered in English
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
	if l, ok := langtag.Normalize(asked); ok && k.HasLang(l) {
		return l
	}
	if l := langtag.NewMatcher(k.Languages()).Match(acceptLanguage); l != "" {
		return l
	}
	return langtag.Default
}
