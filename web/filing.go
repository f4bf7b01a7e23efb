package web

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/tickets"
)

// Limits of a filing's body.
const (
	// maxTextFiling: a filing as JSON or a urlencoded form, every field at
	// its longest (about 180 KB of UTF-8), escaped or percent-encoded.
	maxTextFiling = 1 << 20
	// maxMultipartFiling: the attachments at their largest and the text.
	maxMultipartFiling = tickets.MaxAttachments*tickets.MaxAttachmentSize + 1<<20
	// maxFilingParts: the form has 15 fields and 5 files; room for
	// clients that send more, far below what would cost anything.
	maxFilingParts = 64
	// maxTextPart: one text field of a multipart filing (a description is
	// at most 80 KB of UTF-8).
	maxTextPart = 128 << 10
	// uploadWait is how long a filing waits for its share of the upload
	// budget before it is answered 503.
	uploadWait = 3 * time.Second
)

// DefaultUploadMemory is Config.UploadMemory's default: two filings at the
// largest (five files of 10 MiB and the text, just over 50 MiB each), or
// many small ones, in memory at once.
const DefaultUploadMemory = 128 << 20

// idempotencyHeader carries a filing's idempotency key on the API; the
// form sends it as the field idempotency_key.
const idempotencyHeader = "Idempotency-Key"

// newFormKey is the idempotency key of one rendering of the ticket form: a
// browser that sends the form again (a reload after a lost answer, or Back
// and Send) files one ticket.
func newFormKey() string { return rand.Text() }

// readNewTicket reads a filing from JSON, a urlencoded form or a multipart
// form with attachments. A multipart body takes its Content-Length from
// the upload budget before it is read; release gives it back and must be
// called once the filing is done with the attachments (it is never nil).
func (h *handler) readNewTicket(c *fiber.Ctx) (nt tickets.NewTicket, values map[string]string, release func(), err error) {
	values = map[string]string{}
	release = func() {}
	var atts []tickets.Attachment
	ct := c.Get(fiber.HeaderContentType)
	switch {
	case strings.HasPrefix(ct, fiber.MIMEMultipartForm):
		atts, release, err = h.readMultipart(c, values)
		if err != nil {
			return tickets.NewTicket{}, values, release, err
		}
	case strings.HasPrefix(ct, fiber.MIMEApplicationJSON):
		if err := httpkit.ReadBody(c, maxTextFiling); err != nil {
			return tickets.NewTicket{}, values, release, err
		}
		var raw map[string]any
		if err := json.Unmarshal(c.Body(), &raw); err != nil {
			return tickets.NewTicket{}, values, release, httpkit.BadRequest("body: not a JSON object")
		}
		for _, f := range formFields {
			switch v := raw[f].(type) {
			case string:
				values[f] = v
			case float64:
				values[f] = strconv.FormatFloat(v, 'f', -1, 64)
			}
		}
	default:
		if err := httpkit.ReadBody(c, maxTextFiling); err != nil {
			return tickets.NewTicket{}, values, release, err
		}
		for _, f := range formFields {
			values[f] = c.FormValue(f)
		}
	}
	if k := c.Get(idempotencyHeader); k != "" {
		values["idempotency_key"] = k
	}
	severity, _ := strconv.Atoi(strings.TrimSpace(values["severity"]))
	return tickets.NewTicket{
		Name: values["name"], Company: values["company"], Phone: values["phone"], Email: values["email"],
		Subject: values["subject"], Description: values["description"], Severity: severity,
		Version: values["version"], Environment: values["environment"], ErrorMessages: values["error_messages"],
		Deployment: tickets.Deployment(values["deployment"]), Lang: values["lang"],
		DeflectionSession: values["deflection_session"], Attachments: atts,
		IdempotencyKey: values["idempotency_key"],
	}, values, release, nil
}

