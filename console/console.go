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
	"errors"
	"fmt"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/live"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

// Config tunes the console.
type Config struct {
	Logger *slog.Logger    // nil discards
	Assets *httpkit.Assets // the static files the pages link; nil loads them
	// RateLimits' SignIn bounds sign-in attempts and agent API calls with
	// a bad token per client; the zero value is httpkit.DefaultRateLimits.
	RateLimits httpkit.RateLimits
}

// Services are the domain components the console serves.
type Services struct {
	KB      *kb.KB // for the articles a customer read before filing
	Tickets *tickets.Store
	Deflect *deflect.Tracker
	Staff   *staff.Store
	Hub     *live.Hub // ticket changes, published by a ticketfeed.Feed with LiveEvent
}

// handler holds what the handlers need.
type handler struct {
	log     *slog.Logger
	kb      *kb.KB
	tickets *tickets.Store
	deflect *deflect.Tracker
	staff   *staff.Store
	hub     *live.Hub
	views   *views
	signIn  *httpkit.RateLimit // nil: no limit
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
	return &Console{&handler{log: log, kb: s.KB, tickets: s.Tickets, deflect: s.Deflect, staff: s.Staff, hub: s.Hub, views: vs,
		signIn: cfg.RateLimits.New(log).SignIn}}, nil
}

// Routes registers the console's pages, live feed and API on r.
func (con *Console) Routes(r fiber.Router) {
	h := con.h
	r.Get("/agent/login", h.loginForm)
	r.Post("/agent/login", h.login)
	r.Get("/agent/live", httpkit.WebSocket(h.log, h.agentLiveCheck, h.agentLiveSocket))
	r.Post("/agent/logout", h.staffSession(anyRole), h.logout)
	r.Get("/agent/password", h.staffSession(anyRole), h.passwordForm)
	r.Post("/agent/password", h.staffSession(anyRole), h.changePassword)
	agent := r.Group("/agent", h.staffSession(staff.RoleAgent))
	agent.Get("/", h.queue)
	agent.Get("/tickets/:number", h.agentTicketView)
	agent.Get("/tickets/:number/attachments/:sha", h.agentAttachment)
	agent.Post("/tickets/:number/replies", h.agentPost)
	agent.Post("/tickets/:number/status", h.agentSetStatus)
	agent.Post("/tickets/:number/severity", h.agentSetSeverity)
	agent.Post("/tickets/:number/assign", h.agentAssign)
	r.Get("/operator", h.staffSession(staff.RoleOperator), h.operator)
	api := r.Group("/api/agent", h.apiStaff(staff.RoleAgent))
	api.Get("/queue", h.apiQueue)
	api.Get("/tickets/:number", h.apiAgentTicket)
	api.Post("/tickets/:number/replies", h.apiAgentReply)
	api.Post("/tickets/:number/status", h.apiAgentStatus)
	api.Post("/tickets/:number/severity", h.apiAgentSeverity)
	api.Post("/tickets/:number/assign", h.apiAgentAssign)
	r.Get("/api/operator/audit", h.apiStaff(staff.RoleOperator), h.apiAudit)
}
