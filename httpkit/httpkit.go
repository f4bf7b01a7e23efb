// Package httpkit holds what the portal's two HTTP front ends share, so that
// neither imports the other: the customer side (web) and the staff console
// (console) are mounted on one Fiber app built here, with the one error
// handler that maps the domain packages' errors to status codes, request
// logging, security headers and trusted proxies; and both use its
// per-client rate limits, fingerprinted static files, WebSocket upgrades,
// safe Markdown for messages, page templates and the customer's JSON view
// of a ticket (which the agent API extends). It has no routes of its own.
package httpkit

import (
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/orbitask/portal/tickets"
)

// Config tunes the app.
type Config struct {
	Logger *slog.Logger // where requests and server errors are logged; nil discards
	// TrustedProxies are the addresses (or CIDR ranges) of reverse proxies
	// in front of the portal: from them alone X-Forwarded-For gives the
	// client's address (sign-in limits per address) and X-Forwarded-Proto
	// says the request came over TLS (Secure cookies). Empty: nobody's
	// forwarding headers are believed.
	TrustedProxies []string
	// ErrorLogInterval is how often repeats of one server error are summed
	// up in one line, rather than each logged; 0 means
	// DefaultErrorLogInterval.
	ErrorLogInterval time.Duration
	// Errors, if not nil, is the server's one ErrorLog (shared with the
	// WebSocket handlers); nil: one of the app's own.
	Errors *ErrorLog
	// Timeouts bound how long a client may take to send a request (zero
	// fields: the defaults); they hold on a listener wrapped by Serve or
	// Listener.
	Timeouts Timeouts
	// Clients, if not nil, follows the connections in a request, so that
	// a shutdown can name what it cuts; the same Clients serves the app's
	// WebSockets.
	Clients *Clients
	// OnRequest, if not nil, is told of every answered request: its route
	// (Route), method, status and how long it took, for the operators'
	// metrics.
	OnRequest func(route, method string, status int, d time.Duration)
}

// ErrorPage answers a failed request that is not an API call with a page;
// status and msg are what StatusOf gave. The customer side supplies it.
type ErrorPage func(c *fiber.Ctx, status int, msg string) error

// ContentSecurityPolicy allows only the portal's own files: no inline
// scripts or styles anywhere.
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// NewApp builds the portal's Fiber app, without routes: its error handler
// answers /api/ calls with JSON and everything else with page; every
// request is logged and carries the security headers, and text responses
// are compressed for clients that accept it (compressResponses).
func NewApp(cfg Config, page ErrorPage) *fiber.App {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	timeouts := cfg.Timeouts.withDefaults()
	errs := cfg.Errors
	if errs == nil {
		errs = NewErrorLog(log, cfg.ErrorLogInterval)
	}
	app := fiber.New(fiber.Config{
		// Values from the request are copied, so handlers may keep them
		// (e.g. in a search event written later).
		Immutable:             true,
		DisableStartupMessage: true,
		ErrorHandler:          errorHandler(errs, page),
		AppName:               "Orbitask Help Center",
		// Bodies are streamed: the server reads none before the handler
		// (beyond a first 8 KiB), so a filing takes its share of the upload
		// budget before its attachments are read, and parses its multipart
		// body itself (a malformed one is answered as the API answers, not
		// with fasthttp's plain-text 400). Every route that takes a body
		// bounds it (MaxBody, or the filing's own limits); BodyLimit no
		// longer refuses anything.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		BodyLimit:                    tickets.MaxAttachments*tickets.MaxAttachmentSize + 1<<20,
		// Slow or idle clients must not hold connections forever: reads are
		// timed by the connections of Serve's listener (cfg.Timeouts), not
		// by a ReadTimeout over header and body together. IdleTimeout is
		// theirs too; fasthttp's copy also closes idle connections at
		// shutdown.
		WriteTimeout: 30 * time.Second,
		IdleTimeout:  timeouts.KeepAlive,
		// Forwarding headers only from the proxies named in the config.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          cfg.TrustedProxies,
		// No ProxyHeader: Fiber would take X-Forwarded-For's left-most
		// entry, which the client writes; clientAddress does it right.
	})
	app.Server().ConnState = connStates(timeouts, log, cfg.Clients)
	handlers := []any{clientAddress(parseTrusted(cfg.TrustedProxies)), finishBody, compressResponses()}
	if cfg.OnRequest != nil {
		// Outside logRequests, which runs the error handler: the status
		// observed is the one sent.
		handlers = append(handlers, observeRequests(cfg.OnRequest))
	}
	handlers = append(handlers, logRequests(log), refuseAmbiguousFraming(log), recover.New(), securityHeaders)
	app.Use(handlers...)
	return app
}

