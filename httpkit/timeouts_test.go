package httpkit

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/websocket"
	"github.com/orbitask/portal/internal/testlog"
)

// Short limits, so that the tests take seconds; the idle limit is 7 times
// the trickle's gap, so a loaded machine (-race in CI) does not cut a
// steady body.
var testTimeouts = Timeouts{Header: time.Second, BodyIdle: 700 * time.Millisecond, KeepAlive: 5 * time.Second}

// timedApp serves an app with testTimeouts whose POST /upload answers with
// the length of the body it got. streamed has fasthttp hand the body to the
// handler as it arrives, which the timeouts must hold for too.
func timedApp(t *testing.T, streamed bool) (string, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	app := NewApp(Config{Logger: slog.New(slog.NewTextHandler(logs, nil)), Timeouts: testTimeouts}, nil)
	app.Server().StreamRequestBody = streamed
	app.Post("/upload", func(c *fiber.Ctx) error {
		return c.SendString("got " + strconv.Itoa(len(c.Body())))
	})
	app.Get("/ws", NewClients(ClientsConfig{}).WebSocket(nil, func(conn *websocket.Conn, r *http.Request) {
		for {
			mt, msg, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := conn.WriteMessage(mt, msg); err != nil {
				return
			}
		}
	}))
	return serveForTest(t, app), logs
}

// trickle writes n pieces of size bytes, one every gap.
func trickle(t *testing.T, c net.Conn, n, size int, gap time.Duration) {
	t.Helper()
	piece := strings.Repeat("x", size)
	for range n {
		time.Sleep(gap)
		if _, err := io.WriteString(c, piece); err != nil {
			t.Fatalf("writing the body: %v", err)
		}
	}
}

// readResponse reads one response and returns its status and body.
func readResponse(t *testing.T, r *bufio.Reader) (int, string) {
	t.Helper()
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("reading the response: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

// A body that keeps coming is read however long it takes: two uploads on
// one connection, each trickled for longer than the header limit in
// pieces never further apart than the idle limit.
func TestSteadySlowBodyIsRead(t *testing.T) {
	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprintf("streamed=%v", streamed), func(t *testing.T) {
			t.Parallel()
			addr, logs := timedApp(t, streamed)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			r := bufio.NewReader(c)
			for i, pieces := range []int{21, 13} { // 2.1 s, then 1.3 s on the kept-alive connection
				size := 100
				fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: portal\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", pieces*size)
				start := time.Now()
				trickle(t, c, pieces, size, 100*time.Millisecond)
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				status, body := readResponse(t, r)
				if status != http.StatusOK || body != "got "+strconv.Itoa(pieces*size) {
					t.Fatalf("upload %d (%v): %d %q, want 200 and the whole body", i+1, time.Since(start).Round(time.Millisecond), status, body)
				}
			}
			if s := logs.String(); strings.Contains(s, "request cut") {
				t.Errorf("a steady upload was logged as cut:\n%s", s)
			}
		})
	}
}

