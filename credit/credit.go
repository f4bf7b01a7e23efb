// Package credit is server support's prepaid credit (docs/server-support.md):
// an append-only ledger of minutes per organisation (top-ups, session
// charges, postponement fees, corrections), whose sum is the balance, and the
// remote sessions booked against it. It imports only sqlitedb, calendar and
// fields; organisations are names, as customers.yaml spells them.
package credit

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/orbitask/portal/calendar"
	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Defaults of Config.
const (
	DefaultMinFirstTopUp   = 8 * 60 // one man-day
	DefaultLateFee         = 2 * 60
	DefaultConfirmAfter    = 5 // working days
	FreeNotice             = 24 * time.Hour
	MaxMinutes             = 100000 * 60 // the largest amount one entry may carry
	maxText                = 200
	maxComment             = 2000
	kindTopUp, kindCharge  = "topup", "charge"
	kindFee, kindCorrected = "fee", "correction"
)

// Session statuses.
const (
	Booked    = "booked"
	Cancelled = "cancelled"
	Proposed  = "proposed"  // a charge the customer has yet to confirm
	Disputed  = "disputed"  // a charge the customer disputes: for an operator
	Confirmed = "confirmed" // the charge is in the ledger
)

// ErrNotFound is a session that does not exist.
var ErrNotFound = errors.New("credit: no such session")

