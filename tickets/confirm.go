package tickets

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

// Plans that depend on the e-mail address (issue 14). A plan granted by the
// address's domain (customers.yaml) takes effect once the address is
// confirmed: by the link in the "ticket filed" mail, by a "find my tickets"
// link (it proves the mailbox too), or by staff after a phone call. A
// ticket filed from an address not yet confirmed is Basic in every respect
// (plan, queue rank, reply rule, SLA) with the granted plan pending;
// confirming moves every pending ticket of the address up.

// ConfirmTTL is how long the confirmation link of a "ticket filed" mail
// works. It may be used again within it (confirming twice changes nothing).
const ConfirmTTL = 7 * 24 * time.Hour

// ErrTokenInvalid is returned for a confirmation or find token that is
// unknown, expired or (a find token) already used.
var ErrTokenInvalid = errors.New("link not valid: unknown, expired or used")

// How an address was confirmed (Confirmer.Via).
const (
	ViaMailLink = "mail link" // the link in the "ticket filed" mail
	ViaFindLink = "find link" // a "find my tickets" link
	ViaStaff    = "staff"     // an agent in the console
	ViaCLI      = "command line"
)

// Confirmer says who confirms an address.
type Confirmer struct {
	Via   string // ViaMailLink, ViaFindLink, ViaStaff or ViaCLI
	Staff Staff  // ViaStaff: the agent
	User  string // ViaCLI: the operating system's user, if known
}

// who is what confirmed_addresses.confirmed_by says.
func (c Confirmer) who() string {
	switch c.Via {
	case ViaStaff:
		return fmt.Sprintf("staff: %s (id %d)", c.Staff.Name, c.Staff.ID)
	case ViaCLI:
		if c.User != "" {
			return "command line: " + c.User
		}
	}
	return c.Via
}

// actor is who the tickets' events name.
func (c Confirmer) actor() (actor, error) {
	switch c.Via {
	case ViaMailLink, ViaFindLink:
		return actor{kind: ActorCustomer}, nil
	case ViaStaff:
		return agent(c.Staff)
	case ViaCLI:
		return actor{kind: ActorCLI}, nil
	}
	return actor{}, fmt.Errorf("tickets: confirm: unknown way %q", c.Via)
}

// Confirmation is what confirming an address did.
type Confirmation struct {
	Email   string // lower-cased
	Already bool   // it was confirmed before (then Moved is empty)
	By      string // who confirmed it (first), as stored
	At      time.Time
	Moved   []Moved // the tickets that moved up, by number
}

// Moved is a ticket that moved up to its plan on confirmation.
type Moved struct {
	Number  int
	Subject string
	Plan    Plan
	SLADue  time.Time // zero: as agreed
}

