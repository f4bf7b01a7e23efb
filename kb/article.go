package kb

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/yuin/goldmark"
)

// Article is one knowledge-base page, loaded from a Markdown file.
type Article struct {
	ID             string // "lang/slug", unique across the knowledge base
	Lang           string
	Slug           string
	Title          string
	Description    string
	Tags           []string
	Category       string
	TranslationKey string
	Aliases        []string
	Weight         int
	Date           time.Time
	Lastmod        time.Time
	Path           string // relative to the content root, with forward slashes

	Text     string // the body as the reader sees it, as plain text: indexed, and cut into snippets
	Headings []Heading
	// Assets maps a URL path under the article (e.g. "images/form.svg") to
	// the file it serves, relative to the content root.
	Assets map[string]string

	// The body is rendered to HTML on first view: at 38k articles, eager
	// rendering doubled the time to start.
	body     []byte
	bodyLine int
	res      resolver
	md       goldmark.Markdown
	view     *articleView
	digest   string // what the article is made of, for Changed
}

// articleView is an article's HTML, rendered on first view. Successive
// knowledge bases share it while the article and what it links to are
// unchanged.
type articleView struct {
	once sync.Once
	html template.HTML
	code bool // html has code highlighted by chroma
}

// HTML is the rendered body; raw HTML from the source is omitted. It is
// rendered once, on first use, and safe for concurrent use.
func (a *Article) HTML() template.HTML {
	v := a.view
	if v == nil {
		return ""
	}
	v.once.Do(func() {
		v.html = render(a.md, a, a.body, a.bodyLine, a.res, true).html
		v.code = strings.Contains(string(v.html), `<pre class="chroma"`)
	})
	return v.html
}

// HighlightedCode reports whether the article has code blocks styled by
// chroma's classes, so that only such pages load their stylesheet.
func (a *Article) HighlightedCode() bool {
	if a.view == nil {
		return false
	}
	a.HTML()
	return a.view.code
}

// Heading is one entry of an article's table of contents.
type Heading struct {
	Level int
	ID    string
	Text  string
}

// URL is where the article is served.
func (a *Article) URL() string {
	return ArticleURL(a.Lang, a.Slug)
}

// ArticleURL builds the public path of an article.
func ArticleURL(lang, slug string) string {
	return "/kb/" + lang + "/" + escapePath(slug)
}

// CategoryURL builds the public path of a category page.
func CategoryURL(lang, category string) string {
	return "/kb/" + lang + "/category/" + Slugify(category)
}

// Updated is the last-modified date, or the publication date.
func (a *Article) Updated() time.Time {
	if !a.Lastmod.IsZero() {
		return a.Lastmod
	}
	return a.Date
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// Slugify lowercases s and keeps letters and digits, joining words with "-".
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// Problem is one thing wrong with a content file.
type Problem struct {
	Path    string // relative to the content root
	Line    int
	Message string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s", p.Path, p.Line, p.Message)
}
