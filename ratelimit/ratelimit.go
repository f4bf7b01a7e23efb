// Package ratelimit keeps a token bucket per key (a client's address, say)
// so that one key's burst is refused while other keys go on. Buckets live
// in memory, bounded: a bucket idle long enough to be full again is
// forgotten (a new one would behave the same), and beyond MaxKeys the least
// recently used bucket goes, so a flood of new keys cannot exhaust memory.
// It knows nothing of HTTP; the buckets are golang.org/x/time/rate's.
package ratelimit

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rule is one limit: Burst requests at once, and one more each time Every
// passes (up to Burst again).
type Rule struct {
	Burst int
	Every time.Duration
}

// fullAfter is how long an untouched bucket takes to fill from empty; an
// entry idle that long is the same as a new one.
func (r Rule) fullAfter() time.Duration { return time.Duration(r.Burst) * r.Every }

// DefaultMaxKeys bounds the buckets of one Limiter when New is given 0:
// about 300 bytes each, so a few megabytes at most.
const DefaultMaxKeys = 20000

// ReportEvery is how often a key's refusals are reported (Decision.Report):
// a client hammering a limit is worth one warning a minute, not one per
// request.
const ReportEvery = time.Minute

// Limiter holds the buckets of one Rule. It is safe for concurrent use.
type Limiter struct {
	rule    Rule
	maxKeys int

	mu   sync.Mutex
	keys map[string]*list.Element // of *entry
	lru  list.List                // front: most recently seen
}

type entry struct {
	key      string
	bucket   *rate.Limiter
	seen     time.Time // last request
	reported time.Time // last refusal with Report set
}

// Decision answers one request.
type Decision struct {
	OK bool
	// RetryAfter is, when refused, how long until the key may try again.
	RetryAfter time.Duration
	// Report is set on a refusal when the key has not been reported for
	// ReportEvery, so a caller can log refusals without flooding its log.
	Report bool
}

// New returns a Limiter of rule r keeping at most maxKeys buckets (0:
// DefaultMaxKeys). r must allow something: Burst ≥ 1 and Every > 0.
func New(r Rule, maxKeys int) *Limiter {
	if r.Burst < 1 || r.Every <= 0 {
		panic("ratelimit: a rule needs Burst ≥ 1 and Every > 0")
	}
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	return &Limiter{rule: r, maxKeys: maxKeys, keys: map[string]*list.Element{}}
}

// Allow takes a token from key's bucket at now, if it has one.
func (l *Limiter) Allow(key string, now time.Time) Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evict(now)
	var e *entry
	if el, ok := l.keys[key]; ok {
		e = el.Value.(*entry)
		l.lru.MoveToFront(el)
	} else {
		if len(l.keys) >= l.maxKeys {
			l.remove(l.lru.Back())
		}
		e = &entry{key: key, bucket: rate.NewLimiter(rate.Every(l.rule.Every), l.rule.Burst)}
		l.keys[key] = l.lru.PushFront(e)
	}
	e.seen = now
	if e.bucket.AllowN(now, 1) {
		return Decision{OK: true}
	}
	// The bucket holds less than one token; the rest comes at one per Every.
	missing := 1 - e.bucket.TokensAt(now)
	d := Decision{RetryAfter: time.Duration(missing * float64(l.rule.Every))}
	if now.Sub(e.reported) >= ReportEvery {
		e.reported, d.Report = now, true
	}
	return d
}

// evict forgets the buckets idle long enough to be full: the list is in
// order of last use, so it stops at the first one still in use.
func (l *Limiter) evict(now time.Time) {
	idle := l.rule.fullAfter()
	for el := l.lru.Back(); el != nil; el = l.lru.Back() {
		if now.Sub(el.Value.(*entry).seen) < idle {
			return
		}
		l.remove(el)
	}
}

func (l *Limiter) remove(el *list.Element) {
	delete(l.keys, el.Value.(*entry).key)
	l.lru.Remove(el)
}

// Len is the number of buckets held.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}
