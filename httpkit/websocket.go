package httpkit

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

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
