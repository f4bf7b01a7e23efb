package httpkit

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/orbitask/portal/deflect"
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/search"
	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/staff"
	"github.com/orbitask/portal/tickets"
)

// ErrNotFound answers 404 for anything the portal does not have.
var ErrNotFound = fiber.ErrNotFound

// BadRequest is a mistake in the request, answered with 400 and msg.
func BadRequest(msg string) error {
	return fiber.NewError(fiber.StatusBadRequest, msg)
}

// UnavailableMessage answers a request whose write failed for want of
// storage (sqlitedb.ErrUnavailable): the customer's work is not lost for
// good, only for now.
const UnavailableMessage = "We are temporarily unable to store tickets. Please try again in a few minutes."

// retryAfter is the Retry-After of a 503: seconds.
const retryAfter = "120"

// WithPage has err answered, unless in an API call, with page rather than
// the error page: the form whose sending failed, shown again with what was
// typed in it. The status and the logging are still the error handler's.
func WithPage(err error, page ErrorPage) error { return &pageError{err: err, page: page} }

type pageError struct {
	err  error
	page ErrorPage
}

func (e *pageError) Error() string { return e.err.Error() }
func (e *pageError) Unwrap() error { return e.err }

// MsgRateLimited is the answer to a request over a client's rate limit.
const MsgRateLimited = "too many requests; please wait a moment and try again"

