package insights

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Kinds of content gap.
const (
	GapNoResults       = "no_results"       // searches that found no article
	GapNoGoodMatch     = "no_good_match"    // drafts whose last search intent showed nothing: nothing matched well enough
	GapNoClick         = "no_click"         // searches that found articles, none opened from the results
	GapWeakSuggestions = "weak_suggestions" // tickets whose draft's last search intent showed nothing, or nothing that was opened
)

// Gap is a group of searches or drafts that the knowledge base did not
// answer, grouped by their normalised query.
type Gap struct {
	Kind     string // GapNoResults, GapNoGoodMatch, GapNoClick or GapWeakSuggestions
	Query    string // normalised
	Count    int
	Examples []string // as typed, most frequent first, at most 3
	Tickets  []int    // the tickets behind a weak_suggestions or no_good_match gap, newest first
}

// maxExample bounds an example, in characters: a draft's subject line,
// not its description.
const maxExample = 200

// Gaps lists p's content gaps: for each kind, the limit largest groups
// (all with limit <= 0), largest first; kinds in the order no_results,
// no_good_match, no_click, weak_suggestions. Searches count when made in
// p, drafts (no good match, weak suggestions) when started in p.
func (s *Store) Gaps(ctx context.Context, p Period, limit int) ([]Gap, error) {
	gaps, err := s.gaps(ctx, p, limit)
	if err != nil {
		return nil, fmt.Errorf("insights: gaps: %w", err)
	}
	return gaps, nil
}

// gapRow is a query as typed behind a gap, and how often.
type gapRow struct {
	kind, lang, query string
	n                 int
	session           string // no_good_match: the draft
	ticket            int    // weak_suggestions, no_good_match: the ticket filed
}

