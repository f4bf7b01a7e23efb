// Package console is the portal's staff side: the agent console (the queue,
// a ticket with everything an agent needs, and the actions on it) and the
// operators' page, as pages (session cookie and CSRF token, sign-in and
// password under /agent) and as a JSON API under /api/agent and
// /api/operator (personal access token). Pages and API call the same
// tickets.Store methods.
//
// It stands on httpkit beside the customer side (web) and imports neither
// web nor anything that imports it; server mounts both on one app.
package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/i18n"
	"github.com/orbitask/portal/insights"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/live"
	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/publish"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

// Config tunes the console.
type Config struct {
	Logger *slog.Logger // nil discards
	// Errors logs the live feed's server errors, repeats summed up: the
	// server's one, shared with its error handler. nil: one of its own.
	Errors *httpkit.ErrorLog
	Assets *httpkit.Assets // the static files the pages link; nil loads them
	// Clients serves /agent/live (capped per address, told when the server
	// stops); the server's one, shared with the customer side. nil: one of
	// the console's own with the defaults.
	Clients *httpkit.Clients
	// RateLimits' SignIn bounds sign-in attempts and agent API calls with
	// a bad token per client; the zero value is httpkit.DefaultRateLimits.
	RateLimits httpkit.RateLimits
	// SignIn, when set, is the sign-in limiter to use instead of one of
	// RateLimits': server.New shares one with /content.git, so that
	// guesses there and here count against the same allowance.
	SignIn *httpkit.RateLimit
}

// Services are the domain components the console serves.
type Services struct {
	// KB is the live knowledge base, asked on each request (a publish
	// replaces it): for the articles a customer read before filing and
	// the writers' pages.
	KB      func() *kb.KB
	Tickets *tickets.Store
	Deflect *deflect.Tracker
	Staff   *staff.Store
	Hub     *live.Hub // ticket changes, published by a ticketfeed.Feed with LiveEvent
	// Health says what keeps the portal from working fully, one reason a
	// line (app.App.Health), for the operators' page. Nil: nothing to
	// report.
	Health func() []string
	// History lists the changes to an article's file (its path under the
	// content root, kb.Article.Path), newest first, at most limit, each
	// with its diff, for the writers' history page. Nil: the page says
	// there is no history.
	History func(ctx context.Context, contentPath string, limit int) ([]Revision, error)
	// Publisher shows operators what is published, serves previews of
	// preview/NAME branches to staff; nil: neither.
	Publisher *publish.Publisher
	// Insights has the operators' figures: their dashboard on /operator,
	// its CSV exports and /api/metrics/deflection; nil: none of them.
	Insights *insights.Store
	// Metrics serves the Prometheus metrics at /metrics, to operators'
	// tokens (telemetry.Metrics.Handler); nil: no /metrics.
	Metrics http.Handler
	// Mail is the outbox's sender: operators see the mails that failed for
	// good and send them again; nil: no mail section.
	Mail *mail.Sender
}

// handler holds what the handlers need.
type handler struct {
	log      *slog.Logger
	errors   *httpkit.ErrorLog
	kb       func() *kb.KB
	pub      *publish.Publisher // nil: no previews, no publishing section
	mail     *mail.Sender       // nil: no mail section
	insights *insights.Store    // nil: no dashboard, no /api/metrics/deflection
	metrics  http.Handler       // Services.Metrics; nil: no /metrics
	tickets  *tickets.Store
	deflect  *deflect.Tracker
	staff    *staff.Store
	hub      *live.Hub
	health   func() []string                                                              // Services.Health
	history  func(ctx context.Context, contentPath string, limit int) ([]Revision, error) // Services.History; nil: none
	views    *views
	clients  *httpkit.Clients
	signIn   *httpkit.RateLimit // nil: no limit
	words    *i18n.Bundle       // the customers' words: standard answers in a ticket's language
}

// Console is the staff side, ready to be mounted with Routes.
type Console struct{ h *handler }

