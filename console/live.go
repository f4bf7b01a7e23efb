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

// sessionRecheck is how often an open console feed checks its session
// unprompted: sessions ended in this process prompt a check at once
// (staff.Store.SessionsEnded); one ended by another process (portal user
// disable) is noticed within this.
const sessionRecheck = 10 * time.Second

// closeSignedOut is the close frame of a console feed whose session has
// ended (signed out, password changed elsewhere, account disabled): 1008,
// policy violation, "signed out". The page stops reconnecting on it.
var closeSignedOut = websocket.FormatCloseMessage(websocket.ClosePolicyViolation, "signed out")

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
	// The session is checked again whenever sessions end in this process,
	// and now and then for those ended elsewhere, so that signing out or a
	// disabled account also ends the feed. The first check, after taking
	// the channel, covers a sign-out since the check before the upgrade.
	ended := h.staff.SessionsEnded()
	recheck := time.NewTicker(sessionRecheck)
	defer recheck.Stop()
	check := true
	conn.SetWriteDeadline(time.Now().Add(httpkit.WriteWait))
	if err := conn.WriteJSON(map[string]string{"type": "hello"}); err != nil {
		return
	}
	for {
		if check {
			if err := h.agentLiveCheck(r); err != nil {
				status, _ := httpkit.StatusOf(err)
				if status < 500 {
					conn.WriteControl(websocket.CloseMessage, closeSignedOut, time.Now().Add(httpkit.WriteWait))
					return
				}
				// Not the agent's doing: keep the feed, check again later.
				h.errors.ServerError("WS", "/agent/live", status, err)
			}
			check = false
		}
		select {
		case <-closed:
			return
		case <-ended:
			ended = h.staff.SessionsEnded()
			check = true
		case <-recheck.C:
			check = true
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