// Unmatched is the route of a request that no route took: a 404, an old
// URL the catch-all redirects, or one the app's own middleware refused.
const Unmatched = "unmatched"

// unmatchedKey marks, in a request's locals, a request that reached the
// catch-all (Fallback).
const unmatchedKey = "httpkit.unmatched"

// Fallback marks the requests h answers as Unmatched: h is the catch-all
// after every route. (Fiber names a middleware's route by its prefix, as
// it does a route, so the catch-all's "/" would pass for the home page.)
func Fallback(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(unmatchedKey, true)
		return h(c)
	}
}

// observeRequests tells report of each request once it is answered, by
// the pattern of the route that answered it ("/kb/:lang/*"), never the
// path requested, so that metrics by route stay few. A request answered
// by a group's middleware before its route (a sign-in redirect) has the
// group's prefix.
func observeRequests(report func(route, method string, status int, d time.Duration)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		self := c.Route() // the app's middleware, this handler among them
		err := c.Next()   // nil: logRequests, inside, has answered errors
		route := c.Route()
		name := route.Path
		if route == self || c.Locals(unmatchedKey) != nil {
			name = Unmatched
		}
		status := c.Response().StatusCode()
		if c.Context().Hijacked() {
			// A WebSocket upgrade: its 101 went out on the hijacked
			// connection, not through the response.
			status = fiber.StatusSwitchingProtocols
		}
		report(name, c.Method(), status, time.Since(start))
		return err
	}
}

// clientIPKey holds the client's address in a request's locals.
const clientIPKey = "httpkit.client-ip"

// ClientIP is the client's address: the connection's peer, or, when the
// peer is a trusted proxy, the right-most X-Forwarded-For address that is
// not a trusted proxy. Everything left of it was written by whoever sent
// the request and proves nothing.
func ClientIP(c *fiber.Ctx) string {
	if ip, ok := c.Locals(clientIPKey).(string); ok {
		return ip
	}
	return c.IP()
}

func clientAddress(trusted []netip.Prefix) fiber.Handler {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return func(c *fiber.Ctx) error {
		ip := c.IP()
		if peer, err := netip.ParseAddr(ip); err == nil && len(trusted) > 0 && isTrusted(peer) {
			var hops []string
			for _, h := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
				hops = append(hops, strings.Split(string(h), ",")...)
			}
			for i := len(hops) - 1; i >= 0; i-- {
				a, ok := parseHop(strings.TrimSpace(hops[i]))
				if !ok {
					break // a malformed hop: nothing left of it can be believed
				}
				ip = a.Unmap().String()
				if !isTrusted(a) {
					break
				}
			}
		}
		c.Locals(clientIPKey, ip)
		return c.Next()
	}
}

// parseHop reads one X-Forwarded-For entry: an address, or an address and
// port ("203.0.113.7:51234", "[2001:db8::1]:51234"), as some proxies
// append the peer's.
func parseHop(h string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(h); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr(), true
	}
	return netip.Addr{}, false
}

// parseTrusted reads proxy addresses and CIDR ranges (checked by the
// command line already; a bad one is left out).
func parseTrusted(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
		}
	}
	return out
}

// securityHeaders sets the headers every response carries.
func securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	c.Set("Content-Security-Policy", ContentSecurityPolicy)
	// Over TLS (directly, or through a trusted proxy saying so), browsers
	// are told to use nothing else for a year. Never over plain HTTP: a
	// plain-HTTP answer cannot be trusted to say it.
	if c.Protocol() == "https" {
		c.Set("Strict-Transport-Security", "max-age=31536000")
	}
	return c.Next()
}

// logRequests logs each request once it is answered. It runs the error
// handler itself so that the status it logs is the one sent.
func logRequests(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		if err := c.Next(); err != nil {
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				log.Error("error handler failed", "path", c.Path(), "error", herr)
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		level := slog.LevelInfo
		if p := c.Path(); p == "/healthz" || strings.HasPrefix(p, "/static/") {
			level = slog.LevelDebug
		}
		log.Log(c.UserContext(), level, "request",
			"method", c.Method(), "path", c.Path(), "status", c.Response().StatusCode(), "duration", time.Since(start))
		return nil
	}
}
