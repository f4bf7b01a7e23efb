package console

import (
	"html/template"
	"net/url"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/kb"
)

// A preview is the knowledge base of a pushed preview/NAME branch, shown
// to signed-in staff only, in the console's frame: the live knowledge base
// and its search are untouched.

type previewPage struct {
	layout
	Name            string
	Changed, Others []*kb.Article
	Deleted         []string
	Problems        []kb.Problem
}

// preview is GET /preview/:name/: what the branch changes, then every
// article in it.
func (h *handler) preview(c *fiber.Ctx) error {
	name := c.Params("name")
	k, ok := h.previewKB(name)
	if !ok {
		return httpkit.ErrNotFound
	}
	p := previewPage{layout: h.layout(c, "Preview "+name), Name: name, Problems: k.Problems}
	p.Section = "writer"
	changed, deleted := kb.Changed(h.kb(), k)
	isChanged := map[string]bool{}
	for _, id := range changed {
		isChanged[id] = true
	}
	for _, a := range k.Articles {
		if isChanged[a.ID] {
			p.Changed = append(p.Changed, a)
		} else {
			p.Others = append(p.Others, a)
		}
	}
	sort.Strings(deleted)
	p.Deleted = deleted
	return h.render(c, fiber.StatusOK, "preview", p)
}

type previewArticlePage struct {
	layout
	Name    string
	Article *kb.Article
	Body    template.HTML
}

// previewArticle is GET /preview/:name/kb/:lang/*: an article of the
// branch, or a file it shows (an image), with links kept inside the
// preview.
func (h *handler) previewArticle(c *fiber.Ctx) error {
	name := c.Params("name")
	k, ok := h.previewKB(name)
	if !ok {
		return httpkit.ErrNotFound
	}
	lang, rest := c.Params("lang"), unescapePath(c.Params("*"))
	if a, ok := k.Get(lang, rest); ok {
		p := previewArticlePage{layout: h.layout(c, "Preview: "+a.Title), Name: name, Article: a,
			Body: template.HTML(inPreview(string(a.HTML()), name))}
		p.Section, p.Chroma = "writer", a.HighlightedCode()
		return h.render(c, fiber.StatusOK, "preview_article", p)
	}
	parts := strings.Split(rest, "/")
	for i := len(parts) - 1; i > 0; i-- {
		if a, ok := k.Get(lang, strings.Join(parts[:i], "/")); ok {
			body, err := k.Asset(a, strings.Join(parts[i:], "/"))
			if err != nil {
				return httpkit.ErrNotFound
			}
			ext := strings.ToLower(parts[len(parts)-1])
			if i := strings.LastIndexByte(ext, '.'); i >= 0 {
				ext = ext[i:]
			}
			c.Set(fiber.HeaderContentType, httpkit.ContentType(ext))
			// Whatever it is, it never runs as a page of this site.
			c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
			c.Set(fiber.HeaderCacheControl, "private, no-store")
			return c.Send(body)
		}
	}
	return httpkit.ErrNotFound
}

// inPreview points the article's links and images at the preview's own
// copies. kb writes every internal URL as an absolute "/kb/..." path.
func inPreview(html, name string) string {
	prefix := "/preview/" + url.PathEscape(name) + "/kb/"
	html = strings.ReplaceAll(html, `href="/kb/`, `href="`+prefix)
	return strings.ReplaceAll(html, `src="/kb/`, `src="`+prefix)
}

func (h *handler) previewKB(name string) (*kb.KB, bool) {
	if h.pub == nil {
		return nil, false
	}
	return h.pub.Preview(name)
}
