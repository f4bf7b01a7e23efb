package httpkit

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/orbitask/portal/internal/testlog"
)

// echoSockets serves /ws, an echo WebSocket, through cl on an app behind
// the trusted proxy 127.0.0.1, so that X-Forwarded-For names the client.
func echoSockets(t *testing.T, cl *Clients, logs *testlog.Buffer) string {
	t.Helper()
	app := NewApp(Config{Logger: slog.New(slog.NewTextHandler(logs, nil)), TrustedProxies: []string{"127.0.0.1"}, Clients: cl}, nil)
	app.Get("/ws", cl.WebSocket(nil, func(conn *websocket.Conn, r *http.Request) {
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
	return serveForTest(t, app)
}

func dialFrom(addr, client string) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial("ws://"+addr+"/ws", http.Header{"X-Forwarded-For": {client}})
}

// One client address holds at most its cap of sockets: the next upgrade
// is answered 429 with Retry-After, before any upgrade, and logged at
// WARN; other addresses are not affected, and a closed socket frees its
// place.
func TestSocketsCappedPerClientAddress(t *testing.T) {
	logs := &testlog.Buffer{}
	cl := NewClients(ClientsConfig{Logger: slog.New(slog.NewTextHandler(logs, nil)), SocketsPerClient: 2})
	addr := echoSockets(t, cl, logs)

	var open []*websocket.Conn
	for range 2 {
		c, _, err := dialFrom(addr, "203.0.113.7")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		open = append(open, c)
	}
	_, res, err := dialFrom(addr, "203.0.113.7")
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("third socket from one address: %v %v, want 429 with Retry-After", res, err)
	}
	if s := logs.String(); !strings.Contains(s, `level=WARN msg="websocket refused: too many from one address" client=203.0.113.7`) {
		t.Errorf("log lacks the refusal:\n%s", s)
	}
	other, _, err := dialFrom(addr, "198.51.100.2")
	if err != nil {
		t.Fatalf("another address: %v", err)
	}
	defer other.Close()

	open[0].Close()
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, _, err := dialFrom(addr, "203.0.113.7")
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed socket did not free its place: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// GoAway sends every open socket close 1001 and refuses new ones with
// 503; Wait returns once the peers have answered, and cuts the sockets of
// peers that do not answer when its context ends.
func TestGoAwayClosesSocketsWith1001(t *testing.T) {
	logs := &testlog.Buffer{}
	cl := NewClients(ClientsConfig{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	addr := echoSockets(t, cl, logs)
	var conns []*websocket.Conn
	for i := range 3 {
		c, _, err := dialFrom(addr, "203.0.113.1"+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	cl.GoAway()
	// The peers read (and so answer the close), but for the last one.
	for _, c := range conns[:2] {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, _, err := c.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Fatalf("after GoAway: %v, want close 1001", err)
		}
	}
	if _, res, err := dialFrom(addr, "203.0.113.9"); err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("upgrade while going away: %v %v, want 503 with Retry-After", res, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if cut := cl.Wait(ctx); cut != 1 {
		t.Errorf("Wait cut %d sockets, want the 1 whose peer never answered", cut)
	}
}

// The cap counts an IPv6 client by its /64, as the rate limits do: one
// subscriber cannot open the cap from each of its addresses. Refusals are
// logged at WARN once a minute per client, then at DEBUG: a page
// reconnecting in a loop does not flood the log.
func TestSocketCapKeysIPv6By64AndWarnsOncePerMinute(t *testing.T) {
	logs := &testlog.Buffer{}
	cl := NewClients(ClientsConfig{Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), SocketsPerClient: 2})
	addr := echoSockets(t, cl, logs)
	for _, ip := range []string{"2001:db8:1:2::a", "2001:db8:1:2::b"} {
		c, _, err := dialFrom(addr, ip)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	for i := range 3 {
		_, res, err := dialFrom(addr, "2001:db8:1:2:ffff::"+strconv.Itoa(i+1))
		if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("a third address of the same /64: %v %v, want 429", res, err)
		}
	}
	other, _, err := dialFrom(addr, "2001:db8:1:3::a")
	if err != nil {
		t.Fatalf("another /64: %v", err)
	}
	defer other.Close()
	s := logs.String()
	if n := strings.Count(s, `level=WARN msg="websocket refused: too many from one address"`); n != 1 {
		t.Errorf("%d warnings for 3 refusals of one client, want 1:\n%s", n, s)
	}
	if n := strings.Count(s, `level=DEBUG msg="websocket refused: too many from one address"`); n != 2 {
		t.Errorf("%d debug lines, want 2:\n%s", n, s)
	}
}
