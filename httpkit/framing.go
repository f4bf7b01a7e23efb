package httpkit

import (
	"bytes"
	"log/slog"

	"github.com/gofiber/fiber/v2"
)

// refuseAmbiguousFraming answers 400 and closes the connection when a
// request's body length could be read two ways (RFC 9112 §6.1, §6.3): both
// Transfer-Encoding and Content-Length, or a Transfer-Encoding other than
// one "chunked". fasthttp reads such a body as chunked and keeps the
// connection, so a proxy in front that went by Content-Length would have
// the rest served as a second request: request smuggling. fasthttp itself
// refuses a single unknown coding ("xchunked", "chunked, identity") while
// parsing; what it lets through (a second Transfer-Encoding line,
// "identity", either beside a Content-Length) is refused here.
//
// fasthttp keeps no Content-Length once it reads a body as chunked, so the
// check reads the raw header lines.
func refuseAmbiguousFraming(log *slog.Logger) fiber.Handler {
	reports := NewReporter()
	return func(c *fiber.Ctx) error {
		te, cl, ok, spaced := framingHeaders(c.Request().Header.RawHeaders())
		if spaced {
			// RFC 9112 §5.1: a server MUST answer 400. fasthttp takes
			// "Transfer-Encoding :" for another header and reads no body,
			// while a proxy in front may have read it as chunked.
			closeUnread(c)
			ip := ClientIP(c)
			log.Log(c.UserContext(), reports.Level(ip), "request refused: whitespace before a header's colon", "client", ip,
				"method", c.Method(), "path", c.Path())
			return BadRequest("a header field may not have whitespace between its name and the colon")
		}
		if te == 0 || ok && !cl {
			return c.Next()
		}
		// Whatever follows on this connection cannot be told apart from
		// the body: nothing more on it is served.
		closeUnread(c)
		ip := ClientIP(c)
		log.Log(c.UserContext(), reports.Level(ip), "request refused: ambiguous body length", "client", ip, "method", c.Method(), "path", c.Path(),
			"transfer_encodings", te, "content_length", cl)
		return BadRequest("a request may have Content-Length or Transfer-Encoding: chunked, not both, and no other transfer coding")
	}
}

// framingHeaders counts the Transfer-Encoding lines in raw header lines,
// reports whether there is a Content-Length, whether the transfer codings
// are exactly one "chunked", and whether any field name has whitespace in
// it or before its colon (which fasthttp keeps as part of the name).
func framingHeaders(raw []byte) (te int, cl, chunkedOnly, spaced bool) {
	var codings [][]byte
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		if bytes.ContainsAny(line[:colon], " \t") {
			spaced = true
		}
		name := bytes.TrimSpace(line[:colon])
		switch {
		case bytes.EqualFold(name, []byte(fiber.HeaderTransferEncoding)):
			te++
			for _, v := range bytes.Split(line[colon+1:], []byte(",")) {
				codings = append(codings, bytes.TrimSpace(v))
			}
		case bytes.EqualFold(name, []byte(fiber.HeaderContentLength)):
			cl = true
		}
	}
	chunkedOnly = te == 1 && len(codings) == 1 && bytes.EqualFold(codings[0], []byte("chunked"))
	return te, cl, chunkedOnly, spaced
}
