package httpkit

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/orbitask/portal/internal/testlog"
)

// rawExchange writes req on a new connection in one write, then reads
// everything the server sends until it closes the connection.
func rawExchange(t *testing.T, addr, req string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		tc.CloseWrite() // nothing more is coming: a server waiting for more would see EOF, not hang
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading until the server closes: %v (so far %q)", err, got)
	}
	return string(got)
}

// A request whose body length could be read two ways is answered 400 and
// the connection closed, so that what follows it in the same write (a
// smuggled second request) is never served. A plain chunked request
// followed by a second one serves both, which shows the test would see a
// second request served.
func TestAmbiguousBodyLengthRefusedAndConnectionClosed(t *testing.T) {
	logs := &testlog.Buffer{}
	app := NewApp(Config{Logger: slog.New(slog.NewTextHandler(logs, nil))}, nil)
	var posts, smuggled atomic.Int32
	app.Post("/echo", func(c *fiber.Ctx) error {
		posts.Add(1)
		return c.SendString("body=" + string(c.Body()))
	})
	app.Get("/smuggled", func(c *fiber.Ctx) error {
		smuggled.Add(1)
		return c.SendString("smuggled")
	})
	addr := serveForTest(t, app)
	const next = "GET /smuggled HTTP/1.1\r\nHost: portal\r\n\r\n"
	const chunkedBody = "4\r\nabcd\r\n0\r\n\r\n"

	// Control: a well-framed chunked request, then a second request.
	out := rawExchange(t, addr, "POST /echo HTTP/1.1\r\nHost: portal\r\nTransfer-Encoding: chunked\r\n\r\n"+chunkedBody+
		"GET /smuggled HTTP/1.1\r\nHost: portal\r\nConnection: close\r\n\r\n")
	if strings.Count(out, "HTTP/1.1 200") != 2 || !strings.Contains(out, "body=abcd") || smuggled.Load() != 1 {
		t.Fatalf("control: both requests must be served, got %q", out)
	}

	for _, c := range []struct{ name, headers string }{
		{"Content-Length then chunked", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n"},
		{"chunked then Content-Length", "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n"},
		{"chunked twice", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"},
		{"chunked and identity lines", "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n"},
		{"chunked, identity", "Transfer-Encoding: chunked, identity\r\n"},
		{"identity, chunked", "Transfer-Encoding: identity, chunked\r\n"},
		{"xchunked", "Transfer-Encoding: xchunked\r\n"},
		{"identity with Content-Length", "Transfer-Encoding: identity\r\nContent-Length: 13\r\n"},
		{"gzip, chunked", "Transfer-Encoding: gzip, chunked\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			smuggled.Store(0)
			posts.Store(0)
			out := rawExchange(t, addr, "POST /echo HTTP/1.1\r\nHost: portal\r\n"+c.headers+"\r\n"+chunkedBody+next)
			status := out[:min(len(out), 12)]
			if status != "HTTP/1.1 400" && status != "HTTP/1.1 501" {
				t.Errorf("status line %q, want 400 (or 501)", status)
			}
			if n := strings.Count(out, "HTTP/1.1 "); n != 1 {
				t.Errorf("%d responses, want 1: %q", n, out)
			}
			if !strings.Contains(strings.ToLower(out), "connection: close") {
				t.Errorf("response does not say Connection: close: %q", out)
			}
			if n := smuggled.Load(); n != 0 {
				t.Errorf("the smuggled request was served %d times", n)
			}
			if n := posts.Load(); n != 0 {
				t.Errorf("the ambiguous request reached its handler %d times", n)
			}
		})
	}
	if s := logs.String(); !strings.Contains(s, "level=WARN msg=\"request refused: ambiguous body length\"") || strings.Contains(s, "level=ERROR") {
		t.Errorf("log: want a WARN (once a minute per client) and no ERROR:\n%s", s)
	}
}

// A header line with whitespace between the field name and the colon is
// refused with 400 and the connection closed (RFC 9112 §5.1): fasthttp
// would take "Transfer-Encoding :" for another header and read no body,
// while a proxy in front may read the chunked body, which here hides a
// request. Logged at WARN once a minute per client, at DEBUG otherwise.
func TestWhitespaceBeforeHeaderColonRefused(t *testing.T) {
	logs := &testlog.Buffer{}
	app := NewApp(Config{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}, nil)
	var posts, smuggled atomic.Int32
	app.Post("/echo", func(c *fiber.Ctx) error {
		posts.Add(1)
		return c.SendString("body=" + string(c.Body()))
	})
	app.Get("/smuggled", func(c *fiber.Ctx) error {
		smuggled.Add(1)
		return c.SendString("smuggled")
	})
	addr := serveForTest(t, app)
	// The body, read as chunked by a proxy in front, hides a request.
	const body = "2c\r\nGET /smuggled HTTP/1.1\r\nHost: portal\r\n\r\n\r\n0\r\n\r\n"
	for _, c := range []struct{ name, header string }{
		{"space before the colon", "Transfer-Encoding : chunked\r\n"},
		{"tab before the colon", "Transfer-Encoding\t: chunked\r\n"},
		{"beside a Content-Length", "Content-Length : 2\r\n"},
		{"any other field", "X-Note : hello\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			posts.Store(0)
			smuggled.Store(0)
			out := rawExchange(t, addr, "POST /echo HTTP/1.1\r\nHost: portal\r\n"+c.header+"\r\n"+body)
			if !strings.HasPrefix(out, "HTTP/1.1 400") {
				t.Errorf("answer %q, want 400", out)
			}
			if n := strings.Count(out, "HTTP/1.1 "); n != 1 {
				t.Errorf("%d responses, want 1: %q", n, out)
			}
			if !strings.Contains(strings.ToLower(out), "connection: close") {
				t.Errorf("response does not say Connection: close: %q", out)
			}
			if posts.Load() != 0 || smuggled.Load() != 0 {
				t.Errorf("served: %d posts, %d smuggled", posts.Load(), smuggled.Load())
			}
		})
	}
	s := logs.String()
	if n := strings.Count(s, `level=WARN msg="request refused: whitespace before a header's colon"`); n != 1 {
		t.Errorf("%d warnings for 4 refusals from one client, want 1:\n%s", n, s)
	}
	// fasthttp refuses some itself (the tab) before any handler: the rest
	// are logged at DEBUG.
	if n := strings.Count(s, `level=DEBUG msg="request refused: whitespace before a header's colon"`); n < 2 {
		t.Errorf("%d debug lines, want the repeats:\n%s", n, s)
	}
	// A field whose value has spaces and colons is fine.
	out := rawExchange(t, addr, "POST /echo HTTP/1.1\r\nHost: portal\r\nX-Note: a b: c\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
	if !strings.HasPrefix(out, "HTTP/1.1 200") || !strings.Contains(out, "body=ok") {
		t.Errorf("a well-formed request: %q", out)
	}
}