func (s *Store) gaps(ctx context.Context, p Period, limit int) ([]Gap, error) {
	sp, err := s.split(ctx, p)
	if err != nil {
		return nil, err
	}
	var all []gapRow
	rows, err := s.db.QueryContext(ctx, `SELECT kind, lang, query, sum(n) FROM insights_day_searches
		WHERE day IN (SELECT value FROM json_each(?)) GROUP BY 1, 2, 3`, sp.rolledJSON())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r gapRow
		if err := rows.Scan(&r.kind, &r.lang, &r.query, &r.n); err != nil {
			return nil, err
		}
		all = append(all, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for _, t := range []struct{ table, kind string }{
		{"insights_day_weak", GapWeakSuggestions},
		{"insights_day_no_match", GapNoGoodMatch},
	} {
		if all, err = s.rolledDrafts(ctx, t.table, t.kind, sp.rolledJSON(), all); err != nil {
			return nil, err
		}
	}
	for _, l := range sp.live {
		from, to := l.bounds()
		for _, days := range []func(context.Context, string, string) (map[string][]gapRow, error){s.searchDays, s.weakDays, s.noMatchDays} {
			live, err := days(ctx, from, to)
			if err != nil {
				return nil, err
			}
			for _, day := range live {
				all = append(all, day...)
			}
		}
	}
	var out []Gap
	for _, kind := range []string{GapNoResults, GapNoGoodMatch, GapNoClick, GapWeakSuggestions} {
		gaps := s.group(kind, all)
		if limit > 0 && len(gaps) > limit {
			gaps = gaps[:limit]
		}
		out = append(out, gaps...)
	}
	return out, nil
}

// searchDays lists, from the events of [from, to), the searches without
// results and those with results but no click, per UTC day and query as
// typed.
func (s *Store) searchDays(ctx context.Context, from, to string) (map[string][]gapRow, error) {
	out := map[string][]gapRow{}
	// Searches from before search ids cannot tell a click and are left
	// out of no_click.
	rows, err := s.db.QueryContext(ctx, `
		SELECT substr(at, 1, 10),
			CASE WHEN json_extract(data, '$.total') = 0 THEN 'no_results' ELSE 'no_click' END,
			coalesce(json_extract(data, '$.lang'), ''), coalesce(json_extract(data, '$.query'), ''), count(*)
		FROM events e INDEXED BY insights_searches
		WHERE kind = 'search' AND at >= ? AND at < ?
			AND (json_extract(data, '$.total') = 0
				OR json_extract(data, '$.id') IS NOT NULL
					AND NOT EXISTS (SELECT 1 FROM article_views v WHERE v.search_id = json_extract(e.data, '$.id')))
		GROUP BY 1, 2, 3, 4`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var day string
		var r gapRow
		if err := rows.Scan(&day, &r.kind, &r.lang, &r.query, &r.n); err != nil {
			return nil, err
		}
		out[day] = append(out[day], r)
	}
	return out, rows.Err()
}

// weakDays lists, by the UTC day they started, the filed drafts started
// in [from, to) whose last search intent showed nothing, or none of what
// it showed was opened in the draft, with the intent's first line (the
// subject).
func (s *Store) weakDays(ctx context.Context, from, to string) (map[string][]gapRow, error) {
	rows, err := s.db.QueryContext(ctx, `
		WITH filed AS (
			SELECT substr(s.started_at, 1, 10) AS day, s.id, s.lang, s.ticket,
				(SELECT max(e.id) FROM deflect_events e WHERE e.session_id = s.id AND e.kind = 'suggested' AND e.article IS NULL) AS last
			FROM deflect_sessions s
			WHERE s.started_at >= ? AND s.started_at < ? AND s.outcome = 'filed'
		)
		SELECT f.day, coalesce(nullif(f.lang, ''), t.lang, ''), coalesce(e.query, ''), f.ticket
		FROM filed f
		JOIN deflect_events e ON e.id = f.last
		LEFT JOIN tickets t ON t.number = f.ticket
		WHERE NOT EXISTS (SELECT 1 FROM json_each(e.articles) j
			JOIN deflect_events o ON o.session_id = f.id AND o.kind = 'opened' AND o.article = j.value)`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]gapRow{}
	for rows.Next() {
		var day string
		r := gapRow{kind: GapWeakSuggestions, n: 1}
		if err := rows.Scan(&day, &r.lang, &r.query, &r.ticket); err != nil {
			return nil, err
		}
		// A draft is subject and description: its subject names it.
		r.query, _, _ = strings.Cut(r.query, "\n")
		out[day] = append(out[day], r)
	}
	return out, rows.Err()
}

// noMatchDays lists, by the UTC day they started, the drafts started in
// [from, to) whose last search intent showed no article (nothing matched
// the draft, or nothing well enough to be shown), whatever became of
// them, with the intent's first line and the ticket filed (0 if none).
func (s *Store) noMatchDays(ctx context.Context, from, to string) (map[string][]gapRow, error) {
	rows, err := s.db.QueryContext(ctx, `
		WITH drafts AS (
			SELECT substr(s.started_at, 1, 10) AS day, s.id, s.lang, s.ticket,
				(SELECT max(e.id) FROM deflect_events e WHERE e.session_id = s.id AND e.kind = 'suggested' AND e.article IS NULL) AS last
			FROM deflect_sessions s
			WHERE s.started_at >= ? AND s.started_at < ?
		)
		SELECT d.day, d.id, coalesce(nullif(d.lang, ''), t.lang, ''), coalesce(e.query, ''), coalesce(d.ticket, 0)
		FROM drafts d
		JOIN deflect_events e ON e.id = d.last
		LEFT JOIN tickets t ON t.number = d.ticket
		WHERE e.articles = '[]'`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]gapRow{}
	for rows.Next() {
		var day string
		r := gapRow{kind: GapNoGoodMatch, n: 1}
		if err := rows.Scan(&day, &r.session, &r.lang, &r.query, &r.ticket); err != nil {
			return nil, err
		}
		r.query, _, _ = strings.Cut(r.query, "\n")
		out[day] = append(out[day], r)
	}
	return out, rows.Err()
}

// group groups the rows of one kind by normalised query, largest first.
func (s *Store) group(kind string, rows []gapRow) []Gap {
	type group struct {
		gap      Gap
		examples map[string]int // as typed → count
	}
	groups := map[string]*group{}
	norm := map[[2]string]string{} // (lang, query) → key: normalising costs more than a lookup
	for _, r := range rows {
		if r.kind != kind {
			continue
		}
		q := strings.Join(strings.Fields(r.query), " ")
		key, ok := norm[[2]string{r.lang, q}]
		if !ok {
			key = s.normalize(r.lang, q)
			if key == "" { // only stop words: grouped as typed
				key = strings.ToLower(q)
			}
			norm[[2]string{r.lang, q}] = key
		}
		g := groups[key]
		if g == nil {
			g = &group{gap: Gap{Kind: kind, Query: key}, examples: map[string]int{}}
			groups[key] = g
		}
		g.gap.Count += r.n
		g.examples[truncate(q, maxExample)] += r.n
		if r.ticket != 0 {
			g.gap.Tickets = append(g.gap.Tickets, r.ticket)
		}
	}
	out := make([]Gap, 0, len(groups))
	for _, g := range groups {
		ex := make([]string, 0, len(g.examples))
		for e := range g.examples {
			ex = append(ex, e)
		}
		sort.Slice(ex, func(i, j int) bool {
			if g.examples[ex[i]] != g.examples[ex[j]] {
				return g.examples[ex[i]] > g.examples[ex[j]]
			}
			return ex[i] < ex[j]
		})
		g.gap.Examples = ex[:min(len(ex), 3)]
		sort.Sort(sort.Reverse(sort.IntSlice(g.gap.Tickets)))
		out = append(out, g.gap)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Query < out[j].Query
	})
	return out
}

// truncate cuts s to at most n characters.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// rolledDrafts appends the drafts of a rollup table (one row each: their
// language, text and the ticket filed) of the days in days (a JSON array)
// to all, as gaps of kind.
func (s *Store) rolledDrafts(ctx context.Context, table, kind, days string, all []gapRow) ([]gapRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT lang, query, ticket FROM `+table+`
		WHERE day IN (SELECT value FROM json_each(?))`, days)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		r := gapRow{kind: kind, n: 1}
		if err := rows.Scan(&r.lang, &r.query, &r.ticket); err != nil {
			return nil, err
		}
		all = append(all, r)
	}
	return all, rows.Err()
}
