package web

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/search"
)

type homePage struct {
	layout
	KBLang      string // language of the articles listed; may differ from Lang
	Categories  []kb.Category
	MostHelpful []helpfulArticle
	Recent      []*kb.Article
}

type helpfulArticle struct {
	Article *kb.Article
	Yes     int
}

func (h *handler) home(c *fiber.Ctx) error {
	lang := h.requestLang(c)
	articles := h.kbLang(c, lang)
	p := homePage{layout: h.layout(lang, ""), KBLang: articles, Categories: h.kb().Categories(articles), Recent: h.kb().Recent(articles, 6)}
	p.Home, p.HeaderSearch, p.SearchLang = true, false, articles
	p.Description = h.i18n.T(lang, "home.meta_description")
	var ids []string
	for _, a := range h.kb().InLang(articles) {
		ids = append(ids, a.ID)
	}
	scores, err := h.ev.MostHelpful(c.UserContext(), ids, 5)
	if err != nil {
		return err
	}
	for _, s := range scores {
		if a, ok := h.kb().ByID(s.ArticleID); ok {
			p.MostHelpful = append(p.MostHelpful, helpfulArticle{a, s.Yes})
		}
	}
	return h.render(c, fiber.StatusOK, "home", p)
}

type categoryPage struct {
	layout
	Category kb.Category
	Articles []*kb.Article
}

func (h *handler) category(c *fiber.Ctx) error {
	cat, list, ok := h.kb().Category(c.Params("lang"), unescape(c.Params("slug")))
	if !ok {
		return c.Next() // perhaps an alias
	}
	p := categoryPage{layout: h.layout(h.wordsLang(cat.Lang), cat.Name), Category: cat, Articles: list}
	p.SearchLang = cat.Lang
	return h.render(c, fiber.StatusOK, "category", p)
}

type articlePage struct {
	layout
	Article      *kb.Article
	TOC          []kb.Heading
	Translations []*kb.Article
	Related      []*kb.Article
	// Voted is the reader's answer just given: "" (none yet), "yes", "no"
	// (then asked what was missing) or "noted" (what was missing, sent).
	Voted string
	// ContactURL starts a ticket about the article: its title is the
	// draft's subject.
	ContactURL string
	MaxMissing int // the longest line of what was missing
	// Updated is when the article last changed: from the content's
	// history when known, else the front matter's date (zero: not shown).
	Updated time.Time
	// WrittenBy names the article's contributors in a sentence ("Written
	// by Ana, Petr and 2 others"); "" when the history is not known.
	WrittenBy string
	// HistoryURL is the article's history in the console, for a writer
	// or operator reading it; "" for everyone else.
	HistoryURL string
}

// article serves /kb/LANG/SLUG, or a file of an article at
// /kb/LANG/SLUG/KEY. Slugs may contain "/", so the longest prefix of the
// path that is an article owns the rest.
func (h *handler) article(c *fiber.Ctx) error {
	lang, rest := c.Params("lang"), unescape(strings.Trim(c.Params("*"), "/"))
	if a, ok := h.kb().Get(lang, rest); ok {
		return h.showArticle(c, a)
	}
	parts := strings.Split(rest, "/")
	for i := len(parts) - 1; i > 0; i-- {
		if a, ok := h.kb().Get(lang, strings.Join(parts[:i], "/")); ok {
			return sendArticleAsset(c, h.kb(), a, strings.Join(parts[i:], "/"))
		}
	}
	return c.Next() // perhaps an alias
}

func (h *handler) showArticle(c *fiber.Ctx, a *kb.Article) error {
	// A reading, for the metrics and for the reader's vote (queued, never
	// waited for). Not HEAD, and not the page again after a vote.
	if c.Method() == fiber.MethodGet && c.Query("voted") == "" {
		h.ev.RecordView(events.View{ArticleID: a.ID, Lang: a.Lang, Visitor: visitor(c), SearchID: c.Query("sq")})
		h.openedFromMail(c, a.ID)
	}
	p := articlePage{
		layout:       h.layout(h.wordsLang(a.Lang), a.Title),
		Article:      a,
		Translations: h.kb().Translations(a),
	}
	p.Canonical = a.URL()
	switch c.Query("voted") {
	case "1":
		p.Voted = "yes"
	case "no", "noted":
		p.Voted = c.Query("voted")
	}
	p.MaxMissing = events.MaxMissing
	if h.mayWrite != nil && h.mayWrite(c) {
		p.HistoryURL = "/writer/articles/" + strings.TrimPrefix(a.URL(), "/kb/") + "/history"
		// This page is one person's now: no shared cache may keep it.
		c.Set(fiber.HeaderCacheControl, "private, no-store")
	}
	p.Updated = a.Updated()
	if h.provenance != nil {
		updated, names := h.provenance(a.Path)
		if !updated.IsZero() {
			p.Updated = updated.UTC() // the day in UTC, as the front matter's dates
		}
		p.WrittenBy = writtenBy(h.i18n, p.Lang, names)
	}
	p.ContactURL = "/tickets/new?" + strings.ReplaceAll(url.Values{"subject": {a.Title}, "lang": {p.Lang}}.Encode(), "+", "%20")
	p.Description, p.SearchLang = a.Description, a.Lang
	p.Chroma = a.HighlightedCode()
	for _, hd := range a.Headings {
		if hd.Level == 2 || hd.Level == 3 {
			p.TOC = append(p.TOC, hd)
		}
	}
	if len(p.TOC) < 2 {
		p.TOC = nil
	}
	res, err := h.ix.Search(c.UserContext(), search.Query{
		Text:    a.Title + " " + a.Description + " " + strings.Join(a.Tags, " "),
		Lang:    a.Lang,
		Limit:   5,
		Exclude: a.ID,
		// Related articles are the page's language's: a reader who wants
		// another language has the page's translations.
		NoFallback: true,
	})
	if err != nil {
		return err
	}
	for _, hit := range res.Hits {
		p.Related = append(p.Related, hit.Article)
	}
	return h.render(c, fiber.StatusOK, "article", p)
}