// errorHandler answers a failed request with the status StatusOf gives:
// JSON for /api/ calls, else page's page (or the one WithPage gave). Server
// errors are logged here and only here, through errs, which keeps repeats
// from flooding the log.
func errorHandler(errs *ErrorLog, page ErrorPage) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		code, msg := StatusOf(err)
		if code >= 500 && !errors.Is(err, ErrBusy) {
			errs.ServerError(c.Method(), c.Path(), code, err)
		}
		if s, ok := RetryAfter(err); ok {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(s))
		} else if errors.Is(err, ErrBusy) || errors.Is(err, ErrUploading) {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(BusyRetryAfter))
		} else if code == fiber.StatusServiceUnavailable && c.GetRespHeader(fiber.HeaderRetryAfter) == "" {
			c.Set(fiber.HeaderRetryAfter, retryAfter)
		}
		if strings.HasPrefix(c.Path(), "/api/") {
			var fe *fields.Error
			if errors.As(err, &fe) {
				return c.Status(code).JSON(fiber.Map{"error": msg, "fields": fe.Messages(), "codes": apiCodes(fe)})
			}
			if code == fiber.StatusUnauthorized {
				c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="orbitask"`)
			}
			return c.Status(code).JSON(fiber.Map{"error": msg})
		}
		var pe *pageError
		if errors.As(err, &pe) {
			return pe.page(c, code, msg)
		}
		if page == nil {
			c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
			return c.Status(code).SendString(msg + "\n")
		}
		return page(c, code, msg)
	}
}

// apiCodes are the "codes" of a 422 answer: for each field at fault, one
// object with its code and the code's parameters ({"code": "too_long",
// "max": 200}). An attachments problem lists its files, each with its name:
// {"code": "files", "files": [{"name": "a.txt", "code": "file_too_large",
// "max_mb": 10}]}.
func apiCodes(fe *fields.Error) map[string]map[string]any {
	out := make(map[string]map[string]any, len(fe.Fields))
	for field, p := range fe.Fields {
		c := apiCode(p.Code, p.Params)
		if p.Code == fields.Files {
			files := make([]map[string]any, len(p.Files))
			for i, f := range p.Files {
				files[i] = apiCode(f.Code, f.Params)
				files[i]["name"] = f.Name
			}
			c["files"] = files
		}
		out[field] = c
	}
	return out
}

func apiCode(code string, params fields.Params) map[string]any {
	c := make(map[string]any, len(params)+1)
	for k, v := range params {
		c[k] = v
	}
	c["code"] = code
	return c
}

// StatusOf is the one place where errors become status codes: a bad query
// is the caller's mistake (400), a missing thing is 404, storage that
// cannot take writes (a full disk) is 503, and anything else is a server
// error whose details stay in the log.
func StatusOf(err error) (int, string) {
	var fe *fiber.Error
	var ve *fields.Error
	switch {
	case errors.As(err, &ve):
		return fiber.StatusUnprocessableEntity, "some fields need attention"
	case errors.Is(err, staff.ErrUnauthenticated), errors.Is(err, staff.ErrBadCredentials):
		return fiber.StatusUnauthorized, "sign in with a valid staff account or access token"
	case errors.Is(err, ErrRateLimited):
		return fiber.StatusTooManyRequests, MsgRateLimited
	case errors.Is(err, events.ErrNotViewed):
		return fiber.StatusForbidden, "open the article before voting on it"
	case errors.Is(err, events.ErrVoteNotCounted):
		return fiber.StatusConflict, "thank you; enough votes from your network have already been counted on this article"
	case errors.Is(err, staff.ErrRateLimited):
		return fiber.StatusTooManyRequests, "too many failed sign-ins; try again later"
	case errors.Is(err, staff.ErrNotFound):
		return fiber.StatusNotFound, "not found"
	case errors.Is(err, search.ErrInvalidQuery):
		return fiber.StatusBadRequest, strings.TrimPrefix(err.Error(), search.ErrInvalidQuery.Error()+": ")
	case errors.Is(err, kb.ErrNotFound), errors.Is(err, tickets.ErrNotFound), errors.Is(err, deflect.ErrUnknownSession):
		return fiber.StatusNotFound, "not found"
	case errors.Is(err, tickets.ErrClosed):
		return fiber.StatusConflict, "the ticket is closed; please file a new one"
	case errors.Is(err, tickets.ErrKeyReused):
		return fiber.StatusUnprocessableEntity, "Idempotency-Key: already used for a different ticket; send a new key"
	case errors.Is(err, os.ErrDeadlineExceeded):
		// A read deadline of the connection (Timeouts) cut the body the
		// handler was reading: the request timed out, whoever wrapped it.
		return fiber.StatusRequestTimeout, "the request did not arrive in time"
	case errors.Is(err, ErrBodyTooLarge):
		return fiber.StatusRequestEntityTooLarge, strings.TrimPrefix(err.Error(), ErrBodyTooLarge.Error()+": ")
	case errors.Is(err, ErrUnreadableBody):
		return fiber.StatusBadRequest, ErrUnreadableBody.Error()
	case errors.Is(err, ErrBadMultipart):
		return fiber.StatusBadRequest, strings.TrimPrefix(err.Error(), ErrBadMultipart.Error()+": ")
	case errors.Is(err, ErrLengthRequired):
		return fiber.StatusLengthRequired, ErrLengthRequired.Error()
	case errors.Is(err, ErrUploading):
		return fiber.StatusTooManyRequests, fmt.Sprintf("your address is still sending other uploads; try again in %d seconds", BusyRetryAfter)
	case errors.Is(err, ErrBusy):
		return fiber.StatusServiceUnavailable, fmt.Sprintf("busy receiving other uploads; try again in %d seconds", BusyRetryAfter)
	case errors.Is(err, deflect.ErrSessionClosed):
		return fiber.StatusConflict, "this draft has already been solved or filed"
	case errors.Is(err, sqlitedb.ErrUnavailable):
		return fiber.StatusServiceUnavailable, UnavailableMessage
	case errors.Is(err, search.ErrDamaged): // being rebuilt in the background
		return fiber.StatusServiceUnavailable, "Search is being repaired. Please try again in a minute."
	case errors.As(err, &fe):
		if fe.Code == fiber.StatusNotFound {
			return fe.Code, "not found"
		}
		return fe.Code, fe.Message
	}
	return fiber.StatusInternalServerError, "Something went wrong on our side. Please try again later."
}
