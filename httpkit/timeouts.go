package httpkit

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Timeouts bound how long a client may take to send a request. fasthttp's
// own ReadTimeout covers header and body together, so it cut a steady but
// slow upload (600 KB at 240 kbit/s takes 20 s) without an answer or a log
// line; these time the header as a whole and the body by its pauses.
type Timeouts struct {
	// Header is how long the request line and header may take, from their
	// first byte (for a connection's first request, from the connect):
	// a client trickling header bytes is cut when it runs out. 0: 15 s.
	Header time.Duration
	// BodyIdle is the longest pause allowed while a body arrives; a body
	// may take as long as it needs if it keeps coming. 0: 15 s.
	BodyIdle time.Duration
	// KeepAlive is how long an idle connection waits for its next
	// request. 0: 2 min.
	KeepAlive time.Duration
	// BodyMinRate and BodyMinTime pace a body that holds upload memory
	// (Budget.Take), since pauses shorter than BodyIdle could otherwise
	// hold it for ever: from when it takes its share, once BodyMinTime
	// has passed the body must have come at BodyMinRate bytes a second on
	// average, or it is cut; so the whole arrives within max(BodyMinTime,
	// size ÷ BodyMinRate). 0: 8 KiB/s (64 kbit/s, about a quarter of the
	// 240 kbit/s uplink of the slowest customers known) and 1 min.
	BodyMinRate int64
	BodyMinTime time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Header <= 0 {
		t.Header = 15 * time.Second
	}
	if t.BodyIdle <= 0 {
		t.BodyIdle = 15 * time.Second
	}
	if t.KeepAlive <= 0 {
		t.KeepAlive = 2 * time.Minute
	}
	if t.BodyMinRate <= 0 {
		t.BodyMinRate = 8 << 10
	}
	if t.BodyMinTime <= 0 {
		t.BodyMinTime = time.Minute
	}
	return t
}

// Serve serves app, built by NewApp, on ln with the read timeouts of its
// Config. The app must be served through Serve (or on Listener(ln)): a
// plain listener gets only a fallback deadline on a connection's first
// request, for header and body together.
func Serve(app *fiber.App, ln net.Listener) error {
	return app.Listener(Listener(ln))
}

// Listener wraps ln so that NewApp's app can time its connections' reads
// (see Timeouts).
func Listener(ln net.Listener) net.Listener { return timedListener{ln} }

type timedListener struct{ net.Listener }

func (l timedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &timedConn{Conn: c, since: time.Now(), first: true}, nil
}

// connStates arms the connections of Listener with the app's timeouts and
// tells them when a request has been answered (fasthttp's ConnState hook:
// StateIdle comes after each response, before the next request is read);
// clients, if not nil, learns which connections are in a request.
func connStates(t Timeouts, log *slog.Logger, clients *Clients) func(net.Conn, fasthttp.ConnState) {
	return func(c net.Conn, state fasthttp.ConnState) {
		if clients != nil {
			switch state {
			case fasthttp.StateActive:
				clients.connActive(c)
			case fasthttp.StateIdle, fasthttp.StateHijacked, fasthttp.StateClosed:
				clients.connDone(c)
			}
		}
		tc, ok := c.(*timedConn)
		switch {
		case !ok && state == fasthttp.StateNew:
			_ = c.SetReadDeadline(time.Now().Add(t.Header)) // not from Listener: at least the first request ends
		case !ok:
		case state == fasthttp.StateNew:
			tc.arm(t, log)
		case state == fasthttp.StateIdle:
			tc.idle()
		}
	}
}

// phase is what a connection is reading.
type phase int

const (
	waiting phase = iota // for a request's first byte
	header               // a request line and header
	body                 // a body, or nothing (the handler or the response is under way)
)

// maxRequestLine is how much of a request line is kept for the log.
const maxRequestLine = 512

// timedConn sets its own read deadline before each Read, after the phase
// of the request it is in. fasthttp's read deadlines are ignored; once
// someone sets both deadlines at once (a hijack: fasthttp and the
// WebSocket upgrader do so to clear the server's deadlines) the connection
// is theirs and every deadline call passes through.
//
// The phases follow the bytes read: the header ends at its empty line
// (found as fasthttp finds it), the next request begins after fasthttp
// reports the connection idle. A pipelined request whose header fasthttp
// already holds is not seen begin; its body then runs under the header
// limit, as every body did before (browsers do not pipeline).
//
// Its Close lingers when the client is still sending a refused body
// (linger.go).
type timedConn struct {
	net.Conn

	mu         sync.Mutex
	t          Timeouts
	log        *slog.Logger
	armed      bool
	handedOver bool
	phase      phase
	since      time.Time // waiting: since when; header: since its first byte (the connect, for the first request)
	first      bool      // the connection's first request
	// The header scanner: the current line's length, whether it is "\r"
	// so far, and whether the request line has been seen (empty lines
	// before it are skipped, as fasthttp does).
	lineLen     int
	lineCR      bool
	sawReqLine  bool
	reqLine     []byte
	headerBytes int
	bodyBytes   int64
	// The request's body is left unread (closeUnread): bodyLen bytes long,
	// negative if chunked.
	unread  bool
	bodyLen int64
	// The body is paced (holdToMinRate) from paceFrom, when bodyBytes was
	// paceBase; cut: the request was cut and logged (once).
	paced    bool
	paceFrom time.Time
	paceBase int64
	paceSize int64 // the body's length, for the log
	cut      bool
}

func (c *timedConn) arm(t Timeouts, log *slog.Logger) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t, c.log, c.armed = t, log, true
}

