package httpkit

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrBusy is a request that found the upload budget spent (503 with
// Retry-After): other uploads hold the memory it would need.
var ErrBusy = errors.New("busy receiving other uploads")

// BusyRetryAfter is the Retry-After of an ErrBusy answer, in seconds.
const BusyRetryAfter = 5

// Budget bounds the bytes that requests hold in memory at once: the
// uploads of concurrent filings share it. A request takes its share before
// reading its body and gives it back when answered.
type Budget struct {
	mu       sync.Mutex
	capacity int64
	used     int64
	freed    chan struct{} // closed, and replaced, whenever bytes are given back
}

// NewBudget returns a budget of capacity bytes.
func NewBudget(capacity int64) *Budget {
	return &Budget{capacity: capacity, freed: make(chan struct{})}
}

// Capacity is the budget's size in bytes.
func (b *Budget) Capacity() int64 { return b.capacity }

// Acquire takes n bytes of the budget (all of it if n is larger), waiting
// up to wait for other requests to give theirs back; then ErrBusy. The
// returned release gives them back (once, however often it is called).
func (b *Budget) Acquire(ctx context.Context, n int64, wait time.Duration) (release func(), err error) {
	n = min(max(n, 0), b.capacity)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		b.mu.Lock()
		if b.used+n <= b.capacity {
			b.used += n
			b.mu.Unlock()
			return sync.OnceFunc(func() { b.release(n) }), nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-timer.C:
			return nil, ErrBusy
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (b *Budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// InUse is the bytes taken now.
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
