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
	GapNoClick         = "no_click"         // searches that found articles, none opened from the results
	GapWeakSuggestions = "weak_suggestions" // tickets whose draft's last search intent showed nothing, or nothing that was opened
)

// Gap is a group of searches or drafts that the knowledge base did not
// answer, grouped by their normalised query.
type Gap struct {
	Kind     string // GapNoResults, GapNoClick or GapWeakSuggestions
	Query    string // normalised
	Count    int
	Examples []string // as typed, most frequent first, at most 3
	Tickets  []int    // the tickets behind a weak_suggestions gap, newest first
}

// maxExample bounds an example, in characters: a draft's subject line,
// not its description.
const maxExample = 200

// Gaps lists p's content gaps: for each kind, the limit largest groups,
// largest first; kinds in the order no_results, no_click, weak_suggestions.
// Searches count when made in p, weak suggestions for drafts started in p.
func (s *Store) Gaps(ctx context.Context, p Period, limit int) ([]Gap, error) {
	from, to := p.bounds()
	var out []Gap
	for _, k := range []struct {
		kind, sql string
	}{
		{GapNoResults, `SELECT coalesce(json_extract(data, '$.lang'), ''), coalesce(json_extract(data, '$.query'), ''), count(*), NULL FROM events
			WHERE kind = 'search' AND at >= ? AND at < ? AND json_extract(data, '$.total') = 0
			GROUP BY 1, 2`},
		// Searches from before search ids cannot tell and are left out.
		{GapNoClick, `SELECT coalesce(json_extract(data, '$.lang'), ''), coalesce(json_extract(data, '$.query'), ''), count(*), NULL FROM events e
			WHERE kind = 'search' AND at >= ? AND at < ? AND json_extract(data, '$.total') > 0
				AND json_extract(data, '$.id') IS NOT NULL
				AND NOT EXISTS (SELECT 1 FROM article_views v WHERE v.search_id = json_extract(e.data, '$.id'))
			GROUP BY 1, 2`},
		// The last search intent of each filed draft; weak when it showed
		// nothing, or none of what it showed was opened in the draft.
		{GapWeakSuggestions, `WITH filed AS (
				SELECT s.id, s.lang, s.ticket,
					(SELECT max(e.id) FROM deflect_events e WHERE e.session_id = s.id AND e.kind = 'suggested') AS last
				FROM deflect_sessions s
				WHERE s.started_at >= ? AND s.started_at < ? AND s.outcome = 'filed'
			)
			SELECT coalesce(nullif(f.lang, ''), t.lang, ''), coalesce(e.query, ''), 1, f.ticket
			FROM filed f
			JOIN deflect_events e ON e.id = f.last
			LEFT JOIN tickets t ON t.number = f.ticket
			WHERE NOT EXISTS (SELECT 1 FROM json_each(e.articles) j
				JOIN deflect_events o ON o.session_id = f.id AND o.kind = 'opened' AND o.article = j.value)`},
	} {
		gaps, err := s.gaps(ctx, k.kind, k.sql, from, to)
		if err != nil {
			return nil, fmt.Errorf("insights: gaps: %w", err)
		}
		if limit > 0 && len(gaps) > limit {
			gaps = gaps[:limit]
		}
		out = append(out, gaps...)
	}
	return out, nil
}

// gaps groups the rows (lang, query, count, ticket) of one kind by
// normalised query.
func (s *Store) gaps(ctx context.Context, kind, query, from, to string) ([]Gap, error) {
	rows, err := s.db.QueryContext(ctx, query, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type group struct {
		gap      Gap
		examples map[string]int // as typed → count
	}
	groups := map[string]*group{}
	for rows.Next() {
		var lang, q string
		var n int
		var ticket *int
		if err := rows.Scan(&lang, &q, &n, &ticket); err != nil {
			return nil, err
		}
		if kind == GapWeakSuggestions {
			// A draft is subject and description: its subject names it.
			q, _, _ = strings.Cut(q, "\n")
		}
		q = strings.Join(strings.Fields(q), " ")
		key := s.normalize(lang, q)
		if key == "" { // only stop words: grouped as typed
			key = strings.ToLower(q)
		}
		g := groups[key]
		if g == nil {
			g = &group{gap: Gap{Kind: kind, Query: key}, examples: map[string]int{}}
			groups[key] = g
		}
		g.gap.Count += n
		g.examples[truncate(q, maxExample)] += n
		if ticket != nil {
			g.gap.Tickets = append(g.gap.Tickets, *ticket)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
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
	return out, nil
}

// truncate cuts s to at most n characters.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
