package tickets

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/orbitask/portal/calendar"
)

// Unassigned, as QueueFilter.Assignee, selects tickets nobody works on.
const Unassigned = -1

// atRiskWithin is how close to its due time a ticket is "at risk", in
// working time.
const atRiskWithin = 2 * time.Hour

// QueueFilter selects tickets of the queue. Zero values select everything.
type QueueFilter struct {
	Statuses     []Status // nil: the open work (new, open, waiting)
	Plan         Plan
	Severity     int
	Lang         string
	Assignee     int64 // a staff id, Unassigned, or 0 for anyone
	CallRequired bool
	AtRisk       bool // due within two working hours, clock running
	Breached     bool // past due (for a paused clock: it was when it stopped)
	Limit        int  // 0: 50; at most 500
	Offset       int
}

// QueueItem is one ticket of the queue.
type QueueItem struct {
	Number          int
	Status          Status
	Plan            Plan
	Organisation    string
	Severity        int
	Subject         string
	Lang            string
	AnswerInEnglish bool
	Name, Company   string
	Phone           string
	CallRequired    bool
	CallReason      string
	Assignee        Staff
	AgentReplies    int
	CreatedAt       time.Time
	UpdatedAt       time.Time
	SLA             SLAClock
}

// SLAClock is where a ticket's resolution clock stands.
type SLAClock struct {
	Due      time.Time // zero: no fixed target (individual terms "as agreed")
	PausedAt time.Time // zero while the clock runs
	State    string    // SLANone, SLAOK, SLAAtRisk, SLABreached or SLAPaused
	// Left is the working time until Due (from PausedAt while paused);
	// negative once breached: the working time since Due.
	Left time.Duration
}

// SLA clock states.
const (
	SLANone     = "none"
	SLAOK       = "ok"
	SLAAtRisk   = "at_risk"
	SLABreached = "breached"
	SLAPaused   = "paused"
)

// Clock tells where a clock with that due time and pause stands at now.
func (s *Store) Clock(due, pausedAt, now time.Time) SLAClock {
	c := SLAClock{Due: due, PausedAt: pausedAt}
	if due.IsZero() {
		c.State = SLANone
		return c
	}
	cal := s.calendar.get()
	at := now
	if !pausedAt.IsZero() {
		at = pausedAt
	}
	switch {
	case !due.After(at):
		c.State, c.Left = SLABreached, -cal.WorkingBetween(due, at)
	default:
		c.Left = cal.WorkingBetween(at, due)
		switch {
		case !pausedAt.IsZero():
			c.State = SLAPaused
		case c.Left <= atRiskWithin:
			c.State = SLAAtRisk
		default:
			c.State = SLAOK
		}
	}
	return c
}

// Clock is where the ticket's resolution clock stands at now.
func (s *Store) TicketClock(t Ticket, now time.Time) SLAClock {
	return s.Clock(t.SLADue, t.SLAPausedAt, now)
}

// QueueCounts are the number of open tickets (new, open, waiting) for each
// value of each filter, whatever the other filters. The maps are shared
// between callers: read them, do not change them.
type QueueCounts struct {
	Open         int
	Status       map[Status]int
	Plan         map[Plan]int
	Severity     map[int]int
	Lang         map[string]int
	Assignee     map[int64]int // by staff id; Unassigned for nobody
	Assignees    map[int64]string
	CallRequired int
	AtRisk       int
	Breached     int
}

// Queue is a page of the queue.
type Queue struct {
	Items  []QueueItem
	Total  int // tickets matching the filter
	Counts QueueCounts
	Now    time.Time
}

var openStatuses = []Status{StatusNew, StatusOpen, StatusWaiting}

