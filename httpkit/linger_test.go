package httpkit

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// closeTimes records when the server closed each connection, by the
// client's address: fasthttp reports StateClosed right after Close
// returns, so a Close that lingers shows up late.
type closeTimes struct {
	mu     sync.Mutex
	closed map[string]time.Time
}

func (ct *closeTimes) wait(t *testing.T, client net.Addr, within time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		ct.mu.Lock()
		at, ok := ct.closed[client.String()]
		ct.mu.Unlock()
		if ok {
			return at
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("the server did not close the connection from %s within %v", client, within)
	return time.Time{}
}

// refusingApp serves an app whose /api/small takes at most 1 KiB, whose
// /api/drain reads its whole body as a stream, and whose GET /api/ping
// answers; it records when connections are closed.
func refusingApp(t *testing.T, timeouts Timeouts) (string, *closeTimes) {
	t.Helper()
	app := NewApp(Config{Logger: slog.New(slog.DiscardHandler), Timeouts: timeouts}, nil)
	app.Post("/api/small", MaxBody(1<<10), func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Post("/api/drain", func(c *fiber.Ctx) error {
		n, err := io.Copy(io.Discard, c.Request().BodyStream())
		if err != nil {
			return err
		}
		return c.SendString(fmt.Sprint(n))
	})
	app.Get("/api/ping", func(c *fiber.Ctx) error { return c.SendString("pong") })
	ct := &closeTimes{closed: map[string]time.Time{}}
	states := app.Server().ConnState
	app.Server().ConnState = func(c net.Conn, s fasthttp.ConnState) {
		states(c, s)
		if s == fasthttp.StateClosed {
			ct.mu.Lock()
			ct.closed[c.RemoteAddr().String()] = time.Now()
			ct.mu.Unlock()
		}
	}
	return serveForTest(t, app), ct
}

// uploadRefused posts a body of length bytes (chunked if -1) with Go's
// client, which sends it from a goroutine while it waits for the answer,
// as curl and browsers do; the body is 60 MiB, far more than the server
// takes. It returns the answer's status and body, or the client's error.
func uploadRefused(addr, target string, length int64) (status int, body string, err error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+target, io.LimitReader(zeros{}, 60<<20))
	if err != nil {
		return 0, "", err
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", "application/json")
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// zeros is an endless body.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A body refused while the client is still sending it: the client gets
// the whole 413 and its JSON, every time, not a connection reset. Without
// the lingering close, the unread body in the server's receive buffer
// turned the close into a reset that often destroyed the answer.
func TestRefusedUploadGetsItsAnswer(t *testing.T) {
	addr, _ := refusingApp(t, testTimeouts)
	for _, tc := range []struct {
		name   string
		length int64
	}{{"by Content-Length", 60 << 20}, {"chunked, after 1 KiB", -1}} {
		t.Run(tc.name, func(t *testing.T) {
			failed := 0
			for i := range 20 {
				status, body, err := uploadRefused(addr, "/api/small", tc.length)
				if err != nil || status != http.StatusRequestEntityTooLarge || body != `{"error":"at most 1024 bytes"}` {
					failed++
					t.Errorf("upload %d: %d %q %v", i, status, body, err)
				}
			}
			if failed > 0 {
				t.Logf("%d of 20 uploads lost their answer", failed)
			}
		})
	}
}

// A client that ignores the answer and keeps sending is cut after
// lingerTime: it holds the server's goroutine no longer.
func TestLingerIsBounded(t *testing.T) {
	addr, closed := refusingApp(t, testTimeouts)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "POST /api/small HTTP/1.1\r\nHost: portal\r\nContent-Length: %d\r\n\r\n", 60<<20)
	go func() { // 100 KB/s, never stopping: only the time bound ends the linger
		piece := make([]byte, 1<<10)
		for {
			time.Sleep(10 * time.Millisecond)
			if _, err := c.Write(piece); err != nil {
				return
			}
		}
	}()
	status, _ := readResponse(t, bufio.NewReader(c))
	answered := time.Now()
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", status)
	}
	lingered := closed.wait(t, c.LocalAddr(), 5*time.Second).Sub(answered)
	if lingered < lingerTime/2 || lingered > lingerTime+time.Second {
		t.Fatalf("the server closed %v after the answer, want about %v", lingered, lingerTime)
	}
}

// Closes with nothing left to come are not delayed: an idle keep-alive
// connection at its limit, and Connection: close after a body read whole
// (by MaxBody, or as a stream that finishBody then closes). The client
// keeps its end open, so a lingering server would wait out lingerTime.
func TestOrdinaryClosesAreNotDelayed(t *testing.T) {
	timeouts := testTimeouts
	timeouts.KeepAlive = 300 * time.Millisecond
	addr, closed := refusingApp(t, timeouts)
	const slack = 250 * time.Millisecond // well below lingerTime
	for _, tc := range []struct {
		name, req string
		wait      time.Duration // from the answer to the close
	}{
		{"idle keep-alive", "GET /api/ping HTTP/1.1\r\nHost: portal\r\n\r\n", timeouts.KeepAlive},
		{"Connection: close", "POST /api/small HTTP/1.1\r\nHost: portal\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello", 0},
		{"stream read whole", fmt.Sprintf("POST /api/drain HTTP/1.1\r\nHost: portal\r\nContent-Length: %d\r\n\r\n%s", 64<<10, make([]byte, 64<<10)), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := io.WriteString(c, tc.req); err != nil {
				t.Fatal(err)
			}
			if status, body := readResponse(t, bufio.NewReader(c)); status != http.StatusOK {
				t.Fatalf("%d %s", status, body)
			}
			answered := time.Now()
			if took := closed.wait(t, c.LocalAddr(), 5*time.Second).Sub(answered); took > tc.wait+slack {
				t.Fatalf("closed %v after the answer, want within %v", took, tc.wait+slack)
			}
		})
	}
}
