// Package web is the portal's customer side: the knowledge base's pages
// (home, search, articles, votes, old URLs), the ticket form with its
// live suggestions, the customer's private ticket page with its live feed,
// the public JSON API (/api/search, /api/tickets, /api/deflect), /healthz
// and the static files. It shows errors as pages in the reader's language
// (Site.ErrorPage) for httpkit's one error handler.
//
// It stands on httpkit beside the staff console (console) and imports
// neither console nor anything that imports it; server mounts both on one
// app.
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/live"
	"github.com/orbitask/portal/mailroute"
	"github.com/orbitask/portal/search"
	"github.com/orbitask/portal/tickets"
)

// Config tunes the customer side.
type Config struct {
	Logger *slog.Logger // nil discards
	// Errors logs the live sockets' server errors, repeats summed up: the
	// server's one, shared with its error handler. nil: one of the site's own.
	Errors *httpkit.ErrorLog
	// PageSize is the number of results on one page of /search; 0 means 10.
	PageSize int
	Assets   *httpkit.Assets // the static files, served and linked; nil loads them
	// Clients serves the live feeds' WebSockets (capped per address, told
	// when the server stops); the server's one, shared with the console.
	// nil: one of the site's own with the defaults.
	Clients *httpkit.Clients
	// UploadMemory bounds the bytes of attachments that filings hold in
	// memory at once, all filings together; 0 means DefaultUploadMemory.
	// A filing takes its Content-Length before reading its body and, when
	// others hold the rest, waits a little and is answered 503; one larger
	// than UploadMemory is answered 413 (it could never be taken).
	UploadMemory int64
	// UploadPerClient is the most of UploadMemory one client (keyed as
	// the rate limits key it: an IPv6 /64 is one) holds at once, so that
	// slow uploads from one address cannot hold it all; a client's second
	// filing beyond it waits a little and is answered 429. 0 means one
	// filing at its largest; negative, or RateLimits.Off (load tests
	// file from one address), no share per client.
	UploadPerClient int64
	// RateLimits bound filings, replies, new deflection sessions and votes
	// per client; the zero value is httpkit.DefaultRateLimits.
	RateLimits httpkit.RateLimits
	// OnSearch, if not nil, is told how long each customer's search took
	// in the index (search.Result.Took), by kind: "page" (/search), "api"
	// (/api/search) or "suggest" (a ticket draft), for the operators'
	// metrics.
	OnSearch func(kind string, took time.Duration)
}

// Services are the domain components the customer side serves.
type Services struct {
	Search  *search.Index
	Events  *events.Store
	Tickets *tickets.Store
	Deflect *deflect.Tracker
	Hub     *live.Hub // ticket changes, published by a ticketfeed.Feed with LiveEvent
	// Health says what keeps the portal from working fully, one reason a
	// line (app.App.Health); /healthz answers 503 while there is any. Nil:
	// nothing to report.
	Health func() []string
	// Provenance says when an article's file (its path under the content
	// root, kb.Article.Path) last changed and who wrote it, most recent
	// contributor first, from the content's history. Nil, or a zero time
	// and no names: the page shows the front matter's date, as before.
	Provenance func(contentPath string) (updated time.Time, contributors []string)
	// MayWrite says whether a request comes from a signed-in staff member
	// who may change articles (the console's Console.MayWrite): the
	// article page then links the article's history in the console. Nil:
	// never.
	MayWrite func(c *fiber.Ctx) bool
	// Questions finds the question mailed to the support address whose
	// answer links the ticket form as /tickets/new?mail=TOKEN
	// (mailroute.Router.Question): the form opens filled in with it. Nil:
	// the parameter is ignored.
	Questions func(ctx context.Context, token string) (mailroute.Question, error)
}

// handler holds what the handlers need.
type handler struct {
	log      *slog.Logger
	errors   *httpkit.ErrorLog
	ix       *search.Index
	ev       *events.Store
	tickets  *tickets.Store
	deflect  *deflect.Tracker
	hub      *live.Hub
	problems func() []string // Services.Health
	// provenance is Services.Provenance; nil: none.
	provenance func(contentPath string) (time.Time, []string)
	mayWrite   func(c *fiber.Ctx) bool // Services.MayWrite; nil: never
	i18n       *i18n.Bundle            // the customer pages' words
	views      *views
	assets     *httpkit.Assets
	clients    *httpkit.Clients
	pageSize   int
	uploads    *httpkit.Budget // shared by the filings' attachments
	limits     httpkit.RateLimiters
	// shareReports: refusals for a client's upload share, logged at WARN
	// once a minute per client.
	shareReports *httpkit.Reporter
	onSearch     func(kind string, took time.Duration) // Config.OnSearch; never nil

	// questions is Services.Questions; nil: none.
	questions func(ctx context.Context, token string) (mailroute.Question, error)
}

// Site is the customer side, ready to be mounted: Routes first, NotFound
// after every other route, ErrorPage as the app's error page.
type Site struct{ h *handler }

