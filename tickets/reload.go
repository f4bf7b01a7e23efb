package tickets

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"
)

// reloading is a settings file in the data directory that operators edit
// while the portal runs (customers.yaml, calendar.yaml). It looks at the
// file's modification time and size at most once a second and re-reads it
// when they changed. A malformed edit keeps the last good version and is
// logged; a missing file means the defaults.
type reloading[T any] struct {
	path  string
	what  string // for log lines: "customers file"
	parse func(path string) (T, error)
	def   func() T // the value without a file
	now   func() time.Time
	log   *slog.Logger

	mu        sync.Mutex
	checked   time.Time // when the file was last looked at
	modTime   time.Time // of the version last read, good or bad
	size      int64
	exists    bool
	value     T
	lastError error // of the last read, nil when it was good
}

// newReloading reads the file once; a malformed file is an error here, at
// start, where an operator sees it.
func newReloading[T any](path, what string, parse func(string) (T, error), def func() T, now func() time.Time, log *slog.Logger) (*reloading[T], error) {
	r := &reloading[T]{path: path, what: what, parse: parse, def: def, now: now, log: log, value: def()}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refresh(true)
	if r.lastError != nil {
		return nil, r.lastError
	}
	return r, nil
}

// get returns the current value, re-reading the file if it changed.
func (r *reloading[T]) get() T {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := r.now(); now.Sub(r.checked) >= time.Second || now.Before(r.checked) {
		r.refresh(false)
	}
	return r.value
}

// refresh re-reads the file if it changed since the last read. r.mu is held.
func (r *reloading[T]) refresh(force bool) {
	r.checked = r.now()
	info, err := os.Stat(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		if r.exists || force {
			r.exists, r.modTime, r.size, r.lastError = false, time.Time{}, 0, nil
			r.value = r.def()
			if !force {
				r.log.Info(r.what+" removed: using the defaults", "path", r.path)
			}
		}
		return
	}
	if err != nil {
		r.fail(fmt.Errorf("tickets: %s: %w", r.what, err), force)
		return
	}
	if !force && r.exists && info.ModTime().Equal(r.modTime) && info.Size() == r.size {
		return
	}
	r.exists, r.modTime, r.size = true, info.ModTime(), info.Size()
	v, err := r.parse(r.path)
	if err != nil {
		r.fail(err, force)
		return
	}
	r.value, r.lastError = v, nil
	r.log.Info(r.what+" loaded", "path", r.path)
}

// fail records a failed read; at start (force) the caller reports it.
func (r *reloading[T]) fail(err error, force bool) {
	r.lastError = err
	if force {
		return
	}
	r.log.Error(r.what+" not loaded; keeping the previous version", "path", r.path, "err", err)
}
