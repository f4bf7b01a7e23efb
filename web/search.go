package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/langtag"
	"github.com/orbitask/portal/search"
)

type searchPage struct {
	layout
	Q, Category, Tag string
	Searched         bool // false when no query was given
	Total            int
	Hits             []search.Hit
	// SearchID is the recorded search's id, carried by the result links
	// as ?sq= so that the view it leads to is counted as a click on it;
	// "" when the page was not recorded as a search.
	SearchID         string
	Categories, Tags facetList
	DidYouMean       string
	DidYouMeanURL    string
	Page, Pages      int
	PageLinks        []pageLink
	PrevURL, NextURL string
	OutOfRange       bool // a page past the last; FirstURL leads back
	FirstURL         string
	AskURL           string
}

// facetList is a facet's values, with the language of the page's words.
type facetList struct {
	Lang  string
	Links []facetLink
}

// facetLink is one value of a facet, linking to the results with the filter
// added, or removed when it is active.
type facetLink struct {
	Name   string
	Count  int
	URL    string
	Active bool
}

type pageLink struct {
	Number  int
	URL     string
	Current bool
}

// searchParams are a results page's parameters, which every link on the
// page carries forward.
type searchParams struct {
	q, lang, category, tag string
	// sq is the search's id (recorded with page 1), carried to the other
	// pages so that a click there counts for the search too.
	sq     string
	paging bool // url builds a link to another page of this search (pageURL)
}

// pageURL is url(page) as a link between the pages of this one search:
// with its id.
func (p searchParams) pageURL(page int) string {
	p.paging = true
	return p.url(page)
}