// New builds the customer side. Its templates and words are checked here,
// so a broken template fails at start.
func New(cfg Config, s Services) (*Site, error) {
	if s.Search == nil || s.Events == nil || s.Tickets == nil || s.Deflect == nil || s.Hub == nil {
		return nil, errors.New("web: new: every service is required")
	}
	ix, ev := s.Search, s.Events
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	as := cfg.Assets
	if as == nil {
		var err error
		if as, err = httpkit.LoadAssets(); err != nil {
			return nil, fmt.Errorf("web: %w", err)
		}
	}
	words, err := i18n.Load()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	vs, err := parseViews(as, words)
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	h := &handler{log: log, ix: ix, ev: ev, tickets: s.Tickets, deflect: s.Deflect, hub: s.Hub,
		problems: s.Health, provenance: s.Provenance, mayWrite: s.MayWrite, i18n: words, views: vs, assets: as, clients: cfg.Clients, pageSize: cfg.PageSize,
		limits: cfg.RateLimits.New(log), errors: cfg.Errors, onSearch: cfg.OnSearch}
	h.questions = s.Questions
	if h.onSearch == nil {
		h.onSearch = func(string, time.Duration) {}
	}
	if h.errors == nil {
		h.errors = httpkit.NewErrorLog(log, 0)
	}
	if h.clients == nil {
		h.clients = httpkit.NewClients(httpkit.ClientsConfig{Logger: log})
	}
	if h.pageSize <= 0 {
		h.pageSize = 10
	}
	mem := cfg.UploadMemory
	if mem <= 0 {
		mem = DefaultUploadMemory
	}
	share := cfg.UploadPerClient
	switch {
	case cfg.RateLimits.Off || share < 0:
		share = 0 // no share per client
	case share == 0:
		share = maxMultipartFiling
	}
	h.uploads = httpkit.NewBudget(mem, share)
	h.shareReports = httpkit.NewReporter()
	return &Site{h}, nil
}

// Routes registers the customer side's pages, API and live feeds on r.
func (s *Site) Routes(r fiber.Router) {
	h := s.h
	r.Get("/healthz", h.health)
	r.Get("/static/:name", h.assets.Serve)
	r.Get("/", h.home)
	r.Get("/search", h.searchPage)
	r.Get("/api/search", h.apiSearch)
	r.Get("/kb/:lang/category/:slug", h.category)
	r.Get("/kb/:lang/*", h.article)
	// Anonymous writes are limited per client (httpkit.RateLimits); a new
	// deflection session is limited where it starts (suggest), the drafts
	// within one are not. Bodies are bounded before anything reads them.
	lim := h.limits
	r.Post("/kb/:lang/*", lim.Vote.Handler, httpkit.MaxBody(httpkit.SmallBodyLimit), h.vote) // …/ARTICLE/vote

	r.Get("/tickets/new", h.newTicket)
	// Confirming an address, finding one's tickets (address.go).
	h.addressRoutes(r)
	r.Post("/tickets", lim.Filing.Handler, h.postTicket) // filings bound their bodies themselves (readNewTicket)
	r.Get("/tickets/:number", h.showTicket)
	r.Post("/tickets/:number/replies", lim.Reply.Handler, httpkit.MaxBody(httpkit.ReplyBodyLimit), h.postReply)
	r.Post("/api/tickets", lim.Filing.Handler, h.apiPostTicket)
	r.Get("/api/tickets/:number/live", h.clients.WebSocket(h.liveCheck, h.liveSocket))
	r.Get("/api/tickets/:number", h.apiGetTicket)
	r.Post("/api/tickets/:number/replies", lim.Reply.Handler, httpkit.MaxBody(httpkit.ReplyBodyLimit), h.apiReply)
	h.mailRoutes(r) // the ticket's mails: status-mail preference, revoking mailed links
	r.Post("/api/deflect", httpkit.MaxBody(maxDraftBody), h.apiDeflect)
	r.Get("/api/deflect/ws", h.clients.WebSocket(nil, h.deflectSocket))
	r.Post("/api/deflect/:session/:action", httpkit.MaxBody(4<<10), h.apiDeflectAction)
}

// NotFound answers every request no route took; mount it last (with Use).
func (s *Site) NotFound(c *fiber.Ctx) error { return s.h.aliasOrNotFound(c) }

// ErrorPage shows the error page in the reader's language: the app's
// httpkit.ErrorPage, for every request that is not an API call, the
// console's included.
func (s *Site) ErrorPage(c *fiber.Ctx, status int, msg string) error {
	return s.h.renderError(c, status, msg)
}

// health is /healthz: 200 and "ok" when all is well, else 503 and
// "degraded" with the reasons, so that a load balancer or a monitor sees a
// portal that cannot store tickets or search. "search" says "ok" or why not.
func (h *handler) health(c *fiber.Ctx) error {
	var reasons []string
	if h.problems != nil {
		reasons = append(reasons, h.problems()...)
	}
	searchState := "ok"
	if err := h.ix.Health(); err != nil {
		searchState = err.Error()
		reasons = append(reasons, "search: "+searchState)
	}
	if len(reasons) > 0 {
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "degraded", "reasons": reasons,
			"articles": len(h.kb().Articles), "search": searchState})
	}
	return c.JSON(fiber.Map{"status": "ok", "articles": len(h.kb().Articles), "search": searchState})
}

// aliasOrNotFound answers every request no route took: an old URL that an
// article claims as an alias is redirected to the article, anything else is
// not found.
func (h *handler) aliasOrNotFound(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		if a, ok := h.kb().Alias(unescape(c.Path())); ok {
			return c.Redirect(a.URL(), fiber.StatusMovedPermanently)
		}
	}
	return httpkit.ErrNotFound
}

// kb is the live knowledge base; a publish replaces it, so handlers ask
// for it per request.
func (h *handler) kb() *kb.KB { return h.ix.KB() }
