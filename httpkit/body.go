package httpkit

import (
	"errors"
	"fmt"
	"io"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/tickets"
)

// Body limits of the endpoints that take a small JSON object or form: what
// the largest valid request needs, with room for the other fields. A form
// percent-encodes every byte of non-ASCII text as three, and JSON may spell
// a character as a 12-byte surrogate pair, so text counts 12 bytes a
// character.
const (
	// ReplyBodyLimit: a reply, a description's length (tickets.MaxDescription).
	ReplyBodyLimit = tickets.MaxDescription*12 + 16<<10
	// FormBodyLimit: sign-in, a password change, a severity with its reason.
	FormBodyLimit = 16 << 10
	// SmallBodyLimit: a status, an assignee, a vote, a sign-out.
	SmallBodyLimit = 4 << 10
)

// ErrBodyTooLarge is a request body over its endpoint's limit (413).
var ErrBodyTooLarge = errors.New("body too large")

// ErrEncoded (415): bodies are taken as sent; a compressed one could
// expand far beyond its limit once decoded.
var ErrEncoded = fiber.NewError(fiber.StatusUnsupportedMediaType, "body: Content-Encoding is not supported; send it uncompressed")

// MaxBody reads the request's body into memory, refusing with 413 one
// larger than n bytes: each endpoint takes what it needs. The server
// streams request bodies (filings read theirs part by part), so nothing
// else bounds what c.Body or c.FormValue would read; every route that takes
// a body has a MaxBody before any handler that reads it.
func MaxBody(n int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := ReadBody(c, n); err != nil {
			return err
		}
		return c.Next()
	}
}

// ReadBody is MaxBody within a handler: after it, c.Body holds the whole
// body, at most n bytes.
func ReadBody(c *fiber.Ctx, n int) error {
	req := c.Request()
	if ce := req.Header.ContentEncoding(); len(ce) > 0 && string(ce) != "identity" {
		return ErrEncoded
	}
	if req.Header.ContentLength() > n {
		return TooLarge(c, n)
	}
	if s := req.BodyStream(); s != nil {
		data, err := io.ReadAll(io.LimitReader(s, int64(n)+1))
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUnreadableBody, err)
		}
		req.SetBody(data) // and closes the stream
		if len(data) > n {
			return TooLarge(c, n)
		}
	}
	if len(req.Body()) > n {
		return TooLarge(c, n)
	}
	return nil
}

// ErrUnreadableBody is a body the client did not finish sending (400): a
// dropped connection or a malformed chunk.
var ErrUnreadableBody = errors.New("body: cannot be read")

// TooLarge is the 413 for a body over n bytes. The rest of the body is not
// read, so the connection is closed after the answer (see closeUnread).
func TooLarge(c *fiber.Ctx, n int) error {
	closeUnread(c)
	return fmt.Errorf("%w: at most %d bytes", ErrBodyTooLarge, n)
}

// finishBody closes the connection after a request whose body no handler
// read (a refusal before reading, a GET or an unknown path with a body):
// the next request on it would start inside the body. Reading the rest
// instead could wait on a client that never sends it. A filing refused
// (413, or 503 for the upload budget) part-way through its body ends here
// too.
func finishBody(c *fiber.Ctx) error {
	err := c.Next()
	req := c.Request()
	if req.BodyStream() != nil {
		if req.Header.ContentLength() != 0 {
			closeUnread(c)
		}
		_ = req.CloseBodyStream()
	}
	return err
}

// ErrBadMultipart is a multipart body that cannot be read as a form (400):
// a part whose header does not parse, too many parts, a broken boundary.
// Its message names the part.
var ErrBadMultipart = errors.New("multipart body")

// ErrLengthRequired is an upload without Content-Length (411): its share of
// the upload budget is taken before it is read.
var ErrLengthRequired = errors.New("body: multipart/form-data needs a Content-Length")