// Queue returns the tickets the filter selects in queue order: plan
// (Priority and Individual before Basic), then severity (1 first), then
// tickets whose submitter must be called (the call moves them up among
// their equals), then the SLA due time (none last), then number. Counts are
// over all open tickets.
func (s *Store) Queue(ctx context.Context, f QueueFilter) (Queue, error) {
	now := s.now().UTC()
	risk := s.calendar.get().AddWorking(now, atRiskWithin).UTC()
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	f.Offset = max(f.Offset, 0)

	where, args := queueWhere(f, now, risk)
	q := Queue{Now: now, Items: []QueueItem{}}
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM tickets WHERE `+where, args...).Scan(&q.Total); err != nil {
		return Queue{}, fmt.Errorf("tickets: queue: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, queueItemsSQL(f, where), append(args, f.Limit, f.Offset)...)
	if err != nil {
		return Queue{}, fmt.Errorf("tickets: queue: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			it                  QueueItem
			created, updated    string
			due, paused         sql.NullString
			perr                error
			dueTime, pausedTime time.Time
		)
		if err := rows.Scan(&it.Number, &it.Status, &it.Plan, &it.Organisation, &it.Severity, &it.Subject, &it.Lang,
			&it.AnswerInEnglish, &it.Name, &it.Company, &it.Phone, &it.CallRequired, &it.CallReason,
			&it.Assignee.ID, &it.Assignee.Name, &it.AgentReplies, &created, &updated, &due, &paused); err != nil {
			return Queue{}, fmt.Errorf("tickets: queue: %w", err)
		}
		it.CreatedAt, perr = parseTime(created, perr)
		it.UpdatedAt, perr = parseTime(updated, perr)
		if due.Valid {
			dueTime, perr = parseTime(due.String, perr)
		}
		if paused.Valid {
			pausedTime, perr = parseTime(paused.String, perr)
		}
		if perr != nil {
			return Queue{}, fmt.Errorf("tickets: queue: %w", perr)
		}
		it.SLA = s.Clock(dueTime, pausedTime, now)
		q.Items = append(q.Items, it)
	}
	if err := rows.Err(); err != nil {
		return Queue{}, fmt.Errorf("tickets: queue: %w", err)
	}
	if q.Counts, err = s.cachedCounts(ctx, now, risk); err != nil {
		return Queue{}, err
	}
	return q, nil
}

// countsCache keeps the last counts. Computing them reads an index entry of
// every open ticket (hundreds of milliseconds with 100,000 open, see
// docs/benchmarks.md), yet they change only when a ticket does — which adds
// an event — or as time makes tickets at risk or breached, which they may
// show up to a minute late. The newest event id is read from the database,
// so changes made by other processes count too.
type countsCache struct {
	mu     sync.Mutex
	valid  bool
	seq    int64 // newest ticket_events id when computed
	minute int64 // Unix minute when computed
	cal    *calendar.Calendar
	counts QueueCounts
}

func (s *Store) cachedCounts(ctx context.Context, now, risk time.Time) (QueueCounts, error) {
	var seq int64
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM ticket_events`).Scan(&seq); err != nil {
		return QueueCounts{}, fmt.Errorf("tickets: queue counts: %w", err)
	}
	minute, cal := now.Unix()/60, s.calendar.get()
	c := &s.countsCache
	c.mu.Lock()
	if c.valid && c.seq == seq && c.minute == minute && c.cal == cal {
		counts := c.counts
		c.mu.Unlock()
		return counts, nil
	}
	c.mu.Unlock()
	counts, err := s.queueCounts(ctx, now, risk)
	if err != nil {
		return QueueCounts{}, err
	}
	c.mu.Lock()
	c.valid, c.seq, c.minute, c.cal, c.counts = true, seq, minute, cal, counts
	c.mu.Unlock()
	return counts, nil
}

// queueItemsSQL selects a page of the queue.
func queueItemsSQL(f QueueFilter, where string) string {
	from := "tickets"
	if len(f.Statuses) == 0 || sameStatuses(f.Statuses, openStatuses) {
		// A page of the open queue is the first entries of this index. Named,
		// because without statistics SQLite prefers an equality on
		// tickets_status, and then sorts every open ticket. (Naming a partial
		// index the WHERE does not imply would be an error.)
		from = "tickets INDEXED BY tickets_queue_order"
	}
	return `SELECT number, status, plan, organisation, severity, subject, lang, answer_in_english,
		name, company, phone, call_required, call_reason, coalesce(assignee_id, 0), assignee_name, agent_replies,
		created_at, updated_at, sla_due, paused_at
		FROM ` + from + ` WHERE ` + where + `
		ORDER BY queue_rank, severity, call_required DESC, ifnull(sla_due, '~'), number LIMIT ? OFFSET ?`
}