// Config configures a Store.
type Config struct {
	DB *sqlitedb.DB
	// MinFirstTopUp is the least first top-up of an organisation, in
	// minutes (DefaultMinFirstTopUp, one man-day, when 0).
	MinFirstTopUp int
	// LateFee is charged for postponing or cancelling less than 24 hours
	// before the start, in minutes (DefaultLateFee when 0).
	LateFee int
	// ConfirmAfter is the number of working days after which a proposed
	// charge is confirmed by AutoConfirm (DefaultConfirmAfter when 0).
	ConfirmAfter int
	// Calendar gives the working days, as currently configured
	// (tickets.Store.Calendar, which reloads; calendar.Default() when nil).
	Calendar func() *calendar.Calendar
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Store is the credit ledger and the sessions.
type Store struct {
	db  *sqlitedb.DB
	cfg Config
}

// Open migrates the credit tables and returns the store.
func Open(cfg Config) (*Store, error) {
	if cfg.DB == nil {
		return nil, errors.New("credit: open: DB is required")
	}
	if cfg.MinFirstTopUp == 0 {
		cfg.MinFirstTopUp = DefaultMinFirstTopUp
	}
	if cfg.LateFee == 0 {
		cfg.LateFee = DefaultLateFee
	}
	if cfg.ConfirmAfter == 0 {
		cfg.ConfirmAfter = DefaultConfirmAfter
	}
	if cfg.Calendar == nil {
		cfg.Calendar = calendar.Default
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := cfg.DB.Migrate("credit", migrations, "migrations"); err != nil {
		return nil, fmt.Errorf("credit: migrate: %w", err)
	}
	return &Store{db: cfg.DB, cfg: cfg}, nil
}

// Round rounds minutes to the nearest multiple of 10, halves up (5 → 10,
// 4 → 0): the policy says "rounded to 10 minutes", and to the nearest is
// fair both ways (docs/server-support.md). Negative or larger than
// MaxMinutes is an error.
func Round(minutes int) (int, error) {
	if minutes < 0 || minutes > MaxMinutes {
		return 0, fields.Invalid("minutes", fields.CreditMinutes, "min", 0, "max", MaxMinutes)
	}
	return (minutes + 5) / 10 * 10, nil
}

// roundSigned rounds a correction, keeping its sign.
func roundSigned(minutes int) (int, error) {
	if minutes < 0 {
		r, err := Round(-minutes)
		return -r, err
	}
	return Round(minutes)
}

// NeedTopUp refuses a booking the available credit does not cover.
type NeedTopUp struct {
	Needed  int // minutes to top up before this session can be booked
	Balance int // the ledger's balance
	Booked  int // reserved by other sessions (estimates, proposed charges)
}

func (e *NeedTopUp) Error() string { return "top up needed" }

// Entry is one ledger entry.
type Entry struct {
	ID        int64
	Org       string
	Kind      string // topup, charge, fee, correction
	Minutes   int    // signed: top-ups positive, charges and fees negative
	By        string
	At        time.Time
	Ref       string // a top-up's invoice reference
	Reason    string // a correction's reason
	SessionID int64  // a charge's or fee's session, 0 for others
}

// Balance is an organisation's credit.
type Balance struct {
	Org       string
	Balance   int // the sum of the ledger
	Booked    int // estimates of booked sessions and charges not yet confirmed
	Debt      int // fees and charges the balance could not cover, not yet settled
	Available int // Balance − Booked − Debt: what a new booking may use
}

// Session is a scheduled remote session.
type Session struct {
	ID         int64
	Org        string
	Ticket     int64
	Start      time.Time
	Estimate   int
	Technician string
	Status     string
	Charge     int // the proposed (or confirmed) charge
	ProposedAt time.Time
	Comment    string // the customer's when disputed
	Debt       int    // fees or charges the balance could not cover
	Settled    int    // of Debt, what later top-ups have paid
	BookedBy   string
	BookedAt   time.Time
}

// Fee is what a late postponement or cancellation cost.
type Fee struct {
	Charged int // minutes taken from the balance
	Debt    int // the rest of the fee the balance could not cover
}

func checkText(e *fields.Error, field, v string, required bool) {
	checkLines(e, field, v, required, maxText)
	if !e.Has(field) && strings.ContainsAny(v, "\r\n") {
		e.Add(field, fields.SingleLine)
	}
}

// checkLines checks a text of up to max characters that may have lines.
func checkLines(e *fields.Error, field, v string, required bool, max int) {
	switch {
	case strings.TrimSpace(v) == "":
		if required {
			e.Add(field, fields.Required)
		}
	case !utf8.ValidString(v):
		e.Add(field, fields.InvalidUTF8)
	case utf8.RuneCountInString(v) > max:
		e.Add(field, fields.TooLong, "max", max)
	case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		e.Add(field, fields.ControlCharacters)
	}
}

func orNil(e *fields.Error) error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// balanceTx is the ledger's sum and the reservations of an organisation,
// leaving out session except (0: none).
func balanceTx(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, org string, except int64) (Balance, error) {
	b := Balance{Org: org}
	err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(minutes), 0) FROM credit_entries WHERE org = ?`, org).Scan(&b.Balance)
	if err != nil {
		return b, fmt.Errorf("credit: balance: %w", err)
	}
	err = q.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE status WHEN 'booked' THEN estimate ELSE charge END), 0)
		FROM credit_sessions WHERE org = ? AND status IN ('booked', 'proposed', 'disputed') AND id != ?`, org, except).Scan(&b.Booked)
	if err != nil {
		return b, fmt.Errorf("credit: booked: %w", err)
	}
	err = q.QueryRowContext(ctx, `SELECT COALESCE(SUM(debt - settled), 0) FROM credit_sessions WHERE org = ? AND debt > settled`, org).Scan(&b.Debt)
	if err != nil {
		return b, fmt.Errorf("credit: debt: %w", err)
	}
	b.Available = b.Balance - b.Booked - b.Debt
	return b, nil
}

