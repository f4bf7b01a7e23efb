package tickets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orbitask/portal/calendar"
	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

// Why a call to the submitter is required.
const (
	callReasonSeverity  = "severity"   // severity 1 and 2 are followed up by phone
	callReasonReplyRule = "reply_rule" // the plan's replies are used up and the problem is not solved
)

// The reply rule's default limits: Basic calls after the third reply,
// Priority after the first; Individual as agreed (default: as Priority).
const (
	basicCallAfter    = 3
	priorityCallAfter = 1
)

func callAfterReplies(c customer) int {
	switch {
	case c.Plan == PlanBasic:
		return basicCallAfter
	case c.Plan == PlanIndividual && c.CallAfterReplies > 0:
		return c.CallAfterReplies
	}
	return priorityCallAfter
}

// queueRank places a customer's tickets in the queue: Priority (and
// Individual, unless its terms say otherwise) before Basic.
func queueRank(c customer) int {
	p := c.Queue
	if p == "" {
		p = c.Plan
	}
	if p == PlanBasic {
		return 2
	}
	return 1
}

// target is the resolution target of a customer's tickets: the
// organisation's own terms on the Individual plan, else the calendar's
// target for the plan.
func (s *Store) target(c customer) calendar.Target {
	if c.Plan == PlanIndividual && c.Resolution != nil {
		return *c.Resolution
	}
	return s.calendar.get().Target(string(c.Plan))
}

// Calendar is the business calendar in force (DataDir/calendar.yaml, or the
// policy's defaults).
func (s *Store) Calendar() *calendar.Calendar { return s.calendar.get() }

// actor is who makes a change.
type actor struct {
	kind  string // ActorCustomer, ActorSupport or ActorCLI
	staff Staff  // for an agent in the console or API
}

// event starts an event of kind made by a at time at.
func (a actor) event(number int, kind string, at time.Time) Event {
	return Event{Number: number, Kind: kind, Actor: a.kind, Staff: a.staff, At: at}
}

func agent(by Staff) (actor, error) {
	if by.ID <= 0 || strings.TrimSpace(by.Name) == "" {
		return actor{}, fmt.Errorf("tickets: an agent needs an id and a name")
	}
	return actor{kind: ActorSupport, staff: by}, nil
}

// state is what a change needs to know about a ticket, read inside its write
// transaction (which already holds SQLite's write lock).
type state struct {
	id               int64
	status           Status
	severity         int
	callRequired     bool
	repliesSinceCall int
	callAfter        int
	due, pausedAt    time.Time
	assignee         Staff
}

func lockTicket(ctx context.Context, tx *sqlitedb.Tx, number int) (state, error) {
	var (
		st          state
		due, paused sql.NullString
	)
	err := tx.QueryRowContext(ctx, `SELECT id, status, severity, call_required, replies_since_call, call_after_replies,
		sla_due, paused_at, coalesce(assignee_id, 0), assignee_name FROM tickets WHERE number = ?`, number).Scan(
		&st.id, &st.status, &st.severity, &st.callRequired, &st.repliesSinceCall, &st.callAfter,
		&due, &paused, &st.assignee.ID, &st.assignee.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return state{}, ErrNotFound
	}
	if err != nil {
		return state{}, err
	}
	if due.Valid {
		st.due, err = parseTime(due.String, err)
	}
	if paused.Valid {
		st.pausedAt, err = parseTime(paused.String, err)
	}
	return st, err
}

// change runs fn on a ticket in a write transaction and, once committed,
// logs and announces the events it recorded.
func (s *Store) change(ctx context.Context, op string, number int, fn func(tx *sqlitedb.Tx, st *state, rec *recorder) error) ([]Event, error) {
	// The work inside the transaction must not be interrupted by the caller
	// giving up: it shares the transaction with others (group commit).
	rec := &recorder{store: s, ctx: context.WithoutCancel(ctx), number: number}
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		st, err := lockTicket(rec.ctx, tx, number)
		if err != nil {
			return err
		}
		if st.status == StatusClosed {
			return ErrClosed
		}
		rec.tx, rec.id = tx, st.id
		if err := fn(tx, &st, rec); err != nil {
			return err
		}
		return s.notifyTx(rec.ctx, tx, number, rec.events)
	})
	if err != nil {
		var verr *ValidationError
		if errors.As(err, &verr) {
			return nil, verr
		}
		return nil, fmt.Errorf("tickets: %s #%d: %w", op, number, err)
	}
	for _, ev := range rec.events {
		s.log.Info("ticket changed", "number", number, "kind", ev.Kind, "actor", ev.Actor, "staff", ev.Staff.Name)
		s.onEvent(ev)
	}
	return rec.events, nil
}