func (p searchParams) url(page int) string {
	v := url.Values{}
	v.Set("q", p.q)
	if p.lang != "" {
		v.Set("lang", p.lang)
	}
	if p.category != "" {
		v.Set("category", p.category)
	}
	if p.tag != "" {
		v.Set("tag", p.tag)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	if p.sq != "" && p.paging {
		// Every page of one search, page 1 again included, is that search;
		// a facet or "did you mean" is a new one.
		v.Set("sq", p.sq)
	}
	// %20 rather than "+", which templates would write as "&#43;".
	return "/search?" + strings.ReplaceAll(v.Encode(), "+", "%20")
}

func (h *handler) searchPage(c *fiber.Ctx) error {
	sp := searchParams{q: strings.TrimSpace(c.Query("q")), lang: c.Query("lang"), category: c.Query("category"), tag: c.Query("tag")}
	lang := h.requestLang(c)
	p := searchPage{layout: h.layout(lang, h.i18n.T(lang, "search.title")), Q: sp.q, Category: sp.category, Tag: sp.tag}
	// Without ?lang=, the visitor's language: the one chosen on an earlier
	// page, else the best of Accept-Language that has articles, else the
	// default; its fallback language's articles follow (search.Query).
	searchLang := sp.lang
	if searchLang == "" {
		searchLang = pickLang(h.kb(), chosenLang(c), c.Get(fiber.HeaderAcceptLanguage))
		c.Vary(fiber.HeaderAcceptLanguage, fiber.HeaderCookie)
	}
	// The box searches the same language, as you type too.
	p.SearchLang, p.HeaderSearch = searchLang, false
	p.Description = h.i18n.T(lang, "search.meta_description")
	if sp.q == "" {
		return h.render(c, fiber.StatusOK, "search", p)
	}
	p.Title = h.i18n.T(lang, "search.title_query", "query", sp.q)
	page := 1
	if s := c.Query("page"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return httpkit.BadRequest("page: must be a whole number, 1 or more")
		}
		page = n
	}
	// Compare before multiplying: a huge page number would overflow.
	farPastEnd := page-1 > search.MaxOffset/h.pageSize
	q := search.Query{Text: sp.q, Lang: searchLang, Category: sp.category, Tag: sp.tag, Limit: h.pageSize, Facets: true}
	if !farPastEnd {
		q.Offset = (page - 1) * h.pageSize
	}
	if farPastEnd {
		// Beyond what the index pages through: count the matches, show none.
		q.Offset, q.Limit = 0, 1
	}
	if err := q.Validate(); err != nil {
		return err
	}
	res, err := h.ix.Search(c.UserContext(), q)
	if err != nil {
		return err
	}
	h.onSearch("page", res.Took)
	if farPastEnd {
		res.Hits = nil
	}
	sq := c.Query("sq")
	switch {
	case page > 1 || events.ValidSearchID(sq):
		// The same search, paged (or back on page 1 from page 2): its links
		// point back at the first page's record; nothing new is recorded.
		if events.ValidSearchID(sq) {
			p.SearchID = sq
		}
	case c.Method() == fiber.MethodGet: // HEAD is not a search
		p.SearchID = events.NewSearchID()
		h.ev.RecordSearch(events.Search{ID: p.SearchID, Query: sp.q, Lang: q.Lang, Source: "page", Total: int(res.Total), Took: res.Took,
			Visitor: visitor(c)})
	}
	sp.sq = p.SearchID
	if p.SearchID != "" {
		// The links carry this search's id: no shared cache may hand them
		// to someone else, whose clicks would count for it.
		c.Set(fiber.HeaderCacheControl, "private")
	}

	p.Searched = true
	p.Total = int(res.Total)
	p.Hits = res.Hits
	// The facets name a category in the search's language, whichever of
	// its translations the link named.
	active := h.ix.CategoryName(sp.category, q.Lang)
	p.Categories = facetList{lang, facetLinks(res.Categories, active, func(v string) string { s := sp; s.category = v; return s.url(1) })}
	p.Tags = facetList{lang, facetLinks(res.Tags, sp.tag, func(v string) string { s := sp; s.tag = v; return s.url(1) })}
	// Offered whatever the count: fuzzy matching finds something for most
	// typos, and the correction finds more (and better) articles.
	if res.DidYouMean != "" {
		p.DidYouMean = res.DidYouMean
		s := sp
		s.q = res.DidYouMean
		p.DidYouMeanURL = s.url(1)
	}
	p.AskURL = "/tickets/new?" + strings.ReplaceAll(url.Values{"subject": {sp.q}}.Encode(), "+", "%20")
	if c.Query("lang") != "" {
		p.AskURL += "&lang=" + url.QueryEscape(lang)
	}
	p.Page = page
	p.Pages = (p.Total + h.pageSize - 1) / h.pageSize
	if page > p.Pages && p.Total > 0 {
		p.OutOfRange, p.FirstURL = true, sp.pageURL(1)
		p.Hits = nil
	}
	if p.Pages > 1 && !p.OutOfRange {
		if page > 1 {
			p.PrevURL = sp.pageURL(page - 1)
		}
		if page < p.Pages {
			p.NextURL = sp.pageURL(page + 1)
		}
		from, to := max(1, page-3), min(p.Pages, page+3)
		for n := from; n <= to; n++ {
			p.PageLinks = append(p.PageLinks, pageLink{n, sp.pageURL(n), n == page})
		}
	}
	return h.render(c, fiber.StatusOK, "search", p)
}

// facetLinks turns facet values into links; the active value links to the
// results without it, and stays listed even when nothing matches.
func facetLinks(values []search.Facet, active string, urlWith func(string) string) []facetLink {
	var out []facetLink
	seen := false
	for _, f := range values {
		l := facetLink{Name: f.Name, Count: f.Count, URL: urlWith(f.Name)}
		if f.Name == active {
			l.Active, l.URL, seen = true, urlWith(""), true
		}
		out = append(out, l)
	}
	if active != "" && !seen {
		out = append([]facetLink{{Name: active, URL: urlWith(""), Active: true}}, out...)
	}
	return out
}

// inLang says, in the page's language lang, that a hit is in another
// language: "in English", "auf Englisch".
func inLang(words *i18n.Bundle, lang, code string) string {
	key := "in_lang." + langtag.Base(code)
	if s := words.T(lang, key); s != key {
		return s
	}
	return words.T(lang, "in_lang.other", "language", langtag.Name(code))
}