func addEntry(ctx context.Context, tx *sqlitedb.Tx, e Entry) error {
	var sid any
	if e.SessionID != 0 {
		sid = e.SessionID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO credit_entries (org, kind, minutes, by_whom, at, ref, reason, session_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.Org, e.Kind, e.Minutes, e.By, sqlitedb.FormatTime(e.At), e.Ref, e.Reason, sid)
	if err != nil {
		return fmt.Errorf("credit: ledger: %w", err)
	}
	return nil
}

// TopUp adds minutes (rounded) to org's credit, with the invoice reference.
// An organisation's first top-up must be at least MinFirstTopUp.
func (s *Store) TopUp(ctx context.Context, org string, minutes int, ref, by string) (Entry, error) {
	org = strings.TrimSpace(org)
	fe := &fields.Error{}
	checkText(fe, "org", org, true)
	checkText(fe, "ref", ref, true)
	checkText(fe, "by", by, true)
	m, err := Round(minutes)
	if err != nil || m < 10 {
		fe.Add("minutes", fields.CreditMinutes, "min", 10, "max", MaxMinutes)
	}
	if err := orNil(fe); err != nil {
		return Entry{}, err
	}
	e := Entry{Org: org, Kind: kindTopUp, Minutes: m, By: by, At: s.cfg.Now().UTC(), Ref: ref}
	err = s.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM credit_entries WHERE org = ? AND kind = 'topup'`, org).Scan(&n); err != nil {
			return err
		}
		if n == 0 && m < s.cfg.MinFirstTopUp {
			return fields.Invalid("minutes", fields.CreditFirstTopUp, "min", s.cfg.MinFirstTopUp)
		}
		if err := addEntry(ctx, tx, e); err != nil {
			return err
		}
		return s.settleDebt(ctx, tx, org, e.At, by)
	})
	return e, err
}

// settleDebt pays org's outstanding session debts, oldest session first, from
// the balance (after a top-up, in its transaction), as far as the balance
// goes: an entry of the debt's kind (charge for a confirmed session, else
// fee) with the reason "debt settled", and the session's settled minutes.
func (s *Store) settleDebt(ctx context.Context, tx *sqlitedb.Tx, org string, at time.Time, by string) error {
	type owed struct {
		id     int64
		status string
		left   int
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, status, debt - settled FROM credit_sessions WHERE org = ? AND debt > settled ORDER BY id`, org)
	if err != nil {
		return fmt.Errorf("credit: debt: %w", err)
	}
	var debts []owed
	for rows.Next() {
		var o owed
		if err := rows.Scan(&o.id, &o.status, &o.left); err != nil {
			rows.Close()
			return err
		}
		debts = append(debts, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(debts) == 0 {
		return nil
	}
	b, err := balanceTx(ctx, tx, org, 0)
	if err != nil {
		return err
	}
	left := b.Balance
	for _, o := range debts {
		pay := min(o.left, max(left, 0))
		if pay <= 0 {
			break
		}
		kind := kindFee
		if o.status == Confirmed {
			kind = kindCharge
		}
		if err := addEntry(ctx, tx, Entry{Org: org, Kind: kind, Minutes: -pay, By: by, At: at, Reason: "debt settled", SessionID: o.id}); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE credit_sessions SET settled = settled + ? WHERE id = ?`, pay, o.id); err != nil {
			return fmt.Errorf("credit: debt: %w", err)
		}
		left -= pay
	}
	return nil
}

// Correct adds a signed correction (rounded) with its reason; a negative one
// may not take more than Available (the balance less reservations and debt).
func (s *Store) Correct(ctx context.Context, org string, minutes int, reason, by string) (Entry, error) {
	org = strings.TrimSpace(org)
	fe := &fields.Error{}
	checkText(fe, "org", org, true)
	checkText(fe, "reason", reason, true)
	checkText(fe, "by", by, true)
	m, err := roundSigned(minutes)
	if err != nil || m == 0 {
		fe.Add("minutes", fields.CreditMinutes, "min", 10, "max", MaxMinutes)
	}
	if err := orNil(fe); err != nil {
		return Entry{}, err
	}
	e := Entry{Org: org, Kind: kindCorrected, Minutes: m, By: by, At: s.cfg.Now().UTC(), Reason: reason}
	err = s.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		b, err := balanceTx(ctx, tx, org, 0)
		if err != nil {
			return err
		}
		// A negative correction may take only what is available: not what
		// booked sessions and proposed charges reserve, nor what debt owes.
		if m < 0 && b.Available+m < 0 {
			return fields.Invalid("minutes", fields.CreditBelowZero, "balance", b.Available)
		}
		return addEntry(ctx, tx, e)
	})
	return e, err
}

// Book schedules a session of org for ticket at start (in the future) with an
// estimate (rounded). It is refused with *NeedTopUp when the balance less
// what other sessions reserve is below the estimate. The check and the
// booking are one write transaction: concurrent bookings cannot over-commit.
func (s *Store) Book(ctx context.Context, org string, ticket int64, start time.Time, estimate int, technician, by string) (Session, error) {
	org = strings.TrimSpace(org)
	now := s.cfg.Now().UTC()
	fe := &fields.Error{}
	checkText(fe, "org", org, true)
	checkText(fe, "technician", technician, true)
	checkText(fe, "by", by, true)
	if ticket <= 0 {
		fe.Add("ticket", fields.Required)
	}
	if !start.After(now) {
		fe.Add("start", fields.CreditFuture)
	}
	est, err := Round(estimate)
	if err != nil || est < 10 {
		fe.Add("estimate_minutes", fields.CreditMinutes, "min", 10, "max", MaxMinutes)
	}
	if err := orNil(fe); err != nil {
		return Session{}, err
	}
	ses := Session{Org: org, Ticket: ticket, Start: start.UTC(), Estimate: est, Technician: technician,
		Status: Booked, BookedBy: by, BookedAt: now}
	err = s.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		b, err := balanceTx(ctx, tx, org, 0)
		if err != nil {
			return err
		}
		if b.Available < est {
			return &NeedTopUp{Needed: est - b.Available, Balance: b.Balance, Booked: b.Booked}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO credit_sessions (org, ticket, start, estimate, technician, status, booked_by, booked_at)
			VALUES (?, ?, ?, ?, ?, 'booked', ?, ?)`, org, ticket, sqlitedb.FormatTime(ses.Start), est, technician, by, sqlitedb.FormatTime(now))
		if err != nil {
			return fmt.Errorf("credit: book: %w", err)
		}
		ses.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		return Session{}, err
	}
	return ses, nil
}

const sessionColumns = `id, org, ticket, start, estimate, technician, status, charge, proposed_at, comment, debt, settled, booked_by, booked_at`

func scanSession(row interface{ Scan(...any) error }) (Session, error) {
	var ses Session
	var start, proposed, booked string
	err := row.Scan(&ses.ID, &ses.Org, &ses.Ticket, &start, &ses.Estimate, &ses.Technician, &ses.Status,
		&ses.Charge, &proposed, &ses.Comment, &ses.Debt, &ses.Settled, &ses.BookedBy, &booked)
	if errors.Is(err, sql.ErrNoRows) {
		return ses, ErrNotFound
	}
	if err != nil {
		return ses, fmt.Errorf("credit: session: %w", err)
	}
	if ses.Start, err = sqlitedb.ParseTime(start); err != nil {
		return ses, err
	}
	if proposed != "" {
		if ses.ProposedAt, err = sqlitedb.ParseTime(proposed); err != nil {
			return ses, err
		}
	}
	ses.BookedAt, err = sqlitedb.ParseTime(booked)
	return ses, err
}

// Session reads one session.
func (s *Store) Session(ctx context.Context, id int64) (Session, error) {
	return scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM credit_sessions WHERE id = ?`, id))
}

// Sessions lists org's sessions, latest start first.
func (s *Store) Sessions(ctx context.Context, org string) ([]Session, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sessionColumns+` FROM credit_sessions WHERE org = ? ORDER BY start DESC, id DESC`, org)
	if err != nil {
		return nil, fmt.Errorf("credit: sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		ses, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ses)
	}
	return out, rows.Err()
}

// change runs fn on session id inside a write transaction.
func (s *Store) change(ctx context.Context, id int64, fn func(tx *sqlitedb.Tx, ses *Session) error) (Session, error) {
	var ses Session
	err := s.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		var err error
		ses, err = scanSession(tx.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM credit_sessions WHERE id = ?`, id))
		if err != nil {
			return err
		}
		return fn(tx, &ses)
	})
	return ses, err
}