// queueCountsSQL counts the open tickets by every filter's values.
const queueCountsSQL = `SELECT status, plan, severity, lang, coalesce(assignee_id, -1), max(assignee_name),
		call_required, ` + sqlBreached + `, ` + sqlAtRisk + `, count(*)
		FROM tickets WHERE status IN ('new', 'open', 'waiting')
		GROUP BY 1, 2, 3, 4, 5, 7, 8, 9`

// SQL for the SLA filters. Times are fixed-width text, so they compare as
// text; a paused clock is judged at the moment it stopped.
const (
	sqlBreached = `(sla_due IS NOT NULL AND sla_due <= coalesce(paused_at, ?))`
	sqlAtRisk   = `(sla_due IS NOT NULL AND paused_at IS NULL AND sla_due > ? AND sla_due <= ?)`
)

func queueWhere(f QueueFilter, now, risk time.Time) (string, []any) {
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = openStatuses
	}
	var (
		conds []string
		args  []any
	)
	// The open statuses are written out literally so that SQLite uses the
	// partial queue index, whose WHERE clause must match.
	if sameStatuses(statuses, openStatuses) {
		// queue_rank IN (1, 2) holds for every ticket; spelled out, it lets
		// SQLite seek tickets_queue_order by rank and then severity, in
		// order, when a severity is chosen, instead of sorting them all.
		conds = append(conds, `status IN ('new', 'open', 'waiting') AND queue_rank IN (1, 2)`)
	} else {
		conds = append(conds, `status IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(statuses)), ", ")+`)`)
		for _, st := range statuses {
			args = append(args, st)
		}
	}
	if f.Plan != "" {
		conds, args = append(conds, `plan = ?`), append(args, f.Plan)
	}
	if f.Severity != 0 {
		conds, args = append(conds, `severity = ?`), append(args, f.Severity)
	}
	if f.Lang != "" {
		conds, args = append(conds, `lang = ?`), append(args, f.Lang)
	}
	switch {
	case f.Assignee == Unassigned:
		conds = append(conds, `assignee_id IS NULL`)
	case f.Assignee > 0:
		conds, args = append(conds, `assignee_id = ?`), append(args, f.Assignee)
	}
	if f.CallRequired {
		conds = append(conds, `call_required = 1`)
	}
	if f.AtRisk {
		conds, args = append(conds, sqlAtRisk), append(args, formatTime(now), formatTime(risk))
	}
	if f.Breached {
		conds, args = append(conds, sqlBreached), append(args, formatTime(now))
	}
	return strings.Join(conds, " AND "), args
}

func sameStatuses(a, b []Status) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[Status]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			return false
		}
	}
	return true
}

// queueCounts counts the open tickets by every filter in one pass.
func (s *Store) queueCounts(ctx context.Context, now, risk time.Time) (QueueCounts, error) {
	c := QueueCounts{Status: map[Status]int{}, Plan: map[Plan]int{}, Severity: map[int]int{}, Lang: map[string]int{},
		Assignee: map[int64]int{}, Assignees: map[int64]string{}}
	rows, err := s.db.QueryContext(ctx, queueCountsSQL, formatTime(now), formatTime(now), formatTime(risk))
	if err != nil {
		return c, fmt.Errorf("tickets: queue counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			status                 Status
			plan                   Plan
			severity               int
			lang, name             string
			assignee               int64
			call, breached, atRisk bool
			n                      int
		)
		if err := rows.Scan(&status, &plan, &severity, &lang, &assignee, &name, &call, &breached, &atRisk, &n); err != nil {
			return c, fmt.Errorf("tickets: queue counts: %w", err)
		}
		c.Open += n
		c.Status[status] += n
		c.Plan[plan] += n
		c.Severity[severity] += n
		c.Lang[lang] += n
		c.Assignee[assignee] += n
		if assignee > 0 {
			c.Assignees[assignee] = name
		}
		if call {
			c.CallRequired += n
		}
		if breached {
			c.Breached += n
		}
		if atRisk {
			c.AtRisk += n
		}
	}
	return c, rows.Err()
}
