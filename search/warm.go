package search

import (
	"context"
	"time"
)

// DefaultWarmBudget bounds the time a new pair spends warming its cache:
// a restart or a publish is delayed by at most this much.
const DefaultWarmBudget = 2 * time.Second

// warmer fills the result cache of a new (knowledge base, index) pair
// with the answers to the queries customers ask most, before the pair
// serves: after a restart or a publish the cache would otherwise start
// empty, and the first seconds of traffic would all miss it.
type warmer struct {
	queries func(ctx context.Context) []Query
	budget  time.Duration
}

func newWarmer(cfg Config) warmer {
	w := warmer{queries: cfg.Warm, budget: cfg.WarmBudget}
	if w.budget <= 0 {
		w.budget = DefaultWarmBudget
	}
	return w
}

// warm runs the warmer's queries against s, which is not serving yet, and
// caches their results, most important first (the order given), until the
// budget is spent or the cache is full. Queries are normalised as Search
// does, so their keys are those of the same searches made later.
func (ix *Index) warm(ctx context.Context, s *state) {
	if ix.warmer.queries == nil || s.cache == nil {
		return
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, ix.warmer.budget)
	defer cancel()
	qs := ix.warmer.queries(ctx)
	warmed, failed := 0, 0
	for _, q := range qs {
		if ctx.Err() != nil || warmed == s.cache.max {
			break
		}
		q, err := q.normalize()
		if err != nil {
			failed++
			continue
		}
		if s.cache.has(q) {
			continue
		}
		res, complete, err := ix.searchWithFallback(ctx, s, q)
		if err != nil {
			if ctx.Err() == nil {
				failed++
			}
			continue
		}
		if complete {
			s.cache.put(q, res)
			warmed++
		}
	}
	ix.log.Info("search: result cache warmed", "queries", len(qs), "warmed", warmed, "failed", failed,
		"out_of_time", ctx.Err() != nil, "took", time.Since(start).Round(time.Millisecond))
}
