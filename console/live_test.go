package console_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/orbitask/portal/server"
	"github.com/orbitask/portal/staff"
)

// openAgentFeed opens /agent/live with b's session and reads its hello.
func openAgentFeed(t *testing.T, host string, b *browser) *websocket.Conn {
	t.Helper()
	hdr := http.Header{"Origin": {"http://" + host}, "Cookie": {sessionCookie + "=" + b.cookies[sessionCookie]}}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("ws://"+host+"/agent/live", hdr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	var hello map[string]any
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := conn.ReadJSON(&hello); err != nil || hello["type"] != "hello" {
		t.Fatalf("hello: %v, %v", hello, err)
	}
	return conn
}

// wantSignedOutWithin reads conn until it closes and wants close 1008
// "signed out" within d.
func wantSignedOutWithin(t *testing.T, conn *websocket.Conn, d time.Duration) {
	t.Helper()
	start := time.Now()
	conn.SetReadDeadline(start.Add(d))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || ce.Text != "signed out" {
			t.Fatalf("after %v: %v, want close 1008 \"signed out\" within %v", time.Since(start).Round(time.Millisecond), err, d)
		}
		return
	}
}

// wantStillOpen checks that conn still delivers: a ticket filed now
// reaches it.
func wantStillOpen(t *testing.T, p *portal, conn *websocket.Conn) {
	t.Helper()
	fileTestTicket(t, p)
	var ev map[string]any
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := conn.ReadJSON(&ev); err != nil || ev["type"] != "event" {
		t.Fatalf("another session's feed: %v, %v; want it open and delivering", ev, err)
	}
}

// Signing out closes that session's console feed at once (close 1008
// "signed out"), and no one else's; disabling an account closes its
// feeds too.
func TestSignOutClosesTheConsoleFeed(t *testing.T) {
	p := newPortal(t, server.Config{})
	_, pwA := p.staffUser(t, "alice@orbitask.example", staff.RoleAgent)
	_, pwB := p.staffUser(t, "bob@orbitask.example", staff.RoleAgent)
	alice, bob := p.browser(), p.browser()
	alice.login(t, "alice@orbitask.example", pwA)
	bob.login(t, "bob@orbitask.example", pwB)
	host := p.serve(t)

	aliceFeed, bobFeed := openAgentFeed(t, host, alice), openAgentFeed(t, host, bob)
	res, _ := alice.send(t, "POST", "/agent/logout", url.Values{"csrf": {alice.csrf}})
	wantStatus(t, res, http.StatusSeeOther)
	wantSignedOutWithin(t, aliceFeed, time.Second)
	wantStillOpen(t, p, bobFeed)

	if err := p.svc.Staff.DisableUser(context.Background(), "bob@orbitask.example", "test"); err != nil {
		t.Fatal(err)
	}
	wantSignedOutWithin(t, bobFeed, time.Second)
}
