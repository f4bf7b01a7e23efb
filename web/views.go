package web

import (
	"embed"
	"fmt"
	"html/template"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/langtag"
)

//go:embed templates
var templateFS embed.FS

// views holds one template set per page, each made of the shared layout
// and partials plus the page's own file.
type views struct {
	pages httpkit.Pages
}

// parseViews parses every template, so that a broken one fails at start.
// Customer pages take their words from words with t.
func parseViews(as *httpkit.Assets, words *i18n.Bundle) (*views, error) {
	funcs := template.FuncMap{
		// t is a message in a language: {{t .Lang "ticket.reply.send"}},
		// with arguments as name/value pairs: {{t .Lang "ticket.title" "number" 1001}}.
		// A key ending in _html is markup, its arguments escaped.
		"t": func(lang, key string, args ...any) any { return translate(words, lang, key, args) },
		// date and dateTime write a day, or a moment in UTC, in a language:
		// {{date .Lang .Updated}}.
		"date":        words.Date,
		"dateTime":    words.DateTimeUTC,
		"asset":       as.URL,
		"markdown":    httpkit.Markdown,
		"langName":    langtag.Name,
		"categoryURL": kb.CategoryURL,
		"searchBox":   newSearchBox,
		"inLang":      func(lang, code string) string { return inLang(words, lang, code) },
	}
	pages, err := httpkit.ParsePages(templateFS, funcs, "templates/layout/*.html", "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &views{pages: pages}, nil
}

// translate is the template function t. Markup in a message is trusted (the
// locales are ours); the arguments of an _html message are escaped, unless
// they are already template.HTML.
func translate(words *i18n.Bundle, lang, key string, args []any) any {
	if !strings.HasSuffix(key, "_html") {
		return words.T(lang, key, args...)
	}
	escaped := slices.Clone(args)
	for i := 1; i < len(escaped); i += 2 {
		if _, ok := escaped[i].(template.HTML); !ok {
			escaped[i] = template.HTMLEscapeString(fmt.Sprint(escaped[i]))
		}
	}
	return template.HTML(words.T(lang, key, escaped...))
}

// layout is what every page's frame needs.
type layout struct {
	Lang        string // language of the page's words, for <html lang>
	HomeURL     string // the home page in Lang
	Title       string // page title, without the site name
	Description string
	// Canonical is the page's own address, without the parameters that
	// only record how the reader came (?sq=), for search engines.
	Canonical string
	Home      bool // the home page shows the language switcher
	// Chroma links the stylesheet of highlighted code: only articles with
	// code, since every stylesheet in <head> holds up the first paint.
	Chroma bool
	// HeaderSearch shows the compact search box in the header; the home
	// and search pages have a big one of their own instead.
	HeaderSearch bool
	SearchLang   string // language the header search box searches; "" for all
	Languages    []langLink
	Status       int
	Message      string
	// JSStrings are the words the page's scripts need, embedded as JSON.
	JSStrings map[string]string
}

// searchBox is what the "searchbox" template needs: the big box of the
// home and search pages, or the compact one in the header.
type searchBox struct {
	ID, Query string
	Lang      string // the language searched; "" for all
	UILang    string // the language of the box's words
	Big       bool
}

func newSearchBox(query, lang, uiLang string, big bool) searchBox {
	id := "q-header"
	if big {
		id = "q-main"
	}
	return searchBox{ID: id, Query: query, Lang: lang, UILang: uiLang, Big: big}
}

// langLink is an entry of the language switcher.
type langLink struct {
	Code, Name, URL string
	Current         bool
}

// render executes a page into a buffer first, so that a failing template
// becomes a clean 500 rather than half a page.
func (h *handler) render(c *fiber.Ctx, status int, page string, data any) error {
	body, err := h.views.pages.Execute(page, "layout", data)
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(body)
}

// renderError shows the error page, in the language of the request; if
// even that fails, plain text.
func (h *handler) renderError(c *fiber.Ctx, status int, msg string) error {
	lang := h.requestLang(c)
	title := h.i18n.T(lang, "error.other", "status", status)
	switch {
	case status == fiber.StatusNotFound:
		title = h.i18n.T(lang, "error.not_found")
	case status == fiber.StatusBadRequest:
		title = h.i18n.T(lang, "error.bad_request")
	case status == fiber.StatusServiceUnavailable:
		title = h.i18n.T(lang, "error.unavailable")
	case status == fiber.StatusTooManyRequests:
		title = h.i18n.T(lang, "error.too_many")
	case status >= 500:
		title = h.i18n.T(lang, "error.server")
	}
	if key, ok := errorMessageKeys[msg]; ok {
		msg = h.i18n.T(lang, key)
	}
	l := h.layout(lang, title)
	l.Status, l.Message, l.HeaderSearch = status, msg, false
	if err := h.render(c, status, "error", l); err != nil {
		h.log.Error("cannot render error page", "error", err)
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(status).SendString(title + "\n")
	}
	return nil
}

// errorMessageKeys translate the messages of httpError that a customer
// may see on a page; others (a bad query's details) stay as they are.
var errorMessageKeys = map[string]string{
	"Something went wrong on our side. Please try again later.": "error.server_text",
	httpkit.UnavailableMessage:                                  "error.unavailable_text",
	"the ticket is closed; please file a new one":               "error.ticket_closed",
	"this draft has already been solved or filed":               "error.draft_closed",
	"some fields need attention":                                "new_ticket.fields_need_attention",
	httpkit.MsgRateLimited:                                      "error.too_many_text",
	"open the article before voting on it":                      "error.vote_not_viewed",
}

// scriptStrings are the words app.js needs on every page: instant search
// (with its hits' language, in_lang) and the feedback form.
var scriptStrings = []string{"search.instant.", "in_lang.", "article.feedback."}

// layout fills the frame for a page whose words are in lang (see
// requestLang and kbLang); it searches the articles in lang unless the page
// says otherwise.
func (h *handler) layout(lang, title string) layout {
	l := layout{Lang: lang, Title: title, SearchLang: lang, HomeURL: "/?lang=" + url.QueryEscape(lang), HeaderSearch: true}
	l.Languages = h.languageLinks(lang)
	l.addStrings(h.i18n, scriptStrings...)
	return l
}

// addStrings embeds the words under each prefix for the page's scripts.
func (l *layout) addStrings(words *i18n.Bundle, prefixes ...string) {
	if l.JSStrings == nil {
		l.JSStrings = map[string]string{}
	}
	for _, p := range prefixes {
		maps.Copy(l.JSStrings, words.Strings(l.Lang, p))
	}
}

// languageLinks is the language switcher: the languages of the portal's
// words, then any other language that has articles.
func (h *handler) languageLinks(current string) []langLink {
	codes := h.i18n.Languages()
	for _, code := range h.kb().Languages() {
		if !slices.Contains(codes, code) {
			codes = append(codes, code)
		}
	}
	links := make([]langLink, len(codes))
	for i, code := range codes {
		links[i] = langLink{Code: code, Name: langtag.Name(code), URL: "/?lang=" + url.QueryEscape(code), Current: code == current}
	}
	return links
}