// recorder stores the events of one change.
type recorder struct {
	store  *Store
	ctx    context.Context
	tx     *sqlitedb.Tx
	id     int64
	number int
	events []Event
}

func (r *recorder) record(ev Event, messageID int64) error {
	var err error
	ev.Seq, err = insertEvent(r.ctx, r.tx, r.id, ev, dataOf(ev), messageID)
	if err == nil {
		r.events = append(r.events, ev)
	}
	return err
}

// touch sets updated_at.
func (r *recorder) touch(now time.Time) error {
	_, err := r.tx.ExecContext(r.ctx, `UPDATE tickets SET updated_at = ? WHERE id = ?`, formatTime(now), r.id)
	return err
}

// SetStatus changes a ticket's status as who; the command line calls it
// with ActorCLI (agents use AgentStatus).
// Any status may follow any other, except that closed is final (ErrClosed)
// and setting the current status again is refused as a *ValidationError, so
// that a mistyped command says so instead of recording a change that
// changed nothing. who is ActorCustomer, ActorSupport or ActorCLI.
func (s *Store) SetStatus(ctx context.Context, number int, status Status, who string) (Event, error) {
	if !validActor(who) {
		return Event{}, fmt.Errorf("tickets: set status: unknown actor %q", who)
	}
	return s.setStatus(ctx, number, status, actor{kind: who})
}

// AgentStatus changes a ticket's status as an agent.
func (s *Store) AgentStatus(ctx context.Context, number int, status Status, by Staff) (Event, error) {
	a, err := agent(by)
	if err != nil {
		return Event{}, err
	}
	return s.setStatus(ctx, number, status, a)
}

func (s *Store) setStatus(ctx context.Context, number int, status Status, a actor) (Event, error) {
	if !status.valid() {
		return Event{}, fields.Invalid("status", fields.Status)
	}
	evs, err := s.change(ctx, "set status", number, func(tx *sqlitedb.Tx, st *state, rec *recorder) error {
		if st.status == status {
			return fields.Invalid("status", fields.SameStatus, "status", string(status))
		}
		return s.changeStatus(rec, st, status, a)
	})
	if err != nil {
		return Event{}, err
	}
	return evs[0], nil
}

// pauses says whether the SLA clock stands still in a status: while the
// ticket waits on the customer, and once it is solved (a reopened ticket's
// clock resumes where it stopped).
func pauses(s Status) bool { return s == StatusWaiting || s == StatusSolved || s == StatusClosed }

// changeStatus records a status change, stops or resumes the SLA clock,
// and applies the reply rule to a ticket that comes back unsolved.
func (s *Store) changeStatus(rec *recorder, st *state, to Status, a actor) error {
	now := s.now().UTC()
	from := st.status
	ev := a.event(rec.number, KindStatus, now)
	ev.Status, ev.From = to, from
	var moved Event
	switch {
	case !pauses(from) && pauses(to):
		st.pausedAt = now
	case pauses(from) && !pauses(to) && !st.pausedAt.IsZero():
		if !st.due.IsZero() {
			cal := s.calendar.get()
			due := cal.AddWorking(st.due, cal.WorkingBetween(st.pausedAt, now)).UTC()
			if !due.Equal(st.due) {
				moved = a.event(rec.number, KindSLA, now)
				moved.SLADue, st.due = due, due
			}
		}
		st.pausedAt = time.Time{}
	}
	st.status = to
	if _, err := rec.tx.ExecContext(rec.ctx, `UPDATE tickets SET status = ?, updated_at = ?, sla_due = ?, paused_at = ? WHERE id = ?`,
		to, formatTime(now), nullTime(st.due), nullTime(st.pausedAt), rec.id); err != nil {
		return err
	}
	if err := rec.record(ev, 0); err != nil {
		return err
	}
	if moved.Kind != "" {
		if err := rec.record(moved, 0); err != nil {
			return err
		}
	}
	return s.replyRule(rec, st, a, now)
}

// replyRule raises the call flag on a ticket that is not solved once the
// plan's replies are used up ("no ticket ping-pong": Basic after the third
// reply, Priority after the first).
func (s *Store) replyRule(rec *recorder, st *state, a actor, now time.Time) error {
	if st.callRequired || pauses(st.status) && st.status != StatusWaiting || st.callAfter <= 0 || st.repliesSinceCall < st.callAfter {
		return nil
	}
	return s.flagCall(rec, st, a, callReasonReplyRule, now)
}

