package sqlitedb

import (
	"log/slog"
	"time"
)

// FailureLog keeps a background writer (one that retries on a timer, or
// writes what callers queued) from logging every write that fails alike:
// a full disk fails them all, several a second. The first failure is
// logged at once, then one line a minute while they go on, and one line
// when writing works again. It belongs to one goroutine, the writer's.
type FailureLog struct {
	Log  *slog.Logger
	What string // what the writer does: the log lines' message, "recording events"

	failed, lost int // failed writes and the items they held, since the last success
	logged       time.Time
}

// FailureLogEvery is how often failures that go on are logged again.
const FailureLogEvery = time.Minute

// Note records the outcome of one write of count items (0 when the write
// does not count items).
func (f *FailureLog) Note(err error, count int) {
	if err == nil {
		if f.failed > 0 {
			f.Log.Info(f.What+" works again", "failed_writes", f.failed, "lost", f.lost)
			f.failed, f.lost = 0, 0
		}
		return
	}
	f.failed++
	f.lost += count
	if now := time.Now(); f.failed == 1 || now.Sub(f.logged) >= FailureLogEvery {
		f.Log.Error(f.What, "err", err, "count", count, "failed_writes", f.failed, "lost", f.lost)
		f.logged = now
	}
}
