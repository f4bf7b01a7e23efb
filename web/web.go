// Package web is the portal's HTTP layer: routes, handlers, templates and
// static files. It is the only package that imports Fiber; it maps the domain
// packages' errors to status codes in one error handler.
package web

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/fields"
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

// contentSecurityPolicy allows only the portal's own files: no inline
// scripts or styles anywhere.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

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
	assets     *assets
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
	as, err := loadAssets()
	if err != nil {
		return nil, fmt.Errorf("web: static files: %w", err)
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
	if h.agentViews, err = parseAgentViews(as, messageMarkdown); err != nil {
		return nil, fmt.Errorf("web: agent templates: %w", err)
	}
	h.staff = s.Staff
	if h.pageSize <= 0 {
		h.pageSize = 10
	}

	app := fiber.New(fiber.Config{
		// Values from the request are copied, so handlers may keep them
		// (e.g. in a search event written later).
		Immutable:             true,
		DisableStartupMessage: true,
		ErrorHandler:          h.handleError,
		AppName:               "Orbitask Help Center",
		// Slow or idle clients must not hold connections forever.
		// Room for a filing's attachments (5 × 10 MB) and its text.
		BodyLimit:    tickets.MaxAttachments*tickets.MaxAttachmentSize + 1<<20,
		ReadTimeout:  15 * time.Second,
		WriteTimeout: 30 * time.Second,
		IdleTimeout:  2 * time.Minute,
		// Forwarding headers only from the proxies named in the config.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          cfg.TrustedProxies,
		ProxyHeader:             proxyHeader(cfg.TrustedProxies),
		EnableIPValidation:      true,
	})
	app.Use(h.logRequests, recover.New(), securityHeaders)

	app.Get("/healthz", h.health)
	app.Get("/static/:name", h.static)
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
	app.Get("/api/tickets/:number/live", websocketHandler(h.log, h.liveCheck, h.liveSocket))
	app.Get("/api/tickets/:number", h.apiGetTicket)
	app.Post("/api/tickets/:number/replies", h.apiReply)
	app.Post("/api/deflect", h.apiDeflect)
	app.Get("/api/deflect/ws", websocketHandler(h.log, nil, h.deflectSocket))
	app.Post("/api/deflect/:session/:action", h.apiDeflectAction)

	// The agent console and its API.
	app.Get("/agent/login", h.loginForm)
	app.Post("/agent/login", h.login)
	app.Get("/agent/live", websocketHandler(h.log, h.agentLiveCheck, h.agentLiveSocket))
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

func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}

// errNotFound answers 404 for anything the portal does not have.
var errNotFound = fiber.ErrNotFound

// badRequest is a mistake in the request, answered with 400 and msg.
func badRequest(msg string) error {
	return fiber.NewError(fiber.StatusBadRequest, msg)
}

// handleError answers a failed request with the status httpError gives;
// server errors are logged here and only here.
func (h *handler) handleError(c *fiber.Ctx, err error) error {
	code, msg := httpError(err)
	if code >= 500 {
		h.log.Error("request failed", "method", c.Method(), "path", c.Path(), "error", err)
	}
	if strings.HasPrefix(c.Path(), "/api/") {
		var fe *fields.Error
		if errors.As(err, &fe) {
			return c.Status(code).JSON(fiber.Map{"error": msg, "fields": fe.Messages(), "codes": apiCodes(fe)})
		}
		if code == fiber.StatusUnauthorized {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="orbitask"`)
		}
		return c.Status(code).JSON(fiber.Map{"error": msg})
	}
	return h.renderError(c, code, msg)
}

// apiCodes are the "codes" of a 422 answer: for each field at fault, one
// object with its code and the code's parameters ({"code": "too_long",
// "max": 200}). An attachments problem lists its files, each with its name:
// {"code": "files", "files": [{"name": "a.txt", "code": "file_too_large",
// "max_mb": 10}]}.
func apiCodes(fe *fields.Error) map[string]map[string]any {
	out := make(map[string]map[string]any, len(fe.Fields))
	for field, p := range fe.Fields {
		c := apiCode(p.Code, p.Params)
		if p.Code == fields.Files {
			files := make([]map[string]any, len(p.Files))
			for i, f := range p.Files {
				files[i] = apiCode(f.Code, f.Params)
				files[i]["name"] = f.Name
			}
			c["files"] = files
		}
		out[field] = c
	}
	return out
}

func apiCode(code string, params fields.Params) map[string]any {
	c := make(map[string]any, len(params)+1)
	for k, v := range params {
		c[k] = v
	}
	c["code"] = code
	return c
}

// httpError is the one place where errors become status codes: a bad query
// is the caller's mistake (400), a missing thing is 404, and anything else is
// a server error whose details stay in the log.
func httpError(err error) (int, string) {
	var fe *fiber.Error
	var ve *fields.Error
	switch {
	case errors.As(err, &ve):
		return fiber.StatusUnprocessableEntity, "some fields need attention"
	case errors.Is(err, staff.ErrUnauthenticated), errors.Is(err, staff.ErrBadCredentials):
		return fiber.StatusUnauthorized, "sign in with a valid staff account or access token"
	case errors.Is(err, staff.ErrRateLimited):
		return fiber.StatusTooManyRequests, "too many failed sign-ins; try again later"
	case errors.Is(err, staff.ErrNotFound):
		return fiber.StatusNotFound, "not found"
	case errors.Is(err, search.ErrInvalidQuery):
		return fiber.StatusBadRequest, strings.TrimPrefix(err.Error(), search.ErrInvalidQuery.Error()+": ")
	case errors.Is(err, kb.ErrNotFound), errors.Is(err, tickets.ErrNotFound), errors.Is(err, deflect.ErrUnknownSession):
		return fiber.StatusNotFound, "not found"
	case errors.Is(err, tickets.ErrClosed):
		return fiber.StatusConflict, "the ticket is closed; please file a new one"
	case errors.Is(err, deflect.ErrSessionClosed):
		return fiber.StatusConflict, "this draft has already been solved or filed"
	case errors.As(err, &fe):
		if fe.Code == fiber.StatusNotFound {
			return fe.Code, "not found"
		}
		return fe.Code, fe.Message
	}
	return fiber.StatusInternalServerError, "Something went wrong on our side. Please try again later."
}

// securityHeaders sets the headers every response carries.
func securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	c.Set("Content-Security-Policy", contentSecurityPolicy)
	return c.Next()
}

// logRequests logs each request once it is answered. It runs the error
// handler itself so that the status it logs is the one sent.
func (h *handler) logRequests(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			h.log.Error("error handler failed", "path", c.Path(), "error", herr)
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	level := slog.LevelInfo
	if p := c.Path(); p == "/healthz" || strings.HasPrefix(p, "/static/") {
		level = slog.LevelDebug
	}
	h.log.Log(c.UserContext(), level, "request",
		"method", c.Method(), "path", c.Path(), "status", c.Response().StatusCode(), "duration", time.Since(start))
	return nil
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
	return errNotFound
}
