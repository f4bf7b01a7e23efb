package httpkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/ratelimit"
	"github.com/orbitask/portal/staff"
)

// RateLimits are the per-client limits on what anyone may send without
// signing in (docs/security.md). A client is its address (ClientIP, so
// behind a trusted proxy the forwarded one); an IPv6 client is its /64,
// which one subscriber usually holds whole. A zero Rule takes its default
// (DefaultRateLimits); Off turns every limit off, for benchmarks and load
// tests that send a great deal from one address.
type RateLimits struct {
	Off        bool
	Filing     ratelimit.Rule // POST /tickets, /api/tickets
	Reply      ratelimit.Rule // a customer's reply to a ticket
	NewSession ratelimit.Rule // a deflection session started (drafts within one are free)
	Vote       ratelimit.Rule // "Was this helpful?"
	SignIn     ratelimit.Rule // POST /agent/login, and agent API calls with a bad token
}

// DefaultRateLimits never bother a real customer, nor an office of them
// behind one address, yet hold a script to a trickle: each burst is what a
// busy person (or a team during an outage) might send at once, each rate
// what a script can send for ever.
func DefaultRateLimits() RateLimits {
	return RateLimits{
		Filing:     ratelimit.Rule{Burst: 10, Every: 30 * time.Second},
		Reply:      ratelimit.Rule{Burst: 20, Every: 10 * time.Second},
		NewSession: ratelimit.Rule{Burst: 20, Every: 6 * time.Second},
		Vote:       ratelimit.Rule{Burst: 10, Every: 30 * time.Second},
		SignIn:     ratelimit.Rule{Burst: 20, Every: 3 * time.Second},
	}
}

// RateLimiters are the limits in force, one per kind; a nil one allows
// everything.
type RateLimiters struct {
	Filing, Reply, NewSession, Vote, SignIn *RateLimit
}

// New starts the limiters of rl (none when Off); refusals are logged to
// log, at most once a minute per client and limit.
func (rl RateLimits) New(log *slog.Logger) RateLimiters {
	if rl.Off {
		return RateLimiters{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	def := DefaultRateLimits()
	mk := func(name string, r, d ratelimit.Rule) *RateLimit {
		if r == (ratelimit.Rule{}) {
			r = d
		}
		return &RateLimit{name: name, lim: ratelimit.New(r, 0), log: log}
	}
	return RateLimiters{
		Filing:     mk("filing", rl.Filing, def.Filing),
		Reply:      mk("reply", rl.Reply, def.Reply),
		NewSession: mk("new_session", rl.NewSession, def.NewSession),
		Vote:       mk("vote", rl.Vote, def.Vote),
		SignIn:     mk("sign_in", rl.SignIn, def.SignIn),
	}
}

// ErrRateLimited is wrapped by *RateLimitError.
var ErrRateLimited = errors.New("too many requests")

// RateLimitError refuses a request over a client's limit; the error
// handler answers 429 with Retry-After.
type RateLimitError struct {
	Limit      string
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%v (%s); try again in %s", ErrRateLimited, e.Limit, e.RetryAfter.Round(time.Millisecond))
}

func (e *RateLimitError) Unwrap() error { return ErrRateLimited }

// RetryAfter is how long a refused client should wait, in whole seconds
// (at least 1), for the Retry-After header: from a *RateLimitError or the
// sign-in limit's *staff.RateLimitError. ok is false for other errors.
func RetryAfter(err error) (seconds int, ok bool) {
	var d time.Duration
	var rl *RateLimitError
	var sl *staff.RateLimitError
	switch {
	case errors.As(err, &rl):
		d = rl.RetryAfter
	case errors.As(err, &sl):
		d = sl.RetryAfter
	default:
		return 0, false
	}
	return max(1, int(math.Ceil(d.Seconds()))), true
}

// RateLimit is one limit, per client.
type RateLimit struct {
	name string
	lim  *ratelimit.Limiter
	log  *slog.Logger
}

// Allow takes one request of client ip from its bucket, or returns a
// *RateLimitError. A nil RateLimit allows everything.
func (l *RateLimit) Allow(ip string) error {
	if l == nil {
		return nil
	}
	d := l.lim.Allow(ClientKey(ip), time.Now())
	if d.OK {
		return nil
	}
	// A client's fault, not the server's: a warning the first time in a
	// minute, the rest only when debugging.
	level := slog.LevelDebug
	if d.Report {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, "rate limit: request refused", "limit", l.name, "client", ip, "retry_after", d.RetryAfter.Round(time.Millisecond))
	return &RateLimitError{Limit: l.name, RetryAfter: d.RetryAfter}
}

// Handler is the middleware of a limited route: each request takes from
// its client's bucket.
func (l *RateLimit) Handler(c *fiber.Ctx) error {
	if err := l.Allow(ClientIP(c)); err != nil {
		return err
	}
	return c.Next()
}

// ClientKey is who a client address stands for, the key of its rate-limit
// buckets and the address part of its visitor id (events.Visitor): IPv4 as
// it is, IPv6 by its /64, which one subscriber usually holds whole. Anything
// else is kept as it is.
func ClientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// clientIPContextKey holds the client's address in a WebSocket request's
// context (RequestClientIP).
type clientIPContextKey struct{}

// RequestClientIP is ClientIP for the *http.Request a WebSocket handler
// gets.
func RequestClientIP(r *http.Request) string {
	if ip, ok := r.Context().Value(clientIPContextKey{}).(string); ok {
		return ip
	}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap().String()
	}
	return r.RemoteAddr
}
