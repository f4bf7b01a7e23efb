package httpkit

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gorilla/websocket"
)

// WebSocket timing: pings keep idle connections alive through proxies; a
// peer that answers no ping within PongWait is gone.
const (
	PingEvery = 25 * time.Second
	PongWait  = 60 * time.Second
	WriteWait = 10 * time.Second
)

// upgrader upgrades WebSocket requests from pages of this site only.
// gorilla/websocket needs http.Hijacker, which Fiber's adaptor provides
// with fasthttp v1.56 or newer (go.mod pins it; TestWebSocketUpgrade
// proves it).
var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 4096,
	// Write buffers are borrowed only while writing: 10,000 mostly idle
	// watchers need not hold 4 KB each.
	WriteBufferPool: &sync.Pool{},
	CheckOrigin:     sameOrigin,
}

// sameOrigin accepts a request whose Origin names the host it was sent to,
// or no Origin at all (not a browser, so no cross-site risk).
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// WebSocket upgrades the request and hands the connection to serve, which
// owns it until it returns. check, if not nil, may refuse the request
// before the upgrade; its error is answered with the status StatusOf gives.
// A request that is not a valid WebSocket handshake, or comes from another
// site, is refused by the upgrader with an HTTP error (400 or 403).
func WebSocket(log *slog.Logger, check func(r *http.Request) error, serve func(conn *websocket.Conn, r *http.Request)) fiber.Handler {
	return adaptor.HTTPHandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The adaptor's request context is Fiber's request, which Fiber
		// keeps using after the connection is hijacked; the socket's work
		// must not share it (the race detector catches it). It answers
		// Value with Fiber's locals, so the client's address is carried
		// over (RequestClientIP).
		ip, _ := r.Context().Value(clientIPKey).(string)
		r = r.WithContext(context.WithValue(context.Background(), clientIPContextKey{}, ip))
		if check != nil {
			if err := check(r); err != nil {
				status, msg := StatusOf(err)
				if status >= 500 {
					log.Error("request failed", "path", r.URL.Path, "error", err)
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
		// A panic here would otherwise go to fasthttp's logger, which Fiber
		// silences: log it as the server fault it is and tell the client.
		defer func() {
			if p := recover(); p != nil {
				log.Error("websocket handler panicked", "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				msg := websocket.FormatCloseMessage(websocket.CloseInternalServerErr, "internal error")
				_ = conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
			}
		}()
		conn.SetReadLimit(64 << 10)
		serve(conn, r)
	})
}

// KeepAlive pings conn until done is closed; a failed ping closes conn, so
// the reader notices a dead peer.
func KeepAlive(conn *websocket.Conn, done <-chan struct{}) {
	conn.SetReadDeadline(time.Now().Add(PongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(PongWait)) })
	t := time.NewTicker(PingEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(WriteWait)); err != nil {
				conn.Close()
				return
			}
		}
	}
}
