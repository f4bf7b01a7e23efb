// Package server builds the portal's HTTP server from its services: one
// Fiber app (httpkit's, with the one error handler) carrying the customer
// side (web) and the staff console (console), and last the customer side's
// catch-all for old URLs and 404s. It is the one package that knows both
// front ends.
package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/app"
	"github.com/orbitask/portal/console"
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/gitweb"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/search"
	"github.com/orbitask/portal/ticketfeed"
	"github.com/orbitask/portal/web"
)

// Config tunes the HTTP server.
type Config struct {
	Logger *slog.Logger // where requests and server errors are logged; nil discards
	// PageSize is the number of results on one page of /search; 0 means 10.
	PageSize int
	// TrustedProxies: see httpkit.Config.TrustedProxies.
	TrustedProxies []string
	// Timeouts: see httpkit.Config.Timeouts.
	Timeouts httpkit.Timeouts
	// Clients serves both sides' WebSockets and tracks requests in flight;
	// the caller keeps it to stop them (GoAway, Wait). nil: one with the
	// defaults.
	Clients *httpkit.Clients
	// UploadMemory: see web.Config.UploadMemory (0: web.DefaultUploadMemory).
	UploadMemory int64
	// RateLimits bound anonymous writes per client (both sides); the zero
	// value is httpkit.DefaultRateLimits, Off turns them off.
	RateLimits httpkit.RateLimits
	// AnonymousClone lets anyone clone /content.git (pushing always needs
	// a writer's token).
	AnonymousClone bool
	// GitWebhookSecret verifies POST /api/hooks/git (a git host's push
	// webhook); empty: the endpoint refuses every request.
	GitWebhookSecret string
	// Content overrides how /content.git is served (package gitweb), for
	// tests; nil: the app's repository, published by its publisher.
	Content *gitweb.Config
}

// LiveEncoders are what the two front ends' watchers receive for a ticket
// change; app.Open gives them to the ticket feed.
var LiveEncoders = ticketfeed.Encoders{Customers: web.LiveEvent, Agents: console.LiveEvent}

// New builds the HTTP server over a's services (opened with LiveEncoders).
// Templates and static files are checked here, so a broken template fails
// at start.
func New(cfg Config, a *app.App) (*fiber.App, error) {
	as, err := httpkit.LoadAssets()
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	clients := cfg.Clients
	if clients == nil {
		clients = httpkit.NewClients(httpkit.ClientsConfig{Logger: cfg.Logger})
	}
	// One log of server errors for requests and sockets alike, so that a
	// cause failing everything is logged once per interval.
	errs := httpkit.NewErrorLog(cfg.Logger, 0)
	pub := a.Publisher
	history := func(ctx context.Context, contentPath string, limit int) ([]console.Revision, error) {
		commits, err := pub.History(ctx, contentPath, limit)
		if err != nil {
			return nil, err
		}
		out := make([]console.Revision, len(commits))
		for i, c := range commits {
			out[i] = console.Revision{ID: c.ID, Author: c.Author, When: c.When, Subject: c.Subject, Patch: c.Patch}
		}
		return out, nil
	}
	a.Metrics.LiveConnections(clients.Sockets)
	// One allowance of failed sign-ins per client, whether it guesses at
	// the console's form, the API or /content.git.
	signIn := cfg.RateLimits.New(cfg.Logger).SignIn
	staffSide, err := console.New(console.Config{Logger: cfg.Logger, Assets: as, Clients: clients, RateLimits: cfg.RateLimits, Errors: errs, SignIn: signIn},
		console.Services{KB: a.Search.KB, Tickets: a.Tickets, Deflect: a.Deflect, Staff: a.Staff, Hub: a.Hub, Health: a.Health,
			History: history, Publisher: pub, Insights: a.Insights, Metrics: a.Metrics.Handler(cfg.Logger), Mail: a.Mail})
	if err != nil {
		return nil, err
	}
	site, err := web.New(web.Config{Logger: cfg.Logger, PageSize: cfg.PageSize, Assets: as, Clients: clients, UploadMemory: cfg.UploadMemory,
		RateLimits: cfg.RateLimits, Errors: errs, OnSearch: a.Metrics.Search},
		web.Services{Search: a.Search, Events: a.Events, Tickets: a.Tickets, Deflect: a.Deflect, Hub: a.Hub, Health: a.Health,
			Provenance: pub.Provenance, MayWrite: staffSide.MayWrite, Questions: a.Route.Question})
	if err != nil {
		return nil, err
	}
	srv := httpkit.NewApp(httpkit.Config{Logger: cfg.Logger, TrustedProxies: cfg.TrustedProxies, Timeouts: cfg.Timeouts,
		Clients: clients, Errors: errs, OnRequest: a.Metrics.Request}, site.ErrorPage)
	site.Routes(srv)
	staffSide.Routes(srv)
	content := gitweb.Config{}
	if cfg.Content != nil {
		content = *cfg.Content
	}
	if content.Staff == nil {
		content.Staff = a.Staff
	}
	if content.Logger == nil {
		content.Logger = cfg.Logger
	}
	if content.RateLimits == (httpkit.RateLimits{}) {
		content.RateLimits = cfg.RateLimits
		content.SignIn = signIn
	}
	if content.Repo == nil {
		content.Repo = a.Repo
	}
	if content.Receive == nil && content.Check == nil {
		content.Receive = pub.Receive
	}
	if content.Publisher == nil {
		content.Publisher, content.WebhookSecret, content.RemoteBranch = pub, cfg.GitWebhookSecret, pub.RemoteBranch()
	}
	content.AllowAnonymousClone = content.AllowAnonymousClone || cfg.AnonymousClone
	gitweb.New(content).Register(srv)
	srv.Use(httpkit.Fallback(site.NotFound)) // last: what no route took is an old URL or not found
	return srv, nil
}

// SearchWarm is app.Config.SearchWarm for a server built with cfg: the
// queries its customer side runs for the searches given, so that the
// search cache warmed with them answers its requests.
func SearchWarm(cfg Config) func([]events.WarmQuery) []search.Query {
	return func(recent []events.WarmQuery) []search.Query { return web.WarmQueries(recent, cfg.PageSize) }
}
