package tickets

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
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
	Deployment   Deployment // "": any; DeploymentNone: tickets filed without one (by e-mail)
	Assignee     int64      // a staff id, Unassigned, or 0 for anyone
	CallRequired bool
	AtRisk       bool // due within two working hours, clock running
	Breached     bool // past due (for a paused clock: it was when it stopped)
	Limit        int  // 0: 50; at most 500
	Offset       int
}

func (f QueueFilter) isZero() bool {
	return f.Plan == "" && f.Severity == 0 && f.Lang == "" && f.Deployment == "" && f.Assignee == 0 && !f.CallRequired && !f.AtRisk && !f.Breached
}

// QueueItem is one ticket of the queue.
type QueueItem struct {
	Number          int
	Status          Status
	Plan            Plan
	PendingPlan     Plan // the plan the ticket gets once its address is confirmed; "" when none
	Organisation    string
	Severity        int
	Subject         string
	Lang            string
	AnswerInEnglish bool
	Deployment      Deployment
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
// value of each filter, whatever the other filters.
type QueueCounts struct {
	Open         int
	Status       map[Status]int
	Plan         map[Plan]int
	Severity     map[int]int
	Lang         map[string]int
	Deployment   map[Deployment]int // "" for tickets filed without one
	Assignee     map[int64]int      // by staff id; Unassigned for nobody
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
	var err error
	if q.Counts, err = s.queueCounts(ctx, now, risk); err != nil {
		return Queue{}, err
	}
	unfiltered := f
	unfiltered.Limit, unfiltered.Offset, unfiltered.Statuses = 0, 0, nil
	if unfiltered.isZero() && (len(f.Statuses) == 0 || sameStatuses(f.Statuses, openStatuses)) {
		q.Total = q.Counts.Open // the whole open queue: counted already
	} else if err := s.db.QueryRowContext(ctx, queueCountSQL(f, where), args...).Scan(&q.Total); err != nil {
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
			&it.Assignee.ID, &it.Assignee.Name, &it.AgentReplies, &created, &updated, &due, &paused, &it.PendingPlan, &it.Deployment); err != nil {
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
	return q, nil
}

// queueFrom names the index a query of the open queue reads. Without
// statistics SQLite prefers an equality on tickets_status and then reads
// and sorts every open ticket. (Naming a partial index that the WHERE does
// not imply would be an error; queueWhere writes the open statuses out for
// that.) A page is the first entries of tickets_queue_order that pass the
// filters; counting the tickets at risk reads only their due times.
//
// queue_rank IN (1, 2) holds for every ticket; spelled out with
// tickets_queue_order, it lets SQLite seek by rank and then severity, in
// order, when a severity is chosen, instead of sorting them all. A
// deployment is sought in tickets_open_deployment (migration 010), in the
// same order.
func queueFrom(f QueueFilter, count bool, where string) string {
	switch {
	case len(f.Statuses) != 0 && !sameStatuses(f.Statuses, openStatuses):
		return "tickets WHERE " + where
	case count && f.AtRisk:
		return "tickets INDEXED BY tickets_sla_running WHERE " + where
	case f.Deployment != "":
		return "tickets INDEXED BY tickets_open_deployment WHERE " + where + " AND queue_rank IN (1, 2)"
	}
	return "tickets INDEXED BY tickets_queue_order WHERE " + where + " AND queue_rank IN (1, 2)"
}

// queueCountSQL counts the tickets a filter selects.
func queueCountSQL(f QueueFilter, where string) string {
	return `SELECT count(*) FROM ` + queueFrom(f, true, where)
}

// queueItemsSQL selects a page of the queue.
func queueItemsSQL(f QueueFilter, where string) string {
	return `SELECT number, status, plan, organisation, severity, subject, lang, answer_in_english,
		name, company, phone, call_required, call_reason, coalesce(assignee_id, 0), assignee_name, agent_replies,
		created_at, updated_at, sla_due, paused_at, pending_plan, deployment
		FROM ` + queueFrom(f, false, where) + `
		ORDER BY queue_rank, severity, call_required DESC, ifnull(sla_due, '~'), number LIMIT ? OFFSET ?`
}

// The counts per filter. The triggers of migration 003 keep the open
// tickets' counts per combination of status, plan, severity, language,
// assignee and call flag in ticket_queue_counts; the SLA filters move with
// the clock and are counted from two partial indexes over the due times.
const (
	queueCountsSQL = `SELECT status, plan, severity, lang, assignee_id, assignee_name, call_required, n
		FROM ticket_queue_counts WHERE n > 0`
	// Named indexes: without statistics SQLite would rather seek another
	// index by status and read every open ticket.
	slaCountsSQL = `SELECT
		(SELECT count(*) FROM tickets INDEXED BY tickets_sla_running WHERE status IN ('new', 'open', 'waiting')
			AND paused_at IS NULL AND sla_due IS NOT NULL AND sla_due > ? AND sla_due <= ?),
		(SELECT count(*) FROM tickets INDEXED BY tickets_sla_running WHERE status IN ('new', 'open', 'waiting')
			AND paused_at IS NULL AND sla_due IS NOT NULL AND sla_due <= ?),
		(SELECT count(*) FROM tickets INDEXED BY tickets_sla_paused WHERE status IN ('new', 'open', 'waiting')
			AND paused_at IS NOT NULL AND sla_due IS NOT NULL AND sla_due <= paused_at)`
)

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
		conds = append(conds, `status IN ('new', 'open', 'waiting')`)
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
	switch f.Deployment {
	case "":
	case DeploymentNone:
		conds = append(conds, `deployment = ''`)
	default:
		conds, args = append(conds, `deployment = ?`), append(args, string(f.Deployment))
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

// queueCounts reads the counts of open tickets per filter value.
func (s *Store) queueCounts(ctx context.Context, now, risk time.Time) (QueueCounts, error) {
	c := QueueCounts{Status: map[Status]int{}, Plan: map[Plan]int{}, Severity: map[int]int{}, Lang: map[string]int{},
		Assignee: map[int64]int{}, Assignees: map[int64]string{}}
	fail := func(err error) (QueueCounts, error) {
		return QueueCounts{}, fmt.Errorf("tickets: queue counts: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, queueCountsSQL)
	if err != nil {
		return fail(err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			status     Status
			plan       Plan
			severity   int
			lang, name string
			assignee   int64
			call       bool
			n          int
		)
		if err := rows.Scan(&status, &plan, &severity, &lang, &assignee, &name, &call, &n); err != nil {
			return fail(err)
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
	}
	if err := rows.Err(); err != nil {
		return fail(err)
	}
	var breachedRunning, breachedPaused int
	if err := s.db.QueryRowContext(ctx, slaCountsSQL, formatTime(now), formatTime(risk), formatTime(now)).Scan(
		&c.AtRisk, &breachedRunning, &breachedPaused); err != nil {
		return fail(err)
	}
	c.Breached = breachedRunning + breachedPaused
	if c.Deployment, err = s.deploymentCounts(ctx); err != nil {
		return fail(err)
	}
	return c, nil
}

// deploymentCountsSQL reads the open tickets per deployment, which the
// triggers of migration 010 keep.
const deploymentCountsSQL = `SELECT deployment, n FROM ticket_deployment_counts WHERE n > 0`

func (s *Store) deploymentCounts(ctx context.Context) (map[Deployment]int, error) {
	out := map[Deployment]int{}
	rows, err := s.db.QueryContext(ctx, deploymentCountsSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			d Deployment
			n int
		)
		if err := rows.Scan(&d, &n); err != nil {
			return nil, err
		}
		out[d] = n
	}
	return out, rows.Err()
}