// A body that stops for longer than the idle limit is cut then, not at
// some total limit, the client gets 408 (when the body is read before the
// handler) and the cut is logged at WARN with the client and the path but
// not the query, which may hold a ticket's token.
func TestStalledBodyIsCutAndLogged(t *testing.T) {
	for _, streamed := range []bool{false, true} {
		t.Run(fmt.Sprintf("streamed=%v", streamed), func(t *testing.T) {
			t.Parallel()
			addr, logs := timedApp(t, streamed)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			io.WriteString(c, "POST /upload?token=s3cret HTTP/1.1\r\nHost: portal\r\nContent-Type: application/octet-stream\r\nContent-Length: 10000\r\n\r\n")
			trickle(t, c, 3, 100, 100*time.Millisecond)
			stalled := time.Now()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			all, err := io.ReadAll(c) // until the server closes
			took := time.Since(stalled)
			if err != nil {
				t.Fatalf("the stalled upload was not cut within 5 s: %v", err)
			}
			if took < testTimeouts.BodyIdle || took > testTimeouts.BodyIdle+1200*time.Millisecond {
				t.Errorf("cut %v after the body stopped, want about the idle limit (%v)", took.Round(time.Millisecond), testTimeouts.BodyIdle)
			}
			if !streamed && !strings.HasPrefix(string(all), "HTTP/1.1 408") {
				t.Errorf("response %q, want 408", all)
			}
			if strings.Contains(string(all), "got 10000") {
				t.Errorf("the handler got the whole body: %q", all)
			}
			s := logs.String()
			for _, want := range []string{`level=WARN msg="request cut: body stalled"`, "client=127.0.0.1", "method=POST", "path=/upload", "body_bytes=300"} {
				if !strings.Contains(s, want) {
					t.Errorf("log lacks %q:\n%s", want, s)
				}
			}
			if strings.Contains(s, "s3cret") || strings.Contains(s, "level=ERROR") {
				t.Errorf("log has the token or an ERROR:\n%s", s)
			}
		})
	}
}

// A header trickled one byte per 100 ms is cut at the header limit,
// counted from the connect, however steadily it comes; on a kept-alive
// connection, from the next request's first byte. The log names the path
// (without the query) once the request line is in.
func TestTrickledHeaderIsCut(t *testing.T) {
	for _, keptAlive := range []bool{false, true} {
		t.Run(fmt.Sprintf("keptAlive=%v", keptAlive), func(t *testing.T) {
			t.Parallel()
			addr, logs := timedApp(t, false)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if keptAlive {
				io.WriteString(c, "POST /upload HTTP/1.1\r\nHost: portal\r\nContent-Length: 2\r\n\r\nok")
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if status, _ := readResponse(t, bufio.NewReader(c)); status != http.StatusOK {
					t.Fatalf("first request: %d", status)
				}
				time.Sleep(testTimeouts.Header) // idle: no header has begun, so this does not count
			}
			start := time.Now()
			closed := make(chan time.Duration, 1)
			go func() {
				io.Copy(io.Discard, c)
				closed <- time.Since(start)
			}()
			// The request line at once, the rest trickled: 6 s at 10 bytes/s.
			io.WriteString(c, "GET /upload?token=s3cret HTTP/1.1\r\n")
			req := "Host: portal\r\nX-Padding: " + strings.Repeat("a", 40) + "\r\n\r\n"
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
		write:
			for i := range len(req) {
				select {
				case took := <-closed:
					closed <- took
					break write
				case <-time.After(100 * time.Millisecond):
				}
				if _, err := c.Write([]byte{req[i]}); err != nil {
					break
				}
			}
			took := <-closed
			if took < testTimeouts.Header-200*time.Millisecond || took > testTimeouts.Header+1200*time.Millisecond {
				t.Errorf("connection closed %v after the header began, want about the header limit (%v)", took.Round(time.Millisecond), testTimeouts.Header)
			}
			if s := logs.String(); !strings.Contains(s, `level=WARN msg="request cut: header too slow" client=127.0.0.1 method=GET path=/upload`) || strings.Contains(s, "s3cret") {
				t.Errorf("log lacks the cut header:\n%s", s)
			}
		})
	}
}

// A WebSocket is its handler's after the upgrade: idle for longer than
// every read limit, it still works.
func TestWebSocketOutlivesReadLimits(t *testing.T) {
	addr, logs := timedApp(t, false)
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(testTimeouts.Header + testTimeouts.BodyIdle)
	if err := conn.WriteMessage(websocket.TextMessage, []byte("still there?")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, msg, err := conn.ReadMessage(); err != nil || string(msg) != "still there?" {
		t.Fatalf("echo after idling: %q, %v", msg, err)
	}
	if s := logs.String(); strings.Contains(s, "request cut") {
		t.Errorf("log:\n%s", s)
	}
}
