package httpkit

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gorilla/websocket"
)

// DefaultSocketsPerClient is how many WebSockets one client address may
// hold open at once unless configured: room for an office of agents and
// customers behind one NAT address, each with a few tabs.
const DefaultSocketsPerClient = 200

// Retry-After of a refused upgrade, in seconds.
const (
	retryTooMany      = "30"
	retryShuttingDown = "5"
)

// ClientsConfig tunes Clients.
type ClientsConfig struct {
	Logger *slog.Logger // nil discards
	// SocketsPerClient caps the WebSockets open at once from one client
	// (ClientIP, keyed as the rate limits key it: an IPv6 /64 is one);
	// 0 means DefaultSocketsPerClient, negative no cap.
	SocketsPerClient int
}

// Clients keeps what the server's clients hold open beyond the moment: the
// WebSockets (capped per client address, each told "going away" when the
// server stops) and the connections in a request (named in the log when a
// shutdown cuts them). One per server: NewApp, web and console share it.
type Clients struct {
	log       *slog.Logger
	perClient int
	reports   *Reporter // refusals: WARN once a minute per client

	mu       sync.Mutex
	byClient map[string]int               // sockets per client (ClientKey), from before the upgrade until the handler returns
	sockets  map[*websocket.Conn]struct{} // upgraded and not yet returned
	active   int                          // sum of byClient
	closing  bool                         // GoAway was called: no new sockets
	drained  chan struct{}                // closed once closing and no socket is left
	conns    map[net.Conn]struct{}        // in a request (not idle between requests, not hijacked)
}

// NewClients returns an empty Clients.
func NewClients(cfg ClientsConfig) *Clients {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	per := cfg.SocketsPerClient
	if per == 0 {
		per = DefaultSocketsPerClient
	}
	return &Clients{log: log, perClient: per, reports: NewReporter(), byClient: map[string]int{}, sockets: map[*websocket.Conn]struct{}{},
		drained: make(chan struct{}), conns: map[net.Conn]struct{}{}}
}

// WebSocket upgrades the request and hands the connection to serve, which
// owns it until it returns. Before the upgrade, a client address holding
// its cap of sockets gets 429 and a server shutting down 503, both with
// Retry-After; then check, if not nil, may refuse the request: its error
// is answered with the status StatusOf gives. A request that is not a
// valid WebSocket handshake, or comes from another site, is refused by the
// upgrader with an HTTP error (400 or 403).
func (cl *Clients) WebSocket(check func(r *http.Request) error, serve func(conn *websocket.Conn, r *http.Request)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ip := ClientIP(c)
		// Counted as the rate limits count: an IPv6 subscriber holds a
		// whole /64 and could otherwise open the cap from each address.
		key := ClientKey(ip)
		if err := cl.reserve(c, ip, key); err != nil {
			return err
		}
		var started atomic.Bool
		err := adaptor.HTTPHandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			started.Store(true)
			defer cl.release(key)
			cl.serveSocket(w, r, ip, check, serve)
		})(c)
		// The adaptor returns once the handler has answered or hijacked the
		// connection, so started is settled; a request it could not convert
		// never reached the handler and holds its place still.
		if !started.Load() {
			cl.release(key)
		}
		return err
	}
}

// reserve counts a socket for client key (of address ip), or refuses it.
func (cl *Clients) reserve(c *fiber.Ctx, ip, key string) error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	switch {
	case cl.closing:
		c.Set(fiber.HeaderRetryAfter, retryShuttingDown)
		return fiber.NewError(fiber.StatusServiceUnavailable, "the server is restarting; try again in a moment")
	case cl.perClient > 0 && cl.byClient[key] >= cl.perClient:
		// A page reconnecting in a loop would log every attempt.
		cl.log.Log(c.UserContext(), cl.reports.Level(ip), "websocket refused: too many from one address",
			"client", ip, "path", c.Path(), "limit", cl.perClient)
		c.Set(fiber.HeaderRetryAfter, retryTooMany)
		return fiber.NewError(fiber.StatusTooManyRequests, "too many open live connections from your address")
	}
	cl.byClient[key]++
	cl.active++
	return nil
}

func (cl *Clients) release(key string) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.byClient[key]--; cl.byClient[key] <= 0 {
		delete(cl.byClient, key)
	}
	cl.active--
	if cl.closing && cl.active == 0 {
		close(cl.drained)
	}
}