// New builds the console. Its templates are checked here, so a broken one
// fails at start.
func New(cfg Config, s Services) (*Console, error) {
	if s.KB == nil || s.Tickets == nil || s.Deflect == nil || s.Staff == nil || s.Hub == nil {
		return nil, errors.New("console: new: every service is required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	as := cfg.Assets
	if as == nil {
		var err error
		if as, err = httpkit.LoadAssets(); err != nil {
			return nil, fmt.Errorf("console: %w", err)
		}
	}
	vs, err := parseViews(as)
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	words, err := i18n.Load()
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	clients := cfg.Clients
	if clients == nil {
		clients = httpkit.NewClients(httpkit.ClientsConfig{Logger: log})
	}
	errs := cfg.Errors
	if errs == nil {
		errs = httpkit.NewErrorLog(log, 0)
	}
	signIn := cfg.SignIn
	if signIn == nil {
		signIn = cfg.RateLimits.New(log).SignIn
	}
	return &Console{&handler{log: log, kb: s.KB, tickets: s.Tickets, deflect: s.Deflect, staff: s.Staff, hub: s.Hub, health: s.Health, history: s.History, pub: s.Publisher, mail: s.Mail, views: vs,
		clients: clients, signIn: signIn, errors: errs, insights: s.Insights, metrics: s.Metrics, words: words}}, nil
}

// Routes registers the console's pages, live feed and API on r.
func (con *Console) Routes(r fiber.Router) {
	h := con.h
	// Every POST bounds its body first, before a middleware reads a field
	// of it (the session's CSRF check) or anything else is done; the POST
	// routes come before the groups so that the groups' middleware does
	// not run ahead of them.
	small, form, reply := httpkit.MaxBody(httpkit.SmallBodyLimit), httpkit.MaxBody(httpkit.FormBodyLimit), httpkit.MaxBody(httpkit.ReplyBodyLimit)
	r.Get("/agent/login", h.loginForm)
	r.Post("/agent/login", form, h.login)
	r.Get("/agent/live", h.clients.WebSocket(h.agentLiveCheck, h.agentLiveSocket))
	r.Post("/agent/logout", small, h.staffSession(anyRole), h.logout)
	r.Get("/agent/password", h.staffSession(anyRole), h.passwordForm)
	r.Post("/agent/password", form, h.staffSession(anyRole), h.changePassword)
	agentSession := h.staffSession(staff.RoleAgent)
	r.Post("/agent/tickets/:number/replies", reply, agentSession, h.agentPost)
	r.Post("/agent/tickets/:number/status", small, agentSession, h.agentSetStatus)
	r.Post("/agent/tickets/:number/severity", form, agentSession, h.agentSetSeverity)
	r.Post("/agent/tickets/:number/assign", small, agentSession, h.agentAssign)
	r.Post("/agent/tickets/:number/confirm-email", small, agentSession, h.agentConfirmEmail) // confirm.go
	// Anything else under /agent is bounded too: the session middleware
	// reads the CSRF field of any request that is not a GET.
	agent := r.Group("/agent", small, agentSession)
	agent.Get("/", h.queue)
	agent.Get("/tickets/:number", h.agentTicketView)
	agent.Get("/tickets/:number/attachments/:sha", h.agentAttachment)
	operatorSession := h.staffSession(staff.RoleOperator)
	r.Get("/operator", operatorSession, h.operator)
	r.Get("/operator/export/:file", operatorSession, h.export)
	r.Post("/operator/mail/:id/retry", small, operatorSession, h.retryMail)
	writerSession := h.staffSession(staff.RoleWriter) // writers and operators (mayDo)
	r.Post("/writer/tokens", form, writerSession, h.createToken)
	r.Post("/writer/tokens/:id/revoke", small, writerSession, h.revokeToken)
	writer := r.Group("/writer", small, writerSession)
	writer.Get("/", h.writer)
	writer.Get("/tokens", h.tokens)
	writer.Get("/articles/:lang/*", h.articleHistory) // …/SLUG/history; slugs may hold "/"
	// Previews are for every signed-in staff member: an agent may check an
	// answer before it is published.
	preview := r.Group("/preview", small, h.staffSession(anyRole))
	preview.Get("/:name/", h.preview)
	preview.Get("/:name/kb/:lang/*", h.previewArticle)
	apiAgent := h.apiStaff(staff.RoleAgent)
	r.Post("/api/agent/tickets/:number/replies", reply, apiAgent, h.apiAgentReply)
	r.Post("/api/agent/tickets/:number/status", small, apiAgent, h.apiAgentStatus)
	r.Post("/api/agent/tickets/:number/severity", form, apiAgent, h.apiAgentSeverity)
	r.Post("/api/agent/tickets/:number/assign", small, apiAgent, h.apiAgentAssign)
	api := r.Group("/api/agent", small, apiAgent)
	api.Get("/queue", h.apiQueue)
	api.Get("/tickets/:number", h.apiAgentTicket)
	r.Get("/api/operator/audit", h.apiStaff(staff.RoleOperator), h.apiAudit)
	r.Get("/api/metrics/deflection", small, h.apiStaff(staff.RoleOperator), h.apiDeflection)
	if h.metrics != nil {
		r.Get("/metrics", plainErrors, small, h.apiStaff(staff.RoleOperator), adaptor.HTTPHandler(h.metrics))
	}
}