// apiResult is the JSON answer of /api/search.
type apiResult struct {
	Query      string   `json:"query"`
	Total      int      `json:"total"`
	TookMS     float64  `json:"took_ms"`
	Hits       []apiHit `json:"hits"`
	DidYouMean string   `json:"did_you_mean,omitempty"`
	// SearchID is the recorded search's id, for the client to add to the
	// hits' links as ?sq=; absent for as-you-type (prefix=1) requests,
	// which are not searches.
	SearchID string `json:"search_id,omitempty"`
}

type apiHit struct {
	ID       string        `json:"id"`
	Title    string        `json:"title"`
	URL      string        `json:"url"`
	Snippet  template.HTML `json:"snippet"`
	Score    float64       `json:"score"`
	Lang     string        `json:"lang"`
	Category string        `json:"category"`
	// Fallback marks an article of the fallback language shown after those
	// of the language searched ("in English").
	Fallback bool `json:"fallback,omitempty"`
}

func newAPIHit(hit search.Hit) apiHit {
	a := hit.Article
	return apiHit{ID: a.ID, Title: a.Title, URL: a.URL(), Snippet: hit.Snippet, Score: hit.Score, Lang: a.Lang, Category: a.Category,
		Fallback: hit.Fallback}
}

// apiSearch answers GET /api/search. Keystrokes of as-you-type search
// (prefix=1) are not recorded as searches.
func (h *handler) apiSearch(c *fiber.Ctx) error {
	q, err := apiQuery(c)
	if err != nil {
		return err
	}
	res, err := h.ix.Search(c.UserContext(), q)
	if err != nil {
		return err
	}
	h.onSearch("api", res.Took)
	var id string
	instant := c.Query("source") == "instant"
	if (!q.Prefix || instant) && c.Method() == fiber.MethodGet {
		// The search box's script asks once more, as its list did (prefix
		// included), for the query whose instant result the customer
		// picked: that is a search; the keystrokes before it are not.
		source := "api"
		if instant {
			source = "instant"
		}
		id = events.NewSearchID()
		h.ev.RecordSearch(events.Search{ID: id, Query: q.Text, Lang: q.Lang, Source: source, Total: int(res.Total), Took: res.Took,
			Visitor: visitor(c)})
	}
	if id != "" {
		c.Set(fiber.HeaderCacheControl, "private") // as the results page
	}
	out := apiResult{
		SearchID:   id,
		Query:      q.Text,
		Total:      int(res.Total),
		TookMS:     float64(res.Took.Microseconds()) / 1000,
		Hits:       make([]apiHit, 0, len(res.Hits)),
		DidYouMean: res.DidYouMean,
	}
	for _, hit := range res.Hits {
		out.Hits = append(out.Hits, newAPIHit(hit))
	}
	return c.JSON(out)
}

// apiQuery reads and checks the parameters of /api/search.
func apiQuery(c *fiber.Ctx) (search.Query, error) {
	q := search.Query{Text: c.Query("q"), Lang: c.Query("lang"), Category: c.Query("category"), Tag: c.Query("tag")}
	var err error
	if q.Limit, err = intParam(c, "limit", 10, 1, search.MaxLimit); err != nil {
		return q, err
	}
	if q.Offset, err = intParam(c, "offset", 0, 0, search.MaxOffset); err != nil {
		return q, err
	}
	switch c.Query("prefix") {
	case "", "0":
	case "1":
		q.Prefix = true
	default:
		return q, httpkit.BadRequest("prefix: must be 0 or 1")
	}
	// lang=L searches L, then its fallback language; fallback=0 asks for L
	// alone.
	switch c.Query("fallback") {
	case "", "1":
	case "0":
		q.NoFallback = true
	default:
		return q, httpkit.BadRequest("fallback: must be 0 or 1")
	}
	return q, q.Validate()
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(c *fiber.Ctx, name string, def, lo, hi int) (int, error) {
	s := c.Query(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, httpkit.BadRequest(fmt.Sprintf("%s: must be an integer between %d and %d", name, lo, hi))
	}
	return n, nil
}
