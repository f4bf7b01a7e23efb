package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/kb"
)

//go:embed templates
var templateFS embed.FS

// views holds one template set per page, each made of the shared layout
// and partials plus the page's own file.
type views struct {
	pages map[string]*template.Template
}

// parseViews parses every template, so that a broken one fails at start.
func parseViews(as *assets) (*views, error) {
	funcs := template.FuncMap{
		"asset":       as.url,
		"langName":    langName,
		"date":        func(t time.Time) string { return t.Format("2 January 2006") },
		"categoryURL": kb.CategoryURL,
		"searchBox":   newSearchBox,
		"plural": func(n int, one, many string) string {
			if n == 1 {
				return one
			}
			return many
		},
	}
	base, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout/*.html")
	if err != nil {
		return nil, err
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	vs := &views{pages: map[string]*template.Template{}}
	for _, p := range pages {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFS, p); err != nil {
			return nil, err
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("%s: no {{define \"content\"}}", p)
		}
		vs.pages[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	return vs, nil
}

// layout is what every page's frame needs.
type layout struct {
	Lang        string // language of the page, for <html lang>
	HomeURL     string // the home page in Lang
	Title       string // page title, without the site name
	Description string
	Home        bool // the home page shows the language switcher
	// HeaderSearch shows the compact search box in the header; the home
	// and search pages have a big one of their own instead.
	HeaderSearch bool
	SearchLang   string // language the header search box searches; "" for all
	Languages    []langLink
	Status       int
	Message      string
}

// searchBox is what the "searchbox" template needs: the big box of the
// home and search pages, or the compact one in the header.
type searchBox struct {
	ID, Query, Lang string
	Big             bool
}

func newSearchBox(query, lang string, big bool) searchBox {
	id := "q-header"
	if big {
		id = "q-main"
	}
	return searchBox{ID: id, Query: query, Lang: lang, Big: big}
}

// langLink is an entry of the language switcher.
type langLink struct {
	Code, Name, URL string
	Current         bool
}

// render executes a page into a buffer first, so that a failing template
// becomes a clean 500 rather than half a page.
func (h *handler) render(c *fiber.Ctx, status int, page string, data any) error {
	t, ok := h.views.pages[page]
	if !ok {
		return fmt.Errorf("web: no template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return fmt.Errorf("web: render %s: %w", page, err)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

// renderError shows the error page; if even that fails, plain text.
func (h *handler) renderError(c *fiber.Ctx, status int, msg string) error {
	title := "Page not found"
	switch {
	case status == fiber.StatusBadRequest:
		title = "Bad request"
	case status >= 500:
		title = "Something went wrong"
	case status != fiber.StatusNotFound:
		title = fmt.Sprint(status, " ", http.StatusText(status))
	}
	l := h.layout(kb.DefaultLang, title)
	l.Status, l.Message, l.HeaderSearch = status, msg, false
	if err := h.render(c, status, "error", l); err != nil {
		h.log.Error("cannot render error page", "error", err)
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(status).SendString(title + "\n")
	}
	return nil
}

// layout fills the frame for a page in lang.
func (h *handler) layout(lang, title string) layout {
	l := layout{Lang: lang, Title: title, SearchLang: lang, HomeURL: "/?lang=" + url.QueryEscape(lang), HeaderSearch: true}
	for _, code := range h.kb.Languages() {
		l.Languages = append(l.Languages, langLink{
			Code: code, Name: langName(code), URL: "/?lang=" + url.QueryEscape(code), Current: code == lang,
		})
	}
	return l
}

// nativeNames are the languages' names in themselves.
var nativeNames = map[string]string{
	"en": "English",
	"de": "Deutsch",
	"fr": "Français",
	"cs": "Čeština",
}

// langName is a language's name in that language, or its code.
func langName(code string) string {
	if n, ok := nativeNames[code]; ok {
		return n
	}
	if n, ok := nativeNames[kb.BaseLang(code)]; ok {
		return n + " (" + code + ")"
	}
	return code
}