func (s *Store) flagCall(rec *recorder, st *state, a actor, reason string, now time.Time) error {
	if _, err := rec.tx.ExecContext(rec.ctx, `UPDATE tickets SET call_required = 1, call_reason = ? WHERE id = ?`, reason, rec.id); err != nil {
		return err
	}
	st.callRequired = true
	ev := a.event(rec.number, KindCall, now)
	ev.Call, ev.Reason, ev.Internal = "required", reason, true
	return rec.record(ev, 0)
}

// Reply adds a message from the customer (or, from the command line, from
// support) to a ticket's conversation. A customer's reply on a solved ticket
// reopens it, and one on a ticket waiting on the customer moves it back to
// open: both record a status event after the reply event. A reply on a
// closed ticket is refused (ErrClosed); the customer files a new ticket.
// author is "customer" or "support"; the returned event is the reply's.
func (s *Store) Reply(ctx context.Context, number int, author, body string) (Event, error) {
	if author != ActorCustomer && author != ActorSupport {
		return Event{}, fmt.Errorf("tickets: reply: unknown author %q", author)
	}
	evs, err := s.post(ctx, number, actor{kind: author}, AgentReply{Body: body})
	if err != nil {
		return Event{}, err
	}
	return evs[0], nil
}

// AgentReply is what an agent posts on a ticket.
type AgentReply struct {
	Body     string // Markdown
	Internal bool   // a note for the team, never shown to the customer
	Call     bool   // the note records a call with the submitter: it clears the call flag
	Status   Status // optional: the status to set with the reply ("" keeps it)

	// withMessage, if set, runs in the reply's transaction once its
	// message is stored (ReplyByMail's claim and files). A pointer keeps
	// AgentReply comparable.
	withMessage *func(ctx context.Context, tx *sqlitedb.Tx, ticketID, messageID int64) error
}

// Post adds an agent's reply or internal note, and optionally changes the
// status in the same transaction. A reply to the customer counts for the
// reply rule; a note marked as a call clears the call flag and restarts
// the count. The first reply to the customer on a new ticket opens it,
// unless the reply sets another status. The first event returned is the
// message's.
func (s *Store) Post(ctx context.Context, number int, by Staff, r AgentReply) ([]Event, error) {
	a, err := agent(by)
	if err != nil {
		return nil, err
	}
	return s.post(ctx, number, a, r)
}

func (s *Store) post(ctx context.Context, number int, a actor, r AgentReply) ([]Event, error) {
	body := strings.TrimSpace(r.Body)
	bad := &ValidationError{}
	if p := checkText(body, true, maxLong, true); p.Code != "" {
		bad.Set("body", p)
	}
	if r.Call && !r.Internal {
		bad.Add("call", fields.CallNotInternal)
	}
	if r.Status != "" && !r.Status.valid() {
		bad.Add("status", fields.Status)
	}
	if len(bad.Fields) > 0 {
		return nil, bad
	}
	return s.change(ctx, "reply", number, func(tx *sqlitedb.Tx, st *state, rec *recorder) error {
		now := s.now().UTC()
		author := a.kind
		if author == ActorCLI {
			author = ActorSupport
		}
		m := Message{Author: author, Body: body, CreatedAt: now, Internal: r.Internal, Call: r.Call, StaffName: a.staff.Name}
		var err error
		if m.ID, err = insertMessage(rec.ctx, tx, rec.id, m, a.staff.ID); err != nil {
			return err
		}
		if r.withMessage != nil {
			if err := (*r.withMessage)(rec.ctx, tx, rec.id, m.ID); err != nil {
				return err
			}
		}
		kind := KindReply
		if r.Internal {
			kind = KindNote
		}
		ev := a.event(number, kind, now)
		ev.Message, ev.Internal = &m, r.Internal
		if err := rec.record(ev, m.ID); err != nil {
			return err
		}
		switch {
		case author == ActorSupport && !r.Internal:
			st.repliesSinceCall++
			if _, err := tx.ExecContext(rec.ctx, `UPDATE tickets SET agent_replies = agent_replies + 1,
				replies_since_call = replies_since_call + 1 WHERE id = ?`, rec.id); err != nil {
				return err
			}
		case r.Call:
			st.repliesSinceCall = 0
			if _, err := tx.ExecContext(rec.ctx, `UPDATE tickets SET call_required = 0, call_reason = '',
				replies_since_call = 0 WHERE id = ?`, rec.id); err != nil {
				return err
			}
			if st.callRequired {
				st.callRequired = false
				done := a.event(number, KindCall, now)
				done.Call, done.Internal = "done", true
				if err := rec.record(done, 0); err != nil {
					return err
				}
			}
		}
		next := r.Status
		switch {
		case author == ActorCustomer && (st.status == StatusSolved || st.status == StatusWaiting):
			next = StatusOpen
		case author == ActorSupport && !r.Internal && next == "" && st.status == StatusNew:
			// Support has answered: the customer should no longer read "New".
			next = StatusOpen
		}
		if next != "" && next != st.status {
			return s.changeStatus(rec, st, next, a)
		}
		if err := rec.touch(now); err != nil {
			return err
		}
		return s.replyRule(rec, st, a, now)
	})
}