// lateFee charges the late fee for ses if now is less than FreeNotice
// before its start: the fee, or what is left of the balance, the rest
// recorded as the session's debt.
func (s *Store) lateFee(ctx context.Context, tx *sqlitedb.Tx, ses *Session, now time.Time, by string) (Fee, error) {
	if ses.Start.Sub(now) >= FreeNotice {
		return Fee{}, nil
	}
	b, err := balanceTx(ctx, tx, ses.Org, 0)
	if err != nil {
		return Fee{}, err
	}
	f := Fee{Charged: min(s.cfg.LateFee, max(b.Balance, 0))}
	f.Debt = s.cfg.LateFee - f.Charged
	if f.Charged > 0 {
		err = addEntry(ctx, tx, Entry{Org: ses.Org, Kind: kindFee, Minutes: -f.Charged, By: by, At: now, SessionID: ses.ID})
		if err != nil {
			return f, err
		}
	}
	ses.Debt += f.Debt
	return f, nil
}

// Postpone moves a booked session to newStart (in the future). Less than
// 24 hours (elapsed time) before the current start it costs LateFee.
func (s *Store) Postpone(ctx context.Context, id int64, newStart time.Time, by string) (Session, Fee, error) {
	now := s.cfg.Now().UTC()
	fe := &fields.Error{}
	checkText(fe, "by", by, true)
	if !newStart.After(now) {
		fe.Add("start", fields.CreditFuture)
	}
	if err := orNil(fe); err != nil {
		return Session{}, Fee{}, err
	}
	var f Fee
	ses, err := s.change(ctx, id, func(tx *sqlitedb.Tx, ses *Session) error {
		if ses.Status != Booked {
			return fields.Invalid("session", fields.CreditStatus, "status", ses.Status)
		}
		var err error
		if f, err = s.lateFee(ctx, tx, ses, now, by); err != nil {
			return err
		}
		ses.Start = newStart.UTC()
		_, err = tx.ExecContext(ctx, `UPDATE credit_sessions SET start = ?, debt = ? WHERE id = ?`, sqlitedb.FormatTime(ses.Start), ses.Debt, id)
		return err
	})
	return ses, f, err
}

