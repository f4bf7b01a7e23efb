package httpkit

import (
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// DefaultErrorLogInterval is Config.ErrorLogInterval's default.
const DefaultErrorLogInterval = 10 * time.Second

// maxErrorKinds bounds the kinds of error counted at once; beyond it every
// error is logged, as before.
const maxErrorKinds = 256

// ErrorLog logs server errors without letting
// one cause flood the log (a full disk fails every request alike: 9,644
// lines in 5 s buried everything else). The first error of a kind is
// logged at once; its repeats within the interval are counted and summed
// up in one line when the interval ends, and so on while they go on. The
// error handler logs through it, and so do WebSocket handlers, which have
// no error handler; one is shared by the whole server.
type ErrorLog struct {
	log      *slog.Logger
	interval time.Duration

	mu      sync.Mutex
	repeats map[string]*repeats // by errorKind; present while a kind is being counted
}

// repeats are the errors of one kind since the kind's last line.
type repeats struct {
	n            int
	method, path string // the latest's
	err          error
}

// NewErrorLog logs to log, summing up repeats once per interval (0:
// DefaultErrorLogInterval).
func NewErrorLog(log *slog.Logger, interval time.Duration) *ErrorLog {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if interval <= 0 {
		interval = DefaultErrorLogInterval
	}
	return &ErrorLog{log: log, interval: interval, repeats: map[string]*repeats{}}
}

// ServerError logs err, a request's server error, unless it repeats one
// logged within the interval. method is "WS" for a WebSocket's message.
func (l *ErrorLog) ServerError(method, path string, status int, err error) {
	kind := errorKind(status, err)
	l.mu.Lock()
	if r, ok := l.repeats[kind]; ok {
		r.n++
		r.method, r.path, r.err = method, path, err
		l.mu.Unlock()
		return
	}
	if len(l.repeats) < maxErrorKinds {
		l.repeats[kind] = &repeats{}
		time.AfterFunc(l.interval, func() { l.summarise(kind) })
	}
	l.mu.Unlock()
	l.log.Error("request failed", "method", method, "path", path, "error", err)
}

// summarise logs the repeats of kind counted in the interval just ended,
// and counts on for another; after a quiet interval the kind is forgotten,
// so that its next error is logged at once.
func (l *ErrorLog) summarise(kind string) {
	l.mu.Lock()
	r := l.repeats[kind]
	if r.n == 0 {
		delete(l.repeats, kind)
		l.mu.Unlock()
		return
	}
	last := *r
	r.n = 0
	time.AfterFunc(l.interval, func() { l.summarise(kind) })
	l.mu.Unlock()
	l.log.Error("request failed (repeated)", "repeated", last.n, "within", l.interval,
		"method", last.method, "path", last.path, "error", last.err)
}

// errorKind tells errors of the same cause apart from others: a storage
// failure by its reason; anything else by its status and innermost error,
// since the layers wrapped around it name the request's particulars (a
// ticket's number).
func errorKind(status int, err error) string {
	var ue *sqlitedb.UnavailableError
	if errors.As(err, &ue) {
		return "storage unavailable: " + ue.Reason
	}
	for {
		inner := errors.Unwrap(err)
		if inner == nil {
			break
		}
		err = inner
	}
	return strconv.Itoa(status) + " " + err.Error()
}
