package events

import (
	"context"
	"fmt"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// WarmQuery is a search customers made often lately: what to warm the
// search cache with after a restart or a publish.
type WarmQuery struct {
	Text   string
	Lang   string
	Source string // as Search.Source: which request made it, and so its form
	Count  int    // searches within the window
}

// RecentQueries returns the n most frequent distinct searches (text,
// language, source) of the last window, most frequent first (ties: the
// most recent first). Queued searches not yet written are not counted.
func (s *Store) RecentQueries(ctx context.Context, window time.Duration, n int) ([]WarmQuery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT json_extract(data, '$.query') AS q, coalesce(json_extract(data, '$.lang'), ''),
			coalesce(json_extract(data, '$.source'), ''), count(*)
		FROM events WHERE kind = 'search' AND at >= ? AND q IS NOT NULL AND q <> ''
		GROUP BY 1, 2, 3 ORDER BY 4 DESC, max(at) DESC LIMIT ?`,
		sqlitedb.FormatTime(s.now().Add(-window)), n)
	if err != nil {
		return nil, fmt.Errorf("events: recent queries: %w", err)
	}
	defer rows.Close()
	var out []WarmQuery
	for rows.Next() {
		var w WarmQuery
		if err := rows.Scan(&w.Text, &w.Lang, &w.Source, &w.Count); err != nil {
			return nil, fmt.Errorf("events: recent queries: %w", err)
		}
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: recent queries: %w", err)
	}
	return out, nil
}