// Cancel cancels a booked session; less than 24 hours before its start it
// costs LateFee.
func (s *Store) Cancel(ctx context.Context, id int64, by string) (Session, Fee, error) {
	now := s.cfg.Now().UTC()
	fe := &fields.Error{}
	checkText(fe, "by", by, true)
	if err := orNil(fe); err != nil {
		return Session{}, Fee{}, err
	}
	var f Fee
	ses, err := s.change(ctx, id, func(tx *sqlitedb.Tx, ses *Session) error {
		if ses.Status != Booked {
			return fields.Invalid("session", fields.CreditStatus, "status", ses.Status)
		}
		var err error
		if f, err = s.lateFee(ctx, tx, ses, now, by); err != nil {
			return err
		}
		ses.Status = Cancelled
		_, err = tx.ExecContext(ctx, `UPDATE credit_sessions SET status = 'cancelled', debt = ? WHERE id = ?`, ses.Debt, id)
		return err
	})
	return ses, f, err
}

// Charge records the time spent on a booked session whose start has passed
// (rounded): a proposed charge, reserved like a booking until the customer
// confirms it (Confirm) or AutoConfirm does.
func (s *Store) Charge(ctx context.Context, id int64, minutes int, by string) (Session, error) {
	now := s.cfg.Now().UTC()
	fe := &fields.Error{}
	checkText(fe, "by", by, true)
	m, err := Round(minutes)
	if err != nil || m < 10 {
		fe.Add("minutes", fields.CreditMinutes, "min", 10, "max", MaxMinutes)
	}
	if err := orNil(fe); err != nil {
		return Session{}, err
	}
	return s.change(ctx, id, func(tx *sqlitedb.Tx, ses *Session) error {
		if ses.Status != Booked {
			return fields.Invalid("session", fields.CreditStatus, "status", ses.Status)
		}
		if now.Before(ses.Start) {
			return fields.Invalid("session", fields.CreditNotStarted)
		}
		ses.Status, ses.Charge, ses.ProposedAt = Proposed, m, now
		_, err := tx.ExecContext(ctx, `UPDATE credit_sessions SET status = 'proposed', charge = ?, proposed_at = ? WHERE id = ?`,
			m, sqlitedb.FormatTime(now), id)
		return err
	})
}

// Confirm confirms a proposed (or disputed) charge: the ledger entry is
// written, up to what the balance holds, the rest recorded as debt.
func (s *Store) Confirm(ctx context.Context, id int64, by string) (Session, error) {
	now := s.cfg.Now().UTC()
	return s.change(ctx, id, func(tx *sqlitedb.Tx, ses *Session) error {
		return s.confirmTx(ctx, tx, ses, now, by)
	})
}

func (s *Store) confirmTx(ctx context.Context, tx *sqlitedb.Tx, ses *Session, now time.Time, by string) error {
	if ses.Status != Proposed && ses.Status != Disputed {
		return fields.Invalid("session", fields.CreditStatus, "status", ses.Status)
	}
	b, err := balanceTx(ctx, tx, ses.Org, 0)
	if err != nil {
		return err
	}
	charged := min(ses.Charge, max(b.Balance, 0))
	ses.Debt += ses.Charge - charged
	if charged > 0 {
		if err := addEntry(ctx, tx, Entry{Org: ses.Org, Kind: kindCharge, Minutes: -charged, By: by, At: now, SessionID: ses.ID}); err != nil {
			return err
		}
	}
	ses.Status = Confirmed
	_, err = tx.ExecContext(ctx, `UPDATE credit_sessions SET status = 'confirmed', debt = ? WHERE id = ?`, ses.Debt, ses.ID)
	return err
}

