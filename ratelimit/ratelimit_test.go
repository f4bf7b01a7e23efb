package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// A key gets its burst at once, then one request per Every; RetryAfter
// says when the next one will pass, and other keys are not affected.
func TestBurstThenRefill(t *testing.T) {
	l := New(Rule{Burst: 3, Every: 10 * time.Second}, 0)
	for i := range 3 {
		if d := l.Allow("a", t0); !d.OK {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	d := l.Allow("a", t0)
	if d.OK || d.RetryAfter != 10*time.Second {
		t.Fatalf("4th request: %+v, want refused with RetryAfter 10s", d)
	}
	if d := l.Allow("b", t0); !d.OK {
		t.Fatal("another key refused")
	}
	if d := l.Allow("a", t0.Add(4*time.Second)); d.OK || d.RetryAfter != 6*time.Second {
		t.Fatalf("after 4s: %+v, want refused with RetryAfter 6s", d)
	}
	if d := l.Allow("a", t0.Add(10*time.Second)); !d.OK {
		t.Fatal("after Every: refused")
	}
	if d := l.Allow("a", t0.Add(10*time.Second)); d.OK {
		t.Fatal("two requests after one Every: both allowed")
	}
}

// Refusals of one key are reported once per ReportEvery, so a caller logs
// a hammering client once a minute.
func TestReportOncePerMinute(t *testing.T) {
	l := New(Rule{Burst: 1, Every: time.Hour}, 0)
	l.Allow("a", t0)
	reports := 0
	for i := range 120 { // two minutes of refusals, one a second
		if d := l.Allow("a", t0.Add(time.Duration(i)*time.Second)); d.OK {
			t.Fatal("allowed")
		} else if d.Report {
			reports++
		}
	}
	if reports != 2 {
		t.Errorf("%d reports in two minutes, want 2", reports)
	}
	if d := l.Allow("b", t0); !d.OK {
		t.Fatal("b refused")
	}
	if d := l.Allow("b", t0); !d.Report {
		t.Error("another key's first refusal not reported")
	}
}

// A bucket idle long enough to be full again is forgotten: memory follows
// the clients active lately, not every client ever seen.
func TestIdleBucketsEvicted(t *testing.T) {
	r := Rule{Burst: 2, Every: time.Second} // full again after 2 s
	l := New(r, 0)
	for i := range 1000 {
		l.Allow("k"+strconv.Itoa(i), t0)
	}
	l.Allow("busy", t0.Add(1500*time.Millisecond))
	if n := l.Len(); n != 1001 {
		t.Fatalf("%d buckets, want 1001", n)
	}
	l.Allow("busy", t0.Add(2*time.Second))
	if n := l.Len(); n != 1 {
		t.Errorf("after 2 s: %d buckets, want 1 (the busy one)", n)
	}
	// Forgetting changes nothing: an evicted key starts full, as it
	// would have been.
	if d := l.Allow("k1", t0.Add(2*time.Second)); !d.OK {
		t.Error("evicted key refused")
	}
}

// A flood of new keys (one request each from a million addresses) keeps at
// most MaxKeys buckets, and the least recently used go first: a client
// still hammering keeps its empty bucket and stays refused.
func TestFloodBounded(t *testing.T) {
	const maxKeys = 1000
	l := New(Rule{Burst: 5, Every: time.Minute}, maxKeys)
	now := t0
	for range 5 {
		l.Allow("spammer", now)
	}
	for i := range 1_000_000 {
		if i%100 == 0 {
			now = now.Add(time.Millisecond)
			if d := l.Allow("spammer", now); d.OK {
				t.Fatalf("after %d flood keys the spammer is allowed again", i)
			}
		}
		l.Allow("flood"+strconv.Itoa(i), now)
	}
	if n := l.Len(); n > maxKeys {
		t.Errorf("%d buckets, want at most %d", n, maxKeys)
	}
}

func TestNewRefusesEmptyRule(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for a rule allowing nothing")
		}
	}()
	New(Rule{}, 0)
}

// The cost of one decision: a known client, and a new client each time
// (which also evicts, the table being full).
func BenchmarkAllowSameKey(b *testing.B) {
	l := New(Rule{Burst: 10, Every: time.Second}, 0)
	now := time.Now()
	for b.Loop() {
		l.Allow("203.0.113.7", now)
	}
}

func BenchmarkAllowNewKeys(b *testing.B) {
	l := New(Rule{Burst: 10, Every: time.Second}, 1000)
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = "198.51." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	now := time.Now()
	i := 0
	for b.Loop() {
		l.Allow(keys[i%len(keys)], now)
		i++
	}
}

func BenchmarkAllowParallel(b *testing.B) {
	l := New(Rule{Burst: 10, Every: time.Second}, 0)
	now := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(strconv.Itoa(i%64), now)
			i++
		}
	})
}