// normEmail is how addresses are compared: trimmed and lower-cased as
// SQLite's lower() does (ASCII only), so Go and SQL agree.
func normEmail(e string) string {
	b := []byte(strings.TrimSpace(e))
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// holdPlanTx decides, inside the filing's transaction, whether the plan the
// domain grants (cust) applies at once: yes for Basic and for an address
// confirmed before; else tk becomes Basic (SLA from now, Basic's reply
// rule) with the plan pending. It returns the ticket's queue rank.
func (s *Store) holdPlanTx(ctx context.Context, tx *sqlitedb.Tx, tk *Ticket, ev *Event, cust customer) (int, error) {
	if cust.Plan == PlanBasic {
		return queueRank(cust), nil
	}
	ok, err := confirmedTx(ctx, tx, tk.Email)
	if err != nil || ok {
		return queueRank(cust), err
	}
	basic := customer{Plan: PlanBasic, Queue: PlanBasic}
	due, _ := s.calendar.get().Due(s.target(basic), tk.CreatedAt)
	tk.PendingPlan, tk.Plan = cust.Plan, PlanBasic
	tk.SLADue, ev.SLADue = due, due
	tk.CallAfterReplies = callAfterReplies(basic)
	return queueRank(basic), nil
}

func confirmedTx(ctx context.Context, q rowQuerier, email string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM confirmed_addresses WHERE email = ?`, normEmail(email)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Confirmed says whether an address is confirmed, by whom and when.
func (s *Store) Confirmed(ctx context.Context, email string) (ok bool, by string, at time.Time, err error) {
	var when string
	err = s.db.QueryRowContext(ctx, `SELECT confirmed_by, confirmed_at FROM confirmed_addresses WHERE email = ?`,
		normEmail(email)).Scan(&by, &when)
	if errors.Is(err, sql.ErrNoRows) {
		return false, "", time.Time{}, nil
	}
	if err == nil {
		at, err = parseTime(when, nil)
	}
	if err != nil {
		return false, "", time.Time{}, fmt.Errorf("tickets: confirmed: %w", err)
	}
	return true, by, at, nil
}

// MintConfirmTx mints the token of a confirmation link for email inside
// the caller's write transaction (the "ticket filed" mail that carries it
// commits with it); only its SHA-256 is stored. Valid ConfirmTTL.
func (s *Store) MintConfirmTx(ctx context.Context, tx *sqlitedb.Tx, email string) (string, error) {
	token, err := mintAddressToken(ctx, tx, "confirm", normEmail(email), s.now().UTC(), ConfirmTTL)
	if err != nil {
		return "", fmt.Errorf("tickets: mint confirmation for %s: %w", email, err)
	}
	return token, nil
}

func mintAddressToken(ctx context.Context, tx *sqlitedb.Tx, purpose, email string, now time.Time, ttl time.Duration) (string, error) {
	token, hash, err := newToken()
	if err != nil {
		return "", err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO address_tokens (hash, purpose, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		hash[:], purpose, email, formatTime(now), formatTime(now.Add(ttl)))
	return token, err
}

// addressToken looks a token up: its address, whether it was used; a
// token unknown, of another purpose, or expired is ErrTokenInvalid.
func addressToken(ctx context.Context, q rowQuerier, purpose, token string, now time.Time) (email string, used bool, err error) {
	if token == "" {
		return "", false, ErrTokenInvalid
	}
	hash := sha256.Sum256([]byte(token))
	var usedAt sql.NullString
	err = q.QueryRowContext(ctx, `SELECT email, used_at FROM address_tokens WHERE hash = ? AND purpose = ? AND expires_at > ?`,
		hash[:], purpose, formatTime(now)).Scan(&email, &usedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, ErrTokenInvalid
	}
	return email, usedAt.Valid, err
}

// ConfirmPending is what a confirmation link's page shows before the
// customer presses the button: the address and how many of its tickets
// wait for it. GET never confirms (mail scanners open links).
func (s *Store) ConfirmPending(ctx context.Context, token string) (email string, pending int, err error) {
	email, _, err = addressToken(ctx, s.db, "confirm", token, s.now().UTC())
	if err == nil {
		err = s.db.QueryRowContext(ctx, `SELECT count(*) FROM tickets WHERE lower(email) = ? AND pending_plan <> ''`, email).Scan(&pending)
	}
	if err != nil {
		return "", 0, fmt.Errorf("tickets: confirmation link: %w", err)
	}
	return email, pending, nil
}

// ConfirmWithToken confirms the address a confirmation link was minted for
// (by the customer: ViaMailLink). Using it again within ConfirmTTL changes
// nothing (Confirmation.Already).
func (s *Store) ConfirmWithToken(ctx context.Context, token string) (Confirmation, error) {
	return s.confirm(ctx, "confirm by link", func(ctx context.Context, tx *sqlitedb.Tx, now time.Time) (string, error) {
		email, _, err := addressToken(ctx, tx, "confirm", token, now)
		if err != nil {
			return "", err
		}
		hash := sha256.Sum256([]byte(token))
		_, err = tx.ExecContext(ctx, `UPDATE address_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL`, formatTime(now), hash[:])
		return email, err
	}, Confirmer{Via: ViaMailLink})
}

// ConfirmAddress confirms email as by (staff after a phone call, the
// command line). It is idempotent.
func (s *Store) ConfirmAddress(ctx context.Context, email string, by Confirmer) (Confirmation, error) {
	if !isEmail(strings.TrimSpace(email)) {
		return Confirmation{}, fields.Invalid("email", fields.Email)
	}
	return s.confirm(ctx, "confirm "+normEmail(email), func(context.Context, *sqlitedb.Tx, time.Time) (string, error) {
		return normEmail(email), nil
	}, by)
}

// confirm runs one confirmation in a write transaction: address finds the
// address inside it; once committed, the events are announced.
func (s *Store) confirm(ctx context.Context, op string, address func(context.Context, *sqlitedb.Tx, time.Time) (string, error), by Confirmer) (Confirmation, error) {
	if _, err := by.actor(); err != nil {
		return Confirmation{}, err
	}
	var (
		c   Confirmation
		evs []Event
	)
	wctx := context.WithoutCancel(ctx)
	err := s.write(ctx, func(tx *sqlitedb.Tx) error {
		now := s.now().UTC()
		email, err := address(wctx, tx, now)
		if err != nil {
			return err
		}
		c, evs, err = s.confirmTx(wctx, tx, email, by, now)
		return err
	})
	if err != nil {
		return Confirmation{}, fmt.Errorf("tickets: %s: %w", op, err)
	}
	s.announce(c, evs)
	return c, nil
}

// announce logs a confirmation and hands its events to OnEvent.
func (s *Store) announce(c Confirmation, evs []Event) {
	if !c.Already {
		s.log.Info("address confirmed", "by", c.By, "moved", len(c.Moved))
	}
	for _, ev := range evs {
		s.onEvent(ev)
	}
}

// confirmTx records email as confirmed (if it was not) and moves every
// pending ticket of it up to the plan its domain grants now: plan, queue
// rank, reply rule, and the SLA due time recomputed from the filing time,
// keeping the working time the clock was paused (as the Basic due time
// moved for it). Each move is an "sla" event the customer sees (the new
// resolution target) with the plan; NotifyTx is called for it. A closed
// ticket keeps its plan and loses the pending mark. Concurrent
// confirmations are serialised by the one writer; the second finds
// nothing pending.
func (s *Store) confirmTx(ctx context.Context, tx *sqlitedb.Tx, email string, by Confirmer, now time.Time) (Confirmation, []Event, error) {
	c := Confirmation{Email: email, By: by.who(), At: now}
	res, err := tx.ExecContext(ctx, `INSERT INTO confirmed_addresses (email, confirmed_by, confirmed_at) VALUES (?, ?, ?)
		ON CONFLICT (email) DO NOTHING`, email, c.By, formatTime(now))
	if err != nil {
		return c, nil, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return c, nil, err
	} else if n == 0 {
		c.Already = true
		var at string
		if err := tx.QueryRowContext(ctx, `SELECT confirmed_by, confirmed_at FROM confirmed_addresses WHERE email = ?`, email).Scan(&c.By, &at); err != nil {
			return c, nil, err
		}
		if c.At, err = parseTime(at, nil); err != nil {
			return c, nil, err
		}
	}
	type pendingTicket struct {
		number  int
		subject string
		created string
		status  Status
	}
	rows, err := tx.QueryContext(ctx, `SELECT number, subject, created_at, status FROM tickets
		WHERE lower(email) = ? AND pending_plan <> '' ORDER BY number`, email)
	if err != nil {
		return c, nil, err
	}
	var pending []pendingTicket
	for rows.Next() {
		var p pendingTicket
		if err := rows.Scan(&p.number, &p.subject, &p.created, &p.status); err != nil {
			rows.Close()
			return c, nil, err
		}
		pending = append(pending, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return c, nil, err
	}
	a, err := by.actor()
	if err != nil {
		return c, nil, err
	}
	cust := s.plans.get().lookup(email)
	cal := s.calendar.get()
	basic := customer{Plan: PlanBasic, Queue: PlanBasic}
	var all []Event
	for _, p := range pending {
		if p.status == StatusClosed || cust.Plan == PlanBasic {
			// Closed is final; a domain no longer listed grants nothing.
			if _, err := tx.ExecContext(ctx, `UPDATE tickets SET pending_plan = '' WHERE number = ?`, p.number); err != nil {
				return c, nil, err
			}
			continue
		}
		st, err := lockTicket(ctx, tx, p.number)
		if err != nil {
			return c, nil, err
		}
		created, err := parseTime(p.created, nil)
		if err != nil {
			return c, nil, err
		}
		due, _ := cal.Due(s.target(cust), created)
		if !due.IsZero() && !st.due.IsZero() {
			// The working time the clock stood still so far moved the
			// Basic due time; it moves the new one alike.
			basicDue, _ := cal.Due(s.target(basic), created)
			due = cal.AddWorking(due, cal.WorkingBetween(basicDue, st.due)).UTC()
		}
		st.due, st.callAfter = due, callAfterReplies(cust)
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET plan = ?, pending_plan = '', queue_rank = ?, call_after_replies = ?,
			sla_due = ?, updated_at = ? WHERE id = ?`,
			cust.Plan, queueRank(cust), st.callAfter, nullTime(due), formatTime(now), st.id); err != nil {
			return c, nil, err
		}
		rec := &recorder{store: s, ctx: ctx, tx: tx, id: st.id, number: p.number}
		ev := a.event(p.number, KindSLA, now)
		ev.SLADue, ev.Plan = due, cust.Plan
		if err := rec.record(ev, 0); err != nil {
			return c, nil, err
		}
		// Priority calls after the first reply: one already given may
		// make the call due now.
		if err := s.replyRule(rec, &st, a, now); err != nil {
			return c, nil, err
		}
		if err := s.notifyTx(ctx, tx, p.number, rec.events); err != nil {
			return c, nil, err
		}
		all = append(all, rec.events...)
		c.Moved = append(c.Moved, Moved{Number: p.number, Subject: p.subject, Plan: cust.Plan, SLADue: due})
	}
	return c, all, nil
}
