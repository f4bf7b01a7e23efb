package insights

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

// Count is how many tickets have a value (a plan, a severity, ...).
type Count struct {
	Key string
	N   int
}

// SLARow is the SLA compliance of the tickets of one plan and severity.
type SLARow struct {
	Plan     string
	Severity int
	// Met: solved (or closed) with the clock stopped before the due time.
	// Breached: the clock stopped after the due time, or is still running
	// past it. Open: still running (or waiting on the customer) and not due.
	Met, Breached, Open int
}

// Health is how support is doing with the tickets filed in a period.
type Health struct {
	ByPlan, BySeverity, ByLang, ByStatus []Count  // most first
	SLA                                  []SLARow // tickets with a due time, by plan and severity
	// Medians, in working time (the business calendar), from filing to
	// support's first reply to the customer, and to the ticket's solving,
	// over the tickets filed in the period that have one.
	MedianFirstResponse, MedianResolution time.Duration
	// CallFlagged counts the tickets whose call flag the reply rule raised
	// in the period.
	CallFlagged int
}

// Health is support's health over the tickets filed in p.
func (s *Store) Health(ctx context.Context, p Period) (Health, error) {
	h, err := s.health(ctx, p)
	if err != nil {
		return Health{}, fmt.Errorf("insights: health: %w", err)
	}
	return h, nil
}

func (s *Store) health(ctx context.Context, p Period) (Health, error) {
	from, to := p.bounds()
	// A ticket's resolution is its latest solving (a reopened ticket's
	// clock ran on), or its closing if it was closed unsolved.
	rows, err := s.db.QueryContext(ctx, `
		SELECT t.plan, t.severity, t.lang, t.status, t.created_at, t.sla_due, t.paused_at,
			(SELECT min(m.created_at) FROM ticket_messages m
				WHERE m.ticket_id = t.id AND m.author = 'support' AND m.internal = 0),
			CASE WHEN t.status IN ('solved', 'closed') THEN coalesce(
				(SELECT max(e.at) FROM ticket_events e INDEXED BY insights_ticket_status
					WHERE e.ticket_id = t.id AND e.kind = 'status' AND json_extract(e.data, '$.status') = 'solved'),
				(SELECT min(e.at) FROM ticket_events e INDEXED BY insights_ticket_status
					WHERE e.ticket_id = t.id AND e.kind = 'status' AND json_extract(e.data, '$.status') = 'closed'))
			END
		FROM tickets t
		WHERE t.created_at >= ? AND t.created_at < ?`, from, to)
	if err != nil {
		return Health{}, err
	}
	defer rows.Close()
	cal := s.calendar()
	now := s.now().UTC()
	plans, severities, langs, statuses := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	type slaKey struct {
		plan     string
		severity int
	}
	sla := map[slaKey]*SLARow{}
	var firsts, resolutions []time.Duration
	for rows.Next() {
		var plan, lang, status, created string
		var severity int
		var due, paused, first, resolved sql.NullString
		if err := rows.Scan(&plan, &severity, &lang, &status, &created, &due, &paused, &first, &resolved); err != nil {
			return Health{}, err
		}
		plans[plan]++
		severities[strconv.Itoa(severity)]++
		langs[lang]++
		statuses[status]++
		filed, err := sqlitedb.ParseTime(created)
		if err != nil {
			return Health{}, err
		}
		if first.Valid {
			t, err := sqlitedb.ParseTime(first.String)
			if err != nil {
				return Health{}, err
			}
			firsts = append(firsts, cal.WorkingBetween(filed, t))
		}
		if resolved.Valid {
			t, err := sqlitedb.ParseTime(resolved.String)
			if err != nil {
				return Health{}, err
			}
			resolutions = append(resolutions, cal.WorkingBetween(filed, t))
		}
		if !due.Valid {
			continue // "as agreed": no due time to meet
		}
		k := slaKey{plan, severity}
		r := sla[k]
		if r == nil {
			r = &SLARow{Plan: plan, Severity: severity}
			sla[k] = r
		}
		// Times are stored in one fixed-width layout: text order is time order.
		switch {
		// As the tickets' own clock (tickets.Store.Queue): due when the clock
		// reaches the due time, so stopping exactly at it is late.
		case paused.Valid && due.String <= paused.String:
			r.Breached++ // the clock stopped late
		case paused.Valid && (status == "solved" || status == "closed"):
			r.Met++
		case paused.Valid:
			r.Open++ // waiting on the customer, in time
		case due.String <= sqlitedb.FormatTime(now):
			r.Breached++
		default:
			r.Open++
		}
	}
	if err := rows.Err(); err != nil {
		return Health{}, err
	}
	h := Health{ByPlan: counts(plans), BySeverity: counts(severities), ByLang: counts(langs), ByStatus: counts(statuses),
		MedianFirstResponse: median(firsts), MedianResolution: median(resolutions)}
	for _, r := range sla {
		h.SLA = append(h.SLA, *r)
	}
	sort.Slice(h.SLA, func(i, j int) bool {
		if h.SLA[i].Plan != h.SLA[j].Plan {
			return h.SLA[i].Plan < h.SLA[j].Plan
		}
		return h.SLA[i].Severity < h.SLA[j].Severity
	})
	err = s.db.QueryRowContext(ctx, `SELECT count(DISTINCT ticket_id) FROM ticket_events
		WHERE kind = 'call' AND at >= ? AND at < ?
			AND json_extract(data, '$.call') = 'required' AND json_extract(data, '$.reason') = 'reply_rule'`,
		from, to).Scan(&h.CallFlagged)
	return h, err
}

// counts lists a tally, most first, then by key.
func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// median is the middle value (the mean of the two middle ones for an even
// count); 0 for none.
func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	n := len(d)
	if n%2 == 1 {
		return d[n/2]
	}
	return (d[n/2-1] + d[n/2]) / 2
}