// readMultipart reads a multipart filing part by part from the body
// stream: the text fields into values, the files (the parts named
// attachments) into one buffer of Content-Length bytes, each file a slice
// of it, so a filing holds no more than the budget it took. Any part that
// cannot be read refuses the whole filing: a file dropped silently would
// file a ticket without it.
func (h *handler) readMultipart(c *fiber.Ctx, values map[string]string) ([]tickets.Attachment, func(), error) {
	noop := func() {}
	req := c.Request()
	boundary := string(req.Header.MultipartFormBoundary())
	if boundary == "" {
		return nil, noop, fmt.Errorf("%w: no boundary in Content-Type", httpkit.ErrBadMultipart)
	}
	if ce := req.Header.ContentEncoding(); len(ce) > 0 && string(ce) != "identity" {
		return nil, noop, httpkit.ErrEncoded
	}
	size := req.Header.ContentLength()
	if size < 0 {
		return nil, noop, httpkit.ErrLengthRequired
	}
	if size > maxMultipartFiling {
		return nil, noop, httpkit.TooLarge(c, maxMultipartFiling)
	}
	release, err := h.uploads.Take(c, int64(size), uploadWait)
	if err != nil {
		return nil, noop, err
	}
	var body io.Reader = req.BodyStream()
	if body == nil { // a body set whole (not streamed)
		body = bytes.NewReader(req.Body())
	}
	buf := make([]byte, size)
	used := 0
	mr := multipart.NewReader(io.LimitReader(body, int64(size)), boundary)
	var atts []tickets.Attachment
	for i := 1; ; i++ {
		p, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, release, fmt.Errorf("%w: part %d: %w", httpkit.ErrBadMultipart, i, err)
		}
		if i > maxFilingParts {
			return nil, release, fmt.Errorf("%w: more than %d parts", httpkit.ErrBadMultipart, maxFilingParts)
		}
		name := p.FormName()
		switch {
		case name == "":
			return nil, release, fmt.Errorf("%w: part %d: no form-data Content-Disposition with a name that parses", httpkit.ErrBadMultipart, i)
		case name == "attachments":
			start := used
			n, more, err := readInto(p, buf[used:min(len(buf), used+tickets.MaxAttachmentSize)])
			if err != nil {
				return nil, release, fmt.Errorf("%w: part %d (attachments): %w", httpkit.ErrBadMultipart, i, err)
			}
			if more {
				c.Context().SetConnectionClose() // the rest is not read
				return nil, release, tickets.AttachmentTooLarge(p.FileName())
			}
			used += n
			if p.FileName() != "" || n > 0 { // an empty file input sends a part without either
				atts = append(atts, tickets.Attachment{Name: p.FileName(), ContentType: p.Header.Get("Content-Type"),
					Data: buf[start:used:used]})
			}
		case isFormField(name):
			var v bytes.Buffer
			n, err := v.ReadFrom(io.LimitReader(p, maxTextPart+1))
			if err != nil {
				return nil, release, fmt.Errorf("%w: part %d (%s): %w", httpkit.ErrBadMultipart, i, name, err)
			}
			if n > maxTextPart {
				c.Context().SetConnectionClose()
				return nil, release, fmt.Errorf("%w: part %d (%s): at most %d bytes", httpkit.ErrBodyTooLarge, i, name, maxTextPart)
			}
			if _, seen := values[name]; !seen { // the first value, as a form's
				values[name] = v.String()
			}
		default: // a field the filing does not know: ignored, as in a form
			if _, err := io.Copy(io.Discard, p); err != nil {
				return nil, release, fmt.Errorf("%w: part %d (%s): %w", httpkit.ErrBadMultipart, i, name, err)
			}
		}
	}
	_ = req.CloseBodyStream()
	return atts, release, nil
}

// readInto fills dst from r up to r's end; more reports that r has data
// beyond dst. A part cut short (the client went away) is an error, not an
// end: io.ErrUnexpectedEOF.
func readInto(r io.Reader, dst []byte) (n int, more bool, err error) {
	for n < len(dst) {
		k, err := r.Read(dst[n:])
		n += k
		if err == io.EOF {
			return n, false, nil
		}
		if err != nil {
			return n, false, err
		}
	}
	var one [1]byte
	for {
		k, err := r.Read(one[:])
		if k > 0 {
			return n, true, nil
		}
		if err == io.EOF {
			return n, false, nil
		}
		if err != nil {
			return n, false, err
		}
	}
}

func isFormField(name string) bool {
	for _, f := range formFields {
		if f == name {
			return true
		}
	}
	return false
}