// writtenBy names an article's contributors in lang: every name up to
// three, else the first two and how many others; "" for none.
func writtenBy(words *i18n.Bundle, lang string, names []string) string {
	names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return strings.TrimSpace(n) == "" })
	switch len(names) {
	case 0:
		return ""
	case 1:
		return words.T(lang, "article.written_by.single", "a", names[0])
	case 2:
		return words.T(lang, "article.written_by.pair", "a", names[0], "b", names[1])
	case 3:
		return words.T(lang, "article.written_by.three", "a", names[0], "b", names[1], "c", names[2])
	}
	return words.T(lang, "article.written_by.more", "a", names[0], "b", names[1], i18n.CountArg, len(names)-2)
}

// vote records "Was this helpful?" for POST /kb/LANG/SLUG/vote and sends the
// reader back to the article (or answers JSON to a script). The voter is
// the visitor (address and browser, hashed by events): a second vote on
// the article replaces the first, and a visitor who has not opened the
// article gets 403 (events.ErrNotViewed).
//
// A vote not counted because enough others from the reader's address have
// voted on the article (events.ErrVoteNotCounted) is no fault of the
// reader, who may be the fourth person in an office: the page thanks them
// as it thanks everyone, while the JSON answer says 409 with
// "status": "not_counted", for a script to see and the page's own script
// to thank for (static/app.js).
//
// After "No" the page asks what was missing: the answer comes as the same
// vote again with "missing", which replaces the first and goes into its
// event for the writers (events.Vote.Missing).
func (h *handler) vote(c *fiber.Ctx) error {
	rest, ok := strings.CutSuffix(strings.Trim(c.Params("*"), "/"), "/vote")
	if !ok {
		return httpkit.ErrNotFound
	}
	a, ok := h.kb().Get(c.Params("lang"), unescape(rest))
	if !ok {
		return httpkit.ErrNotFound
	}
	var helpful bool
	switch c.FormValue("helpful") {
	case "yes":
		helpful = true
	case "no":
	default:
		return httpkit.BadRequest("helpful: must be yes or no")
	}
	missing := strings.TrimSpace(c.FormValue("missing"))
	err := h.ev.Vote(c.UserContext(), events.Vote{ArticleID: a.ID, Helpful: helpful, Visitor: visitor(c), Missing: missing})
	notCounted := errors.Is(err, events.ErrVoteNotCounted)
	if err != nil && !notCounted {
		return err
	}
	if c.Accepts(fiber.MIMETextHTML, fiber.MIMEApplicationJSON) == fiber.MIMEApplicationJSON {
		if notCounted {
			code, msg := httpkit.StatusOf(err)
			return c.Status(code).JSON(fiber.Map{"status": "not_counted", "error": msg})
		}
		return c.JSON(fiber.Map{"status": "ok"})
	}
	voted := "1"
	switch {
	case !helpful && missing != "":
		voted = "noted"
	case !helpful:
		voted = "no"
	}
	return c.Redirect(a.URL()+"?voted="+voted+"#feedback", fiber.StatusSeeOther)
}

// visitor is the reader of a request, for views and votes: the client as
// the rate limits key it (an IPv6 client is its /64) and the browser.
func visitor(c *fiber.Ctx) events.Visitor {
	return events.Visitor{Addr: httpkit.ClientKey(httpkit.ClientIP(c)), UserAgent: c.Get(fiber.HeaderUserAgent)}
}

// unescape decodes a path taken from the URL; a malformed escape is kept
// as it is, and then matches nothing.
func unescape(p string) string {
	if u, err := url.PathUnescape(p); err == nil {
		return u
	}
	return p
}

// svgPolicy keeps scripts in an SVG from running when the file is opened
// directly.
const svgPolicy = "default-src 'none'; style-src 'unsafe-inline'"

// sendArticleAsset sends a file an article refers to (an image, a PDF).
func sendArticleAsset(c *fiber.Ctx, k *kb.KB, a *kb.Article, key string) error {
	body, err := k.Asset(a, key)
	if errors.Is(err, kb.ErrNotFound) {
		return httpkit.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("web: %w", err)
	}
	ext := strings.ToLower(path.Ext(key))
	// kb's attachment types do not depend on the system's mime.types.
	ct, ok := kb.AttachmentType(ext)
	if !ok {
		ct = httpkit.ContentType(ext)
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	switch {
	case ext == ".svg":
		c.Set("Content-Security-Policy", svgPolicy)
	case strings.HasPrefix(ct, "image/") || ct == "application/pdf":
	default:
		// Anything else (HTML, scripts, archives) is downloaded, never run
		// as a page of this site.
		c.Set("Content-Security-Policy", "sandbox")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+strings.ReplaceAll(path.Base(key), `"`, "")+`"`)
	}
	return c.Send(body)
}