func (cl *Clients) serveSocket(w http.ResponseWriter, r *http.Request, ip string, check func(r *http.Request) error, serve func(conn *websocket.Conn, r *http.Request)) {
	// The adaptor's request context is Fiber's request, which Fiber keeps
	// using after the connection is hijacked; the socket's work must not
	// share it (the race detector catches it). The client's address goes
	// with it (RequestClientIP).
	r = r.WithContext(context.WithValue(context.Background(), clientIPContextKey{}, ip))
	if check != nil {
		if err := check(r); err != nil {
			status, msg := StatusOf(err)
			if status >= 500 {
				cl.log.Error("request failed", "path", r.URL.Path, "error", err)
			}
			http.Error(w, msg, status)
			return
		}
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	defer conn.Close()
	cl.mu.Lock()
	if cl.closing { // GoAway ran during the upgrade and missed this one
		cl.mu.Unlock()
		goingAway(conn)
		return
	}
	cl.sockets[conn] = struct{}{}
	cl.mu.Unlock()
	defer func() {
		cl.mu.Lock()
		delete(cl.sockets, conn)
		cl.mu.Unlock()
	}()
	// A panic here would otherwise go to fasthttp's logger, which Fiber
	// silences: log it as the server fault it is and tell the client.
	defer func() {
		if p := recover(); p != nil {
			cl.log.Error("websocket handler panicked", "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			msg := websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "internal error")
			_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		}
	}()
	conn.SetReadLimit(64 << 10)
	serve(conn, r)
}

// goingAway tells the peer the server is stopping (1001), so that it
// reconnects later rather than at once.
func goingAway(conn *websocket.Conn) {
	msg := websocket.FormatCloseMessage(websocket.CloseGoingAway, "server restarting")
	_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
}

// GoAway starts the shutdown of the sockets: upgrades are refused from now
// on and every open socket is sent close 1001 "going away". Their handlers
// end when the peers answer; Wait waits for that.
func (cl *Clients) GoAway() {
	cl.mu.Lock()
	if cl.closing {
		cl.mu.Unlock()
		return
	}
	cl.closing = true
	if cl.active == 0 {
		close(cl.drained)
	}
	conns := make([]*websocket.Conn, 0, len(cl.sockets))
	for c := range cl.sockets {
		conns = append(conns, c)
	}
	cl.mu.Unlock()
	// In parallel: a peer that reads slowly holds its write for up to a
	// second and must not hold up the others.
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			goingAway(c)
		}()
	}
	wg.Wait()
	cl.log.Info("websockets told the server is going away", "sockets", len(conns))
}

// Wait waits, after GoAway, until every socket's handler has returned or
// ctx ends; then it closes the sockets still open and returns how many.
func (cl *Clients) Wait(ctx context.Context) int {
	select {
	case <-cl.drained:
		return 0
	case <-ctx.Done():
	}
	cl.mu.Lock()
	n := len(cl.sockets)
	for c := range cl.sockets {
		c.NetConn().Close() // the handler's next read or write fails, and it returns
	}
	cl.mu.Unlock()
	select {
	case <-cl.drained:
	case <-time.After(time.Second):
	}
	return n
}

// Sockets is how many WebSockets are open now (upgraded, their handlers
// running).
func (cl *Clients) Sockets() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return len(cl.sockets)
}

// connActive and connDone follow the connections that are in a request
// (fasthttp's ConnState, see connStates).
func (cl *Clients) connActive(c net.Conn) {
	cl.mu.Lock()
	cl.conns[c] = struct{}{}
	cl.mu.Unlock()
}

func (cl *Clients) connDone(c net.Conn) {
	cl.mu.Lock()
	delete(cl.conns, c)
	cl.mu.Unlock()
}

// InFlight lists the requests under way ("POST /api/tickets from
// 203.0.113.7", "a request header from 203.0.113.7"); a shutdown whose
// grace period ran out logs them as cut. Connections that have sent
// nothing yet are left out: nothing of theirs is lost.
func (cl *Clients) InFlight() []string {
	cl.mu.Lock()
	conns := make([]net.Conn, 0, len(cl.conns))
	for c := range cl.conns {
		conns = append(conns, c)
	}
	cl.mu.Unlock()
	var out []string
	for _, c := range conns {
		if tc, ok := c.(*timedConn); ok {
			if d := tc.describe(); d != "" {
				out = append(out, d)
			}
		} else {
			out = append(out, "a request from "+c.RemoteAddr().String())
		}
	}
	sort.Strings(out)
	return out
}
