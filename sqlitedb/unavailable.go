package sqlitedb

import (
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mattn/go-sqlite3"
)

// ErrUnavailable is wrapped by the errors of writes that failed because the
// storage cannot take them now: a full disk or quota, an I/O error, a
// read-only or vanished file, a damaged database. Neither the caller's
// fault nor a bug; it lasts until an operator acts, so callers are told to
// come back later (httpkit answers 503).
var ErrUnavailable = errors.New("storage unavailable")

// UnavailableError is a write that failed for want of storage. Reason says
// why in a few words that do not change from one failure to the next
// ("database or disk is full"), for the health report and for telling
// repeated failures apart; Err is the failure itself.
type UnavailableError struct {
	Reason string
	Err    error
}

func (e *UnavailableError) Error() string { return "storage unavailable: " + e.Err.Error() }

// Unwrap gives both ErrUnavailable and the cause, so errors.Is and
// errors.As find either.
func (e *UnavailableError) Unwrap() []error { return []error{ErrUnavailable, e.Err} }

// unavailableCodes are SQLite's results that mean the storage, not the
// statement, is at fault.
var unavailableCodes = []sqlite3.ErrNo{sqlite3.ErrFull, sqlite3.ErrIoErr, sqlite3.ErrReadonly,
	sqlite3.ErrCantOpen, sqlite3.ErrCorrupt, sqlite3.ErrNotADB}

// unavailableErrnos are the system's errors, from writing files (the
// attachments), that mean the same.
var unavailableErrnos = []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO}

// Unavailable returns err as an *UnavailableError if it says the storage
// cannot take writes, and err unchanged otherwise (nil stays nil).
func Unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		for _, c := range unavailableCodes {
			if se.Code == c {
				return &UnavailableError{Reason: c.Error(), Err: err}
			}
		}
		return err
	}
	for _, n := range unavailableErrnos {
		if errors.Is(err, n) {
			return &UnavailableError{Reason: n.Error(), Err: err}
		}
	}
	return err
}

// Problem is a storage's failure, as the health report shows it.
type Problem struct {
	Reason      string    // the latest failure's UnavailableError.Reason
	Since, Last time.Time // the first failure since the last success, the latest
	Failures    int       // writes that failed since the last success
}

// StorageHealth remembers whether writes to a storage (the database, a
// directory of files) fail for want of storage: the failures since the
// latest successful write. The zero value is ready; it is safe for
// concurrent use.
type StorageHealth struct {
	failing atomic.Bool // lets a success skip the lock while all is well
	mu      sync.Mutex
	p       Problem
}

// Observe records a write's outcome and returns err as the caller should
// see it: nil clears any failure recorded; a storage failure is recorded
// and returned as an *UnavailableError; any other error (the work's own)
// says nothing of the storage and is returned as is.
func (h *StorageHealth) Observe(err error) error {
	if err == nil {
		if h.failing.Load() {
			h.mu.Lock()
			h.p = Problem{}
			h.failing.Store(false)
			h.mu.Unlock()
		}
		return nil
	}
	err = Unavailable(err)
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		return err
	}
	now := time.Now()
	h.mu.Lock()
	if h.p.Failures == 0 {
		h.p.Since = now
	}
	h.p.Reason, h.p.Last = ue.Reason, now
	h.p.Failures++
	h.failing.Store(true)
	h.mu.Unlock()
	return err
}

// Problem is the failure recorded since the latest successful write, if
// any.
func (h *StorageHealth) Problem() (Problem, bool) {
	if !h.failing.Load() {
		return Problem{}, false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.p, h.p.Failures > 0
}
