// Package web is the portal's HTTP layer: routes, handlers, templates and
// static files. It is the only package that imports Fiber; it maps the domain
// packages' errors to status codes in one error handler.
package web

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/live"
	"github.com/orbitask/portal/search"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

// Config tunes the HTTP layer.
type Config struct {
	Logger *slog.Logger // where requests and server errors are logged; nil discards
	// PageSize is the number of results on one page of /search; 0 means 10.
	PageSize int
	// TrustedProxies are the addresses (or CIDR ranges) of reverse proxies
	// in front of the portal: from them alone X-Forwarded-For gives the
	// client's address (sign-in limits per address) and X-Forwarded-Proto
	// says the request came over TLS (Secure cookies). Empty: nobody's
	// forwarding headers are believed.
	TrustedProxies []string
}

// Services are the domain components the HTTP layer serves.
type Services struct {
	Search  *search.Index
	Events  *events.Store
	Tickets *tickets.Store
	Deflect *deflect.Tracker
	Hub     *live.Hub // ticket changes, fed by a Feed
	Staff   *staff.Store
}

// handler holds what the handlers need.
type handler struct {
	log        *slog.Logger
	ix         *search.Index
	kb         *kb.KB
	ev         *events.Store
	tickets    *tickets.Store
	deflect    *deflect.Tracker
	hub        *live.Hub
	i18n       *i18n.Bundle // the customer pages' words
	staff      *staff.Store
	views      *views
	agentViews *agentViews
	assets     *httpkit.Assets
	pageSize   int
}

// New builds the portal's HTTP application. Templates and static files are
// checked here, so a broken template fails at start.
func New(cfg Config, s Services) (*fiber.App, error) {
	if s.Search == nil || s.Events == nil || s.Tickets == nil || s.Deflect == nil || s.Hub == nil || s.Staff == nil {
		return nil, errors.New("web: new: every service is required")
	}
	ix, ev := s.Search, s.Events
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	as, err := httpkit.LoadAssets()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	words, err := i18n.Load()
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	vs, err := parseViews(as, words)
	if err != nil {
		return nil, fmt.Errorf("web: templates: %w", err)
	}
	h := &handler{log: log, ix: ix, kb: ix.KB(), ev: ev, tickets: s.Tickets, deflect: s.Deflect, hub: s.Hub,
		i18n: words, views: vs, assets: as, pageSize: cfg.PageSize}
	if h.agentViews, err = parseAgentViews(as); err != nil {
		return nil, fmt.Errorf("web: agent templates: %w", err)
	}
	h.staff = s.Staff
	if h.pageSize <= 0 {
		h.pageSize = 10
	}

	app := httpkit.NewApp(httpkit.Config{Logger: log, TrustedProxies: cfg.TrustedProxies}, h.renderError)

	app.Get("/healthz", h.health)
	app.Get("/static/:name", h.assets.Serve)
	app.Get("/", h.home)
	app.Get("/search", h.searchPage)
	app.Get("/api/search", h.apiSearch)
	app.Get("/kb/:lang/category/:slug", h.category)
	app.Get("/kb/:lang/*", h.article)
	app.Post("/kb/:lang/*", h.vote) // …/ARTICLE/vote

	app.Get("/tickets/new", h.newTicket)
	app.Post("/tickets", h.postTicket)
	app.Get("/tickets/:number", h.showTicket)
	app.Post("/tickets/:number/replies", h.postReply)
	app.Post("/api/tickets", h.apiPostTicket)
	app.Get("/api/tickets/:number/live", httpkit.WebSocket(h.log, h.liveCheck, h.liveSocket))
	app.Get("/api/tickets/:number", h.apiGetTicket)
	app.Post("/api/tickets/:number/replies", h.apiReply)
	app.Post("/api/deflect", h.apiDeflect)
	app.Get("/api/deflect/ws", httpkit.WebSocket(h.log, nil, h.deflectSocket))
	app.Post("/api/deflect/:session/:action", h.apiDeflectAction)

	// The agent console and its API.
	app.Get("/agent/login", h.loginForm)
	app.Post("/agent/login", h.login)
	app.Get("/agent/live", httpkit.WebSocket(h.log, h.agentLiveCheck, h.agentLiveSocket))
	app.Post("/agent/logout", h.staffSession(anyRole), h.logout)
	app.Get("/agent/password", h.staffSession(anyRole), h.passwordForm)
	app.Post("/agent/password", h.staffSession(anyRole), h.changePassword)
	agent := app.Group("/agent", h.staffSession(staff.RoleAgent))
	agent.Get("/", h.queue)
	agent.Get("/tickets/:number", h.agentTicketView)
	agent.Get("/tickets/:number/attachments/:sha", h.agentAttachment)
	agent.Post("/tickets/:number/replies", h.agentPost)
	agent.Post("/tickets/:number/status", h.agentSetStatus)
	agent.Post("/tickets/:number/severity", h.agentSetSeverity)
	agent.Post("/tickets/:number/assign", h.agentAssign)
	app.Get("/operator", h.staffSession(staff.RoleOperator), h.operator)
	api := app.Group("/api/agent", h.apiStaff(staff.RoleAgent))
	api.Get("/queue", h.apiQueue)
	api.Get("/tickets/:number", h.apiAgentTicket)
	api.Post("/tickets/:number/replies", h.apiAgentReply)
	api.Post("/tickets/:number/status", h.apiAgentStatus)
	api.Post("/tickets/:number/severity", h.apiAgentSeverity)
	api.Post("/tickets/:number/assign", h.apiAgentAssign)
	app.Get("/api/operator/audit", h.apiStaff(staff.RoleOperator), h.apiAudit)
	app.Use(h.aliasOrNotFound)
	return app, nil
}

func (h *handler) health(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok", "articles": len(h.kb.Articles)})
}

// aliasOrNotFound answers every request no route took: an old URL that an
// article claims as an alias is redirected to the article, anything else is
// not found.
func (h *handler) aliasOrNotFound(c *fiber.Ctx) error {
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		if a, ok := h.kb.Alias(unescape(c.Path())); ok {
			return c.Redirect(a.URL(), fiber.StatusMovedPermanently)
		}
	}
	return httpkit.ErrNotFound
}
