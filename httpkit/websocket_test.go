package httpkit

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/gorilla/websocket"
	"github.com/orbitask/portal/internal/testlog"
)

// A panic in a socket handler is logged as an error and the client gets
// close code 1011, not a silently dropped connection.
func TestWebSocketPanicIsLoggedAndClosedWith1011(t *testing.T) {
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	app := fiber.New()
	app.Get("/ws", NewClients(ClientsConfig{Logger: log}).WebSocket(nil, func(conn *websocket.Conn, r *http.Request) {
		panic("boom")
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	defer app.Shutdown()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/ws", http.Header{"Origin": {"http://" + ln.Addr().String()}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _, err = conn.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseInternalServerErr {
		t.Fatalf("read after the panic: %v, want close 1011", err)
	}
	if s := logs.String(); !strings.Contains(s, "level=ERROR") || !strings.Contains(s, "websocket handler panicked") || !strings.Contains(s, "boom") {
		t.Errorf("log: %s", s)
	}
}

// serveForTest runs app on a real port, as the portal does, until the test
// ends.
func serveForTest(t *testing.T, app *fiber.App) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go Serve(app, ln)
	t.Cleanup(func() { app.Shutdown() })
	return ln.Addr().String()
}
