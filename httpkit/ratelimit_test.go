package httpkit

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/orbitask/portal/ratelimit"
	"github.com/orbitask/portal/staff"
)

// An IPv6 client is its /64 (one subscriber's network); IPv4 and
// IPv4-mapped addresses are themselves.
func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.5":                 "203.0.113.5",
		"::ffff:203.0.113.5":          "203.0.113.5",
		"2001:db8:1:2:3:4:5:6":        "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":        "2001:db8:1:2::/64",
		"2001:db8:1:3::1":             "2001:db8:1:3::/64",
		"not an address (kept as is)": "not an address (kept as is)",
	} {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// records keeps the levels of the records logged.
type records struct {
	mu     sync.Mutex
	levels []slog.Level
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.levels = append(r.levels, rec.Level)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

// A client hammering a limit is one warning, the rest of its refusals are
// debug lines; another client gets its own warning.
func TestRefusalsWarnOncePerClient(t *testing.T) {
	rec := &records{}
	limits := RateLimits{Filing: ratelimit.Rule{Burst: 1, Every: time.Hour}}.New(slog.New(rec))
	for range 50 {
		limits.Filing.Allow("203.0.113.5")
	}
	err := limits.Filing.Allow("203.0.113.5")
	var rl *RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, ErrRateLimited) || rl.Limit != "filing" {
		t.Fatalf("refusal: %v", err)
	}
	if s, ok := RetryAfter(err); !ok || s < 3590 || s > 3600 {
		t.Errorf("RetryAfter = %d, %v; want about an hour", s, ok)
	}
	limits.Filing.Allow("203.0.113.6")
	limits.Filing.Allow("203.0.113.6")
	warns, debugs := 0, 0
	for _, l := range rec.levels {
		switch l {
		case slog.LevelWarn:
			warns++
		case slog.LevelDebug:
			debugs++
		default:
			t.Errorf("refusal logged at %v", l)
		}
	}
	if warns != 2 || debugs != 49 {
		t.Errorf("%d warnings and %d debug lines, want 2 (one per client) and 49", warns, debugs)
	}
	// The sign-in limit's error gives a Retry-After too; others none.
	if s, ok := RetryAfter(&staff.RateLimitError{RetryAfter: 1500 * time.Millisecond}); !ok || s != 2 {
		t.Errorf("staff RetryAfter = %d, %v; want 2", s, ok)
	}
	if _, ok := RetryAfter(errors.New("other")); ok {
		t.Error("RetryAfter of another error")
	}
	// Off: nothing is limited.
	if off := (RateLimits{Off: true}).New(nil); off.Filing.Allow("203.0.113.5") != nil {
		t.Error("limits off, yet refused")
	}
}

// The cost of the limit per request: the address parsed into its key, and
// the bucket's decision.
func BenchmarkRateLimitAllow(b *testing.B) {
	limits := DefaultRateLimits()
	limits.NewSession = ratelimit.Rule{Burst: 1 << 30, Every: time.Nanosecond} // always allowed: the common case
	l := limits.New(nil).NewSession
	for b.Loop() {
		if err := l.Allow("2001:db8:1:2:3:4:5:6"); err != nil {
			b.Fatal(err)
		}
	}
}
