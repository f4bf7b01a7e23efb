package httpkit

import (
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
)

// A connection closed while its client is still sending a body (a refused
// upload) lingers, as Go's net/http does (closeWriteAndWait): closing a
// socket with unread bytes in its receive buffer makes the kernel send a
// reset, which reaches the client while it is still writing, and curl,
// Go's client and browsers then report "connection reset by peer" instead
// of the 413 or 503 that was sent. So the server half-closes (the client
// reads the whole answer, then EOF), reads and discards what still comes
// until the client closes its end too, and closes.
//
// The bounds keep a client that never stops from holding a server
// goroutine. lingerTime is net/http's rstAvoidanceDelay: time for the
// answer to cross a slow link and for the client to stop. lingerBytes is
// about what 1 Gbit/s brings in that time (a largest filing is 51 MiB), so
// slower clients get all of lingerTime; a few MiB would cut answers: on
// loopback Go's client sends 4 to 16 MiB before it acts on one.
const (
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 64 << 20
)

// closeUnread closes the connection after the answer to a request whose
// body is left unread: the next request on it would start inside the
// body. If the client may still be sending the body, the close lingers.
func closeUnread(c *fiber.Ctx) {
	c.Context().SetConnectionClose()
	if tc, ok := c.Context().Conn().(*timedConn); ok {
		tc.bodyUnread(int64(c.Request().Header.ContentLength()))
	}
}

// bodyUnread tells the connection that its request's body, length bytes
// long (negative: chunked, length unknown), is not read to its end.
func (c *timedConn) bodyUnread(length int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.unread, c.bodyLen = true, length
}

// stillSending reports whether the client may still be sending a body the
// server left unread, and where to log the linger's end. A body that has
// arrived whole (read by fasthttp, if not by the handler) leaves nothing
// in the receive buffer: such a close, like every close between requests
// or after a hijack, is not delayed.
func (c *timedConn) stillSending() (bool, *slog.Logger) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.unread || c.handedOver {
		return false, nil
	}
	c.unread = false // once: a shutdown may close the connection too
	log := c.log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return c.phase != body || c.bodyLen < 0 || c.bodyBytes < c.bodyLen, log
}

// Close closes the connection, lingering first if its client is still
// sending a refused body.
func (c *timedConn) Close() error {
	if sending, log := c.stillSending(); sending {
		if discarded, cut := c.linger(); cut {
			log.Debug("connection closed on a client still sending its body",
				"client", c.Conn.RemoteAddr().String(), "discarded_bytes", discarded)
		}
	}
	return c.Conn.Close()
}

// linger half-closes the connection and discards what the client sends
// until it closes its end, or for lingerTime or lingerBytes at most; cut
// reports that the client had not closed its end by then.
func (c *timedConn) linger() (discarded int, cut bool) {
	cw, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil || c.Conn.SetReadDeadline(time.Now().Add(lingerTime)) != nil {
		return 0, false
	}
	buf := make([]byte, 32<<10)
	for discarded < lingerBytes {
		n, err := c.Conn.Read(buf)
		discarded += n
		if err != nil {
			var ne net.Error
			return discarded, errors.As(err, &ne) && ne.Timeout()
		}
	}
	return discarded, true
}
