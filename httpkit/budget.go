package httpkit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// ErrBusy is a request that found the upload budget spent (503 with
// Retry-After): other uploads hold the memory it would need.
var ErrBusy = errors.New("busy receiving other uploads")

// ErrUploading is a request whose client already holds its share of the
// upload budget (429 with Retry-After): its own uploads under way hold all
// that one client may, so that no client can hold the whole budget.
var ErrUploading = errors.New("your address is still sending other uploads")

// BusyRetryAfter is the Retry-After of an ErrBusy or ErrUploading answer,
// in seconds.
const BusyRetryAfter = 5

// Budget bounds the bytes that requests hold in memory at once: the
// uploads of concurrent filings share it. A request takes its share before
// reading its body and gives it back when answered. One client (its
// ClientKey: an IPv6 /64 is one) may hold at most perClient of it, so that
// a few slow uploads from one address cannot hold all of it.
type Budget struct {
	mu        sync.Mutex
	capacity  int64
	perClient int64 // ≤ 0: no share per client
	used      int64
	byClient  map[string]int64 // bytes held per client; no entry for none
	freed     chan struct{}    // closed, and replaced, whenever bytes are given back
}

// NewBudget returns a budget of capacity bytes, of which one client may
// hold perClient at once (≤ 0: all of it). A client holding nothing may
// always take a request's worth, even beyond perClient.
func NewBudget(capacity, perClient int64) *Budget {
	return &Budget{capacity: capacity, perClient: perClient, byClient: map[string]int64{}, freed: make(chan struct{})}
}

// Capacity is the budget's size in bytes.
func (b *Budget) Capacity() int64 { return b.capacity }

// Take is Acquire for the body of c, size bytes (its Content-Length), by
// its client (ClientIP, keyed as the rate limits key it), followed by a
// minimum rate for the body (Timeouts.BodyMinRate): memory is lent to
// bodies that arrive, not to clients that trickle. A body larger than the
// whole budget is refused with 413: it could never be taken, and taking
// less than it allocates would break the bound.
func (b *Budget) Take(c *fiber.Ctx, size int64, wait time.Duration) (release func(), err error) {
	if size > b.capacity {
		return nil, TooLarge(c, int(b.capacity))
	}
	release, err = b.Acquire(c.UserContext(), ClientKey(ClientIP(c)), size, wait)
	if err != nil {
		return nil, err
	}
	holdToMinRate(c, size)
	return release, nil
}

// Acquire takes n bytes of the budget for client, waiting up to wait for
// other requests to give theirs back; then ErrUploading if the client's
// own share is what is lacking, else ErrBusy. More than the whole budget
// is refused at once (ErrBodyTooLarge). The returned release gives the
// bytes back (once, however often it is called).
func (b *Budget) Acquire(ctx context.Context, client string, n int64, wait time.Duration) (release func(), err error) {
	n = max(n, 0)
	if n > b.capacity {
		return nil, fmt.Errorf("%w: at most %d bytes", ErrBodyTooLarge, b.capacity)
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		b.mu.Lock()
		held := b.byClient[client]
		ownShare := b.perClient <= 0 || held == 0 || held+n <= b.perClient
		if ownShare && b.used+n <= b.capacity {
			b.used += n
			b.byClient[client] = held + n
			b.mu.Unlock()
			return sync.OnceFunc(func() { b.release(client, n) }), nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-timer.C:
			if !ownShare {
				return nil, ErrUploading
			}
			return nil, ErrBusy
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (b *Budget) release(client string, n int64) {
	b.mu.Lock()
	b.used -= n
	if b.byClient[client] -= n; b.byClient[client] <= 0 {
		delete(b.byClient, client)
	}
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
