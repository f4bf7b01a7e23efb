package search

import (
	"container/list"
	"strconv"
	"strings"
	"sync"
)

// DefaultCacheSize is the number of results an Index keeps by default.
const DefaultCacheSize = 4096

// resultCache keeps the most recently used results. Customers repeat
// searches (popular problems, and every as-you-type prefix), and an Index
// never changes once open, so a cached result is never stale; a new Index
// starts with an empty cache.
type resultCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // front = most recent; values are *cacheEntry
	byKey map[string]*list.Element
}

type cacheEntry struct {
	key string
	res Result
}

func newResultCache(max int) *resultCache {
	if max <= 0 {
		return nil
	}
	return &resultCache{max: max, order: list.New(), byKey: map[string]*list.Element{}}
}

// cacheKey identifies a validated query; whitespace differences between
// queries do not matter to the search and do not split the cache.
func cacheKey(q Query) string {
	var b strings.Builder
	b.WriteString(q.Lang)
	b.WriteByte(0)
	b.WriteString(q.Category)
	b.WriteByte(0)
	b.WriteString(q.Tag)
	b.WriteByte(0)
	b.WriteString(q.Exclude)
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(q.Limit))
	b.WriteByte(0)
	b.WriteString(strconv.Itoa(q.Offset))
	b.WriteByte(0)
	b.WriteString(strconv.FormatBool(q.Prefix))
	b.WriteString(strconv.FormatBool(q.Facets))
	b.WriteString(strconv.FormatBool(q.Draft))
	b.WriteByte(0)
	text := strings.Join(strings.Fields(q.Text), " ")
	if q.Prefix && strings.HasSuffix(q.Text, " ") {
		text += " " // a finished last word is searched differently
	}
	b.WriteString(text)
	return b.String()
}

func (c *resultCache) get(key string) (Result, bool) {
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
	return e.Value.(*cacheEntry).res, true
}

func (c *resultCache) put(key string, res Result) {
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
