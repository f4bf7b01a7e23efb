package search

import (
	"container/list"
	"sync"
	"sync/atomic"
)

// DefaultCacheSize is the number of results an Index keeps by default.
const DefaultCacheSize = 4096

// resultCache keeps the most recently used results. Customers repeat
// searches (popular problems, and every as-you-type prefix), and an Index
// never changes once open, so a cached result is never stale; a new Index
// starts with an empty cache, and a repaired one clears it.
//
// The key is the whole normalised Query (see Query.normalize), so every
// field of a query tells cached results apart, including fields added to
// Query later. A field that cannot be a map key does not compile here.
type resultCache struct {
	hits  atomic.Int64 // answers given from the cache, for tests and warming's proof
	mu    sync.Mutex
	max   int
	order *list.List // front = most recent; values are *cacheEntry
	byKey map[Query]*list.Element
}

type cacheEntry struct {
	key Query
	res Result
}

func newResultCache(max int) *resultCache {
	if max <= 0 {
		return nil
	}
	return &resultCache{max: max, order: list.New(), byKey: map[Query]*list.Element{}}
}

func (c *resultCache) get(key Query) (Result, bool) {
	if c == nil {
		return Result{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[key]
	if !ok {
		return Result{}, false
	}
	c.order.MoveToFront(e)
	c.hits.Add(1)
	return e.Value.(*cacheEntry).res, true
}

func (c *resultCache) put(key Query, res Result) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		e.Value.(*cacheEntry).res = res
		return
	}
	c.byKey[key] = c.order.PushFront(&cacheEntry{key, res})
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*cacheEntry).key)
	}
}

// has says whether key's result is cached, without counting a hit or
// changing the order.
func (c *resultCache) has(key Query) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.byKey[key]
	return ok
}

// CacheHits is how many searches the live pair has answered from its
// result cache: a new pair (a restart, a publish) starts at 0.
func (ix *Index) CacheHits() int64 {
	s := ix.acquire()
	defer s.release()
	if s.cache == nil {
		return 0
	}
	return s.cache.hits.Load()
}