// idle starts the wait for the next request.
func (c *timedConn) idle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.phase, c.since, c.first = waiting, time.Now(), false
	c.lineLen, c.lineCR, c.sawReqLine, c.reqLine = 0, false, false, c.reqLine[:0]
	c.headerBytes, c.bodyBytes = 0, 0
	c.unread, c.bodyLen = false, 0
	c.paced, c.cut = false, false
}

func (c *timedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if !c.armed || c.handedOver {
		c.mu.Unlock()
		return c.Conn.Read(p)
	}
	var deadline time.Time
	slow := false // the deadline is the pace's, not the idle limit's
	switch c.phase {
	case waiting:
		if c.first {
			deadline = c.since.Add(c.t.Header)
		} else {
			deadline = c.since.Add(c.t.KeepAlive)
		}
	case header:
		deadline = c.since.Add(c.t.Header)
	case body:
		deadline = time.Now().Add(c.t.BodyIdle)
		if c.paced {
			if d := c.paceDeadline(); d.Before(deadline) {
				deadline, slow = d, true
			}
		}
	}
	c.mu.Unlock()
	if err := c.Conn.SetReadDeadline(deadline); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.handedOver {
		return n, err
	}
	c.advance(p[:n])
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() && !c.cut {
		c.cut = true
		c.logCut(slow)
	}
	return n, err
}

// paceDeadline is when a paced body falls behind BodyMinRate with the
// bytes it has sent so far (never before BodyMinTime).
func (c *timedConn) paceDeadline() time.Time {
	due := time.Duration(float64(c.bodyBytes-c.paceBase) / float64(c.t.BodyMinRate) * float64(time.Second))
	return c.paceFrom.Add(max(c.t.BodyMinTime, due))
}

// holdToMinRate paces the rest of c's body, size bytes long
// (Timeouts.BodyMinRate). On a connection not from Listener nothing is
// timed, this neither.
func holdToMinRate(c *fiber.Ctx, size int64) {
	tc, ok := c.Context().Conn().(*timedConn)
	if !ok {
		return
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.armed && tc.phase == body {
		tc.paced, tc.paceFrom, tc.paceBase, tc.paceSize = true, time.Now(), tc.bodyBytes, size
	}
}

// advance moves through the phases with the bytes just read.
func (c *timedConn) advance(b []byte) {
	if len(b) > 0 && c.phase == waiting {
		c.phase = header
		if !c.first {
			c.since = time.Now()
		}
	}
	if c.phase == header {
		for i, ch := range b {
			c.headerBytes++
			if ch != '\n' {
				if c.lineLen == 0 {
					c.lineCR = ch == '\r'
				} else {
					c.lineCR = false
				}
				c.lineLen++
				if !c.sawReqLine && len(c.reqLine) < maxRequestLine {
					c.reqLine = append(c.reqLine, ch)
				}
				continue
			}
			empty := c.lineLen == 0 || c.lineLen == 1 && c.lineCR
			c.lineLen, c.lineCR = 0, false
			switch {
			case empty && c.sawReqLine: // the end of the header
				c.phase = body
				c.bodyBytes = int64(len(b) - i - 1)
				return
			case empty:
				c.reqLine = c.reqLine[:0]
			default:
				c.sawReqLine = true
			}
		}
		return
	}
	if c.phase == body {
		c.bodyBytes += int64(len(b))
	}
}

// logCut logs a request cut by its read deadline (slow: the pace's): a
// client fault, so WARN. Behind a proxy, client is the proxy's address.
func (c *timedConn) logCut(slow bool) {
	client := c.Conn.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(client); err == nil {
		client = host
	}
	attrs := []any{"client", client}
	if method, path := requestTarget(c.reqLine, c.sawReqLine); method != "" {
		attrs = append(attrs, "method", method, "path", path)
	}
	switch {
	case c.phase == waiting:
		// An idle keep-alive connection, or a connection (a browser's
		// preconnect) that never sent a request: nothing was cut.
		c.log.Debug("idle connection closed", "client", client)
	case c.phase == header:
		c.log.Warn("request cut: header too slow", append(attrs, "header_bytes", c.headerBytes, "limit", c.t.Header)...)
	case slow:
		c.log.Warn("request cut: body too slow", append(attrs, "body_bytes", c.bodyBytes, "content_length", c.paceSize,
			"min_rate_bytes", c.t.BodyMinRate, "after", time.Since(c.paceFrom).Round(time.Millisecond))...)
	default:
		c.log.Warn("request cut: body stalled", append(attrs, "body_bytes", c.bodyBytes, "idle_limit", c.t.BodyIdle)...)
	}
}

// requestTarget reads the method and path of a request line for the log;
// the query is left out, since it may carry a ticket's token.
func requestTarget(line []byte, complete bool) (method, path string) {
	if !complete {
		return "", ""
	}
	f := bytes.Fields(line)
	if len(f) < 2 {
		return "", ""
	}
	target := f[1]
	if i := bytes.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	return string(f[0]), string(target)
}

// describe says what request the connection is in, for the log of a
// shutdown that cuts it: "" if none has begun.
func (c *timedConn) describe() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	client := c.Conn.RemoteAddr().String()
	switch {
	case c.handedOver || c.phase == waiting:
		return ""
	case c.phase == header:
		return "a request header from " + client
	}
	method, path := requestTarget(c.reqLine, c.sawReqLine)
	return method + " " + path + " from " + client
}

// SetReadDeadline is ignored while the connection times its own reads.
func (c *timedConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	mine := c.armed && !c.handedOver
	c.mu.Unlock()
	if mine {
		return nil
	}
	return c.Conn.SetReadDeadline(t)
}

// SetDeadline hands the connection over: from now on its owner (a
// hijacking handler) sets its deadlines.
func (c *timedConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	c.handedOver = true
	c.mu.Unlock()
	return c.Conn.SetDeadline(t)
}
