package console

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/live"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/ticketfeed"
	"github.com/orbitask/portal/tickets"
)

// sessionRecheck is how often an open console feed checks its session.
const sessionRecheck = time.Minute

// agentLiveCheck admits, before the upgrade, only a signed-in agent's
// browser (the upgrader then checks that it comes from this site).
func (h *handler) agentLiveCheck(r *http.Request) error {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return staff.ErrUnauthenticated
	}
	sess, err := h.staff.Session(r.Context(), ck.Value)
	if err != nil {
		return err
	}
	if !sess.User.Role.Allows(staff.RoleAgent) || sess.User.MustChangePassword {
		return errForbidden
	}
	return nil
}

// agentLiveSocket serves /agent/live: a small message for every change of
// any ticket ({"type":"event","seq","number","kind"}); the page fetches
// what it shows again, so ordering and filters stay the server's.
func (h *handler) agentLiveSocket(conn *websocket.Conn, r *http.Request) {
	sub := h.hub.Subscribe(ticketfeed.AgentsTopic)
	defer sub.Close()
	done := make(chan struct{})
	defer close(done)
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	go httpkit.KeepAlive(conn, done)
	// The session is checked again now and then, so that signing out or a
	// disabled account also ends the feed.
	recheck := time.NewTicker(sessionRecheck)
	defer recheck.Stop()
	conn.SetWriteDeadline(time.Now().Add(httpkit.WriteWait))
	if err := conn.WriteJSON(map[string]string{"type": "hello"}); err != nil {
		return
	}
	for {
		select {
		case <-closed:
			return
		case <-recheck.C:
			if h.agentLiveCheck(r) != nil {
				conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "signed out"), time.Now().Add(httpkit.WriteWait))
				return
			}
		case m, ok := <-sub.C:
			if !ok {
				conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "too slow"), time.Now().Add(httpkit.WriteWait))
				return
			}
			conn.SetWriteDeadline(time.Now().Add(httpkit.WriteWait))
			if err := conn.WriteMessage(websocket.TextMessage, m.Data); err != nil {
				return
			}
		}
	}
}

// LiveEvent is what the console's live feed receives for every change of
// any ticket, {"type":"event","seq","number","kind"}: the console's encoder
// of the ticket feed (ticketfeed.Encoders.Agents). The page fetches what it
// shows again, so the message is small and needs no framing of its own.
func LiveEvent(ev tickets.Event) (live.Message, error) {
	data, err := json.Marshal(struct {
		Type   string `json:"type"`
		Seq    int64  `json:"seq"`
		Number int    `json:"number"`
		Kind   string `json:"kind"`
	}{"event", ev.Seq, ev.Number, ev.Kind})
	if err != nil {
		return live.Message{}, err
	}
	return live.Message{Seq: ev.Seq, Data: data}, nil
}