// ChangeSeverity sets a ticket's severity, with the agent's reason. Raising
// it to 1 or 2 raises the call flag, as at filing.
func (s *Store) ChangeSeverity(ctx context.Context, number int, severity int, reason string, by Staff) (Event, error) {
	a, err := agent(by)
	if err != nil {
		return Event{}, err
	}
	reason = strings.TrimSpace(reason)
	bad := &ValidationError{}
	if severity < 1 || severity > 4 {
		bad.Add("severity", fields.AgentSeverity)
	}
	if p := checkText(reason, true, maxShort*5, true); p.Code != "" {
		bad.Set("reason", p)
	}
	if len(bad.Fields) > 0 {
		return Event{}, bad
	}
	evs, err := s.change(ctx, "change severity", number, func(tx *sqlitedb.Tx, st *state, rec *recorder) error {
		if st.severity == severity {
			return fields.Invalid("severity", fields.SameSeverity, "severity", severity)
		}
		now := s.now().UTC()
		if _, err := tx.ExecContext(rec.ctx, `UPDATE tickets SET severity = ?, updated_at = ? WHERE id = ?`, severity, formatTime(now), rec.id); err != nil {
			return err
		}
		ev := a.event(number, KindSeverity, now)
		ev.Severity, ev.Reason = severity, reason
		if err := rec.record(ev, 0); err != nil {
			return err
		}
		st.severity = severity
		if severity <= 2 && !st.callRequired && st.status != StatusSolved {
			return s.flagCall(rec, st, a, callReasonSeverity, now)
		}
		return nil
	})
	if err != nil {
		return Event{}, err
	}
	return evs[0], nil
}

// Assign gives a ticket to an agent (to.ID 0: nobody). Assigning a new
// ticket to an agent also opens it (a status event after the assignment's).
func (s *Store) Assign(ctx context.Context, number int, to Staff, by Staff) (Event, error) {
	a, err := agent(by)
	if err != nil {
		return Event{}, err
	}
	if to.ID < 0 || to.ID > 0 && strings.TrimSpace(to.Name) == "" {
		return Event{}, fields.Invalid("assignee", fields.UnknownAgent)
	}
	if to.ID == 0 {
		to.Name = ""
	}
	evs, err := s.change(ctx, "assign", number, func(tx *sqlitedb.Tx, st *state, rec *recorder) error {
		if st.assignee.ID == to.ID {
			return fields.Invalid("assignee", fields.SameAssignee)
		}
		now := s.now().UTC()
		if _, err := tx.ExecContext(rec.ctx, `UPDATE tickets SET assignee_id = ?, assignee_name = ?, updated_at = ? WHERE id = ?`,
			nullID(to.ID), to.Name, formatTime(now), rec.id); err != nil {
			return err
		}
		ev := a.event(number, KindAssign, now)
		ev.Assignee, ev.Internal = to, true
		if err := rec.record(ev, 0); err != nil {
			return err
		}
		if to.ID != 0 && st.status == StatusNew {
			// Someone has taken it on: the customer sees work in progress.
			return s.changeStatus(rec, st, StatusOpen, a)
		}
		return nil
	})
	if err != nil {
		return Event{}, err
	}
	return evs[0], nil
}

// ForCustomer is the ticket as its customer may see it: without internal
// notes and internal events.
func (t Ticket) ForCustomer() Ticket {
	msgs := make([]Message, 0, len(t.Messages))
	for _, m := range t.Messages {
		if !m.Internal {
			msgs = append(msgs, m)
		}
	}
	hist := make([]Event, 0, len(t.History))
	for _, e := range t.History {
		if !e.Internal {
			hist = append(hist, e)
		}
	}
	for i := range hist { // who in the team did it stays with the team
		hist[i].Staff, hist[i].Reason, hist[i].Assignee = Staff{}, "", Staff{}
	}
	for i := range msgs {
		msgs[i].StaffName = ""
	}
	t.Messages, t.History = msgs, hist
	t.Assignee, t.CallReason = Staff{}, ""
	return t
}

func validActor(a string) bool {
	return a == ActorCustomer || a == ActorSupport || a == ActorCLI
}