// Dispute records the customer's dispute of a proposed charge, with a
// comment; the charge stays reserved until an operator settles it.
func (s *Store) Dispute(ctx context.Context, id int64, comment string) (Session, error) {
	fe := &fields.Error{}
	checkLines(fe, "comment", comment, true, maxComment)
	if err := orNil(fe); err != nil {
		return Session{}, err
	}
	return s.change(ctx, id, func(tx *sqlitedb.Tx, ses *Session) error {
		if ses.Status != Proposed {
			return fields.Invalid("session", fields.CreditStatus, "status", ses.Status)
		}
		ses.Status, ses.Comment = Disputed, comment
		_, err := tx.ExecContext(ctx, `UPDATE credit_sessions SET status = 'disputed', comment = ? WHERE id = ?`, comment, ses.ID)
		return err
	})
}

// AutoConfirm confirms the proposed charges whose confirmation period has
// passed at now: the end of the ConfirmAfter-th working day after the day
// they were proposed (calendar.ByEndOfWorkingDay). It returns how many.
func (s *Store) AutoConfirm(ctx context.Context, now time.Time) (int, error) {
	cal := s.cfg.Calendar()
	rows, err := s.db.QueryContext(ctx, `SELECT id, proposed_at FROM credit_sessions WHERE status = 'proposed'`)
	if err != nil {
		return 0, fmt.Errorf("credit: auto-confirm: %w", err)
	}
	var due []int64
	for rows.Next() {
		var id int64
		var at string
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return 0, err
		}
		t, err := sqlitedb.ParseTime(at)
		if err != nil {
			rows.Close()
			return 0, err
		}
		if d, ok := cal.Due(calendar.ByEndOfWorkingDay(s.cfg.ConfirmAfter), t); ok && !now.Before(d) {
			due = append(due, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range due {
		_, err := s.change(ctx, id, func(tx *sqlitedb.Tx, ses *Session) error {
			if ses.Status != Proposed {
				return nil // confirmed or disputed meanwhile
			}
			n++
			return s.confirmTx(ctx, tx, ses, now.UTC(), "auto-confirmed")
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Balance is org's balance, reservations and what is available.
func (s *Store) Balance(ctx context.Context, org string) (Balance, error) {
	org = strings.TrimSpace(org)
	return balanceTx(ctx, s.db, org, 0)
}

// Ledger lists org's entries, oldest first.
func (s *Store) Ledger(ctx context.Context, org string) ([]Entry, error) {
	org = strings.TrimSpace(org)
	rows, err := s.db.QueryContext(ctx, `SELECT id, org, kind, minutes, by_whom, at, ref, reason, COALESCE(session_id, 0)
		FROM credit_entries WHERE org = ? ORDER BY id`, org)
	if err != nil {
		return nil, fmt.Errorf("credit: ledger: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var at string
		if err := rows.Scan(&e.ID, &e.Org, &e.Kind, &e.Minutes, &e.By, &at, &e.Ref, &e.Reason, &e.SessionID); err != nil {
			return nil, err
		}
		if e.At, err = sqlitedb.ParseTime(at); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Orgs lists every organisation with a ledger entry or a session, by name,
// with its balance.
func (s *Store) Orgs(ctx context.Context) ([]Balance, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT org FROM credit_entries UNION SELECT org FROM credit_sessions ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("credit: orgs: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Balance, 0, len(names))
	for _, n := range names {
		b, err := s.Balance(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// HoursMinutes writes minutes as "7 h 50 min" ("-2 h", "0 min").
func HoursMinutes(minutes int) string {
	sign := ""
	if minutes < 0 {
		sign, minutes = "-", -minutes
	}
	h, m := minutes/60, minutes%60
	switch {
	case h == 0:
		return fmt.Sprintf("%s%d min", sign, m)
	case m == 0:
		return fmt.Sprintf("%s%d h", sign, h)
	}
	return fmt.Sprintf("%s%d h %d min", sign, h, m)
}
