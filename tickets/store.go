// Package tickets owns support tickets: validation of what a customer files,
// the plan and SLA target it gets, its conversation and status, and the
// events a live page follows. It knows nothing of HTTP; side effects reach
// the outside through Config.OnEvent.
package tickets

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/orbitask/portal/calendar"
	"github.com/orbitask/portal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Status is where a ticket stands.
type Status string

// The statuses, in their usual order.
const (
	StatusNew     Status = "new"
	StatusOpen    Status = "open"
	StatusWaiting Status = "waiting" // waiting on the customer
	StatusSolved  Status = "solved"
	StatusClosed  Status = "closed"
)

func (s Status) valid() bool {
	switch s {
	case StatusNew, StatusOpen, StatusWaiting, StatusSolved, StatusClosed:
		return true
	}
	return false
}

// Authors of messages and actors of events. A customer acts through the
// ticket pages and /api/tickets; an agent, as ActorSupport with a Staff,
// through the console and /api/agent. The portal command line records its
// status changes as ActorCLI and its replies as ActorSupport without a Staff.
const (
	ActorCustomer = "customer"
	ActorSupport  = "support"
	ActorCLI      = "cli" // the portal command line; an event's actor, never a message's author
)

// Event kinds. Notes, assignments and call flags are internal: the
// customer never sees them.
const (
	KindFiled    = "filed"
	KindStatus   = "status"
	KindReply    = "reply"    // a message to the other side
	KindNote     = "note"     // an agent's internal note, possibly recording a call
	KindSeverity = "severity" // an agent changed the severity, with a reason
	KindAssign   = "assign"
	KindCall     = "call" // the call flag was raised (reply rule, severity) or cleared by a call
	KindSLA      = "sla"  // the resolution target moved: the clock resumed after a pause
)

// ErrNotFound is returned for a ticket that does not exist, and equally for
// one that exists but was asked for with a wrong or missing token.
var ErrNotFound = errors.New("not found")

// ErrClosed is returned for a status change or a reply on a closed ticket:
// closed is final. (Solved is the status a customer's reply reopens.)
var ErrClosed = errors.New("ticket is closed")

// Config configures a Store.
type Config struct {
	DB      *sqlitedb.DB     // Open migrates it; its one writer numbers tickets safely
	DataDir string           // attachments go to DataDir/attachments/<sha256 hex>; customers.yaml is DataDir/customers.yaml
	Now     func() time.Time // nil = time.Now
	Logger  *slog.Logger     // nil = discard
	// OnEvent is called after a change is committed (ticket filed, status
	// changed, reply added), in the goroutine that made the change, so the
	// caller can broadcast it live. It must not block for long.
	OnEvent func(Event)
	// OnFiledTx is called inside the filing's transaction for a ticket that
	// names its deflection session, so that the session's "filed" event
	// commits (or rolls back) with the ticket. An error rolls the filing back.
	OnFiledTx func(ctx context.Context, tx *sqlitedb.Tx, session string, number int) error
	// NotifyFiledTx is called inside every filing's transaction with the
	// ticket and its access token (known only then), so that the customer's
	// "ticket filed" mail commits (or rolls back) with the ticket. An error
	// rolls the filing back.
	NotifyFiledTx func(ctx context.Context, tx *sqlitedb.Tx, t Ticket, token string) error
	// NotifyTx is called inside the transaction of every later change
	// (status, reply, note, severity, assignment, call flag, SLA) with the
	// events it recorded, internal ones included, so that the mails the
	// change causes commit (or roll back) with it; GetTx reads the ticket as
	// the change left it. An error rolls the change back.
	NotifyTx func(ctx context.Context, tx *sqlitedb.Tx, number int, events []Event) error
	// NotifyFindTx is called inside the transaction of a "find my
	// tickets" request (RequestFind) for an address that has tickets,
	// with the find link's token (known only then) and the language of the
	// page asked from, so that its mail commits with the token. nil: no
	// mail (the request still answers the same).
	NotifyFindTx func(ctx context.Context, tx *sqlitedb.Tx, email, lang, token string) error
	// NotifyNewLinkTx is called inside the transaction of RevokeAccess
	// with the ticket and its new access token (known only then), so that
	// the mail carrying the new private link to the ticket's address
	// commits with it. nil: RevokeAccess refuses (ErrNoLinkMail).
	NotifyNewLinkTx func(ctx context.Context, tx *sqlitedb.Tx, t Ticket, token string) error
}

// Store files and changes tickets.
type Store struct {
	db      *sqlitedb.DB
	attDir  string
	now     func() time.Time
	log     *slog.Logger
	onEvent func(Event)
	// onFiledTx, notifyFiledTx: see Config.OnFiledTx, Config.NotifyFiledTx
	onFiledTx     func(ctx context.Context, tx *sqlitedb.Tx, session string, number int) error
	notifyFiledTx func(ctx context.Context, tx *sqlitedb.Tx, t Ticket, token string) error
	notifyTx      func(ctx context.Context, tx *sqlitedb.Tx, number int, events []Event) error
	notifyFindTx  func(ctx context.Context, tx *sqlitedb.Tx, email, lang, token string) error
	// notifyNewLinkTx: see Config.NotifyNewLinkTx; nil allowed
	notifyNewLinkTx func(ctx context.Context, tx *sqlitedb.Tx, t Ticket, token string) error
	calendar        *reloading[*calendar.Calendar]
	plans           *reloading[customers]
	stop            stopIndex
	files           sqlitedb.StorageHealth // whether attachments' files fail to be written
}

// Open migrates the database and returns a Store. It fails on a malformed
// customers.yaml (later changes to the file that are malformed are logged and
// the last good version kept).
func Open(cfg Config) (*Store, error) {
	if cfg.DB == nil || cfg.DataDir == "" {
		return nil, fmt.Errorf("tickets: open: DB and DataDir are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnEvent == nil {
		cfg.OnEvent = func(Event) {}
	}
	if cfg.OnFiledTx == nil {
		cfg.OnFiledTx = func(context.Context, *sqlitedb.Tx, string, int) error { return nil }
	}
	if cfg.NotifyFiledTx == nil {
		cfg.NotifyFiledTx = func(context.Context, *sqlitedb.Tx, Ticket, string) error { return nil }
	}
	if cfg.NotifyTx == nil {
		cfg.NotifyTx = func(context.Context, *sqlitedb.Tx, int, []Event) error { return nil }
	}
	if cfg.NotifyFindTx == nil {
		cfg.NotifyFindTx = func(context.Context, *sqlitedb.Tx, string, string, string) error { return nil }
	}
	if err := cfg.DB.Migrate("tickets", migrations, "migrations"); err != nil {
		return nil, fmt.Errorf("tickets: open: %w", err)
	}
	attDir := filepath.Join(cfg.DataDir, "attachments")
	if err := os.MkdirAll(attDir, 0o700); err != nil {
		return nil, fmt.Errorf("tickets: open: %w", err)
	}
	cal, err := newReloading(filepath.Join(cfg.DataDir, "calendar.yaml"), "calendar file", calendar.Load, calendar.Default, cfg.Now, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("tickets: open: %w", err)
	}
	p, err := newPlans(filepath.Join(cfg.DataDir, "customers.yaml"), cfg.Now, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("tickets: open: %w", err)
	}
	return &Store{
		db: cfg.DB, attDir: attDir, now: cfg.Now, log: cfg.Logger, onEvent: cfg.OnEvent, onFiledTx: cfg.OnFiledTx, notifyFiledTx: cfg.NotifyFiledTx, notifyTx: cfg.NotifyTx,
		notifyFindTx: cfg.NotifyFindTx, notifyNewLinkTx: cfg.NotifyNewLinkTx,
		calendar: cal, plans: p, stop: newStopIndex(),
	}, nil
}

// Ticket is a filed ticket.
type Ticket struct {
	ID           int64
	Number       int // human-readable, from 1001
	Status       Status
	Plan         Plan
	Organisation string // from customers.yaml; "" on the default Basic plan
	// PendingPlan is the plan the address's domain grants, which the
	// ticket gets once the address is confirmed (confirm.go); until then
	// it is Basic. "" when nothing is pending.
	PendingPlan       Plan
	Severity          int
	Subject           string
	Lang              string
	AnswerInEnglish   bool
	Name              string
	Company           string
	Phone             string
	Email             string
	Version           string
	Deployment        string
	Environment       string
	ErrorMessages     string
	CreatedAt         time.Time
	UpdatedAt         time.Time
	SLADue            time.Time // zero when the plan has no fixed target (individual: as agreed)
	SLAPausedAt       time.Time // the clock stopped then (waiting on the customer, or solved); zero while it runs
	CallRequired      bool      // support must call the submitter: severity 1 and 2, or the reply rule
	CallReason        string    // "severity" | "reply_rule" | ""
	AgentReplies      int       // replies to the customer, in all
	RepliesSinceCall  int       // what the reply rule counts
	CallAfterReplies  int       // the plan's reply limit: a call is due after this many replies
	StatusMails       bool      // the customer receives status mails (SetStatusMails); replies are mailed regardless
	Assignee          Staff     // zero: unassigned
	DeflectionSession string
	Messages          []Message // the first is the description
	History           []Event
	Attachments       []AttachmentInfo
}

// Message is one message of a ticket's conversation.
type Message struct {
	ID        int64
	Author    string // "customer" | "support"
	Body      string
	CreatedAt time.Time
	Internal  bool   // an agent's note: never shown to the customer
	Call      bool   // a note recording a call with the submitter
	StaffName string // the agent who wrote it; "" for the customer and the command line
}

// Event is one change to a ticket, as the live feed carries it.
type Event struct {
	Seq     int64     // global, strictly increasing; the live feed's sequence number
	Number  int       // ticket number
	Kind    string    // one of the Kind* constants
	Status  Status    // for "filed" and "status": the new status
	Message *Message  // for "reply" and "note"
	SLADue  time.Time // for "filed" and "sla"; zero when the plan has none
	Actor   string    // "customer" | "support" | "cli"
	At      time.Time
	// Staff is the agent who acted (actor "support" from the console or
	// /api/agent); zero otherwise.
	Staff    Staff
	Internal bool   // never shown to the customer (notes, assignment, call flags)
	From     Status // for "status": the previous status
	Severity int    // for "severity": the new severity
	Reason   string // for "severity": why; for "call": what raised the flag (severity, reply_rule)
	Assignee Staff  // for "assign": the new assignee, zero when unassigned
	Call     string // for "call": "required" or "done"
	Plan     Plan   // for "filed": the plan; for "sla": the plan the ticket moved up to on confirming its address ("" if it did not)
}

// Staff is a member of the support team acting on a ticket. The tickets
// package keeps the id and the name at the time of the action; accounts
// live elsewhere.
type Staff struct {
	ID   int64
	Name string
}

// eventData is the JSON in ticket_events.data.
type eventData struct {
	Status       Status `json:"status,omitempty"`
	From         Status `json:"from,omitempty"`
	Plan         Plan   `json:"plan,omitempty"`
	SLADue       string `json:"sla_due,omitempty"`
	Severity     int    `json:"severity,omitempty"`
	Reason       string `json:"reason,omitempty"`
	AssigneeID   int64  `json:"assignee_id,omitempty"`
	AssigneeName string `json:"assignee_name,omitempty"`
	Call         string `json:"call,omitempty"`
}

// dataOf is the stored form of an event's details.
func dataOf(e Event) eventData {
	return eventData{Status: e.Status, From: e.From, Plan: e.Plan, SLADue: nullTimeString(e.SLADue), Severity: e.Severity,
		Reason: e.Reason, AssigneeID: e.Assignee.ID, AssigneeName: e.Assignee.Name, Call: e.Call}
}

// File validates t and stores it in one transaction: the ticket, its first
// message (the description), its attachments' metadata and a "filed" event.
// Attachment files are written to DataDir/attachments first. It returns the
// ticket and its access token, which is not stored (only its SHA-256 is) and
// cannot be recovered. A *ValidationError means nothing was stored.
//
// With an IdempotencyKey, the key is stored in the same transaction, so a
// filing committed but never acknowledged (a crash, a dropped connection)
// is found again: a repeat with the same key and filing returns the first
// ticket and its token, and stores nothing; with another filing,
// ErrKeyReused.
func (s *Store) File(ctx context.Context, t NewTicket) (Ticket, string, error) {
	c, err := validate(t, s.stop)
	if err != nil {
		return Ticket{}, "", err
	}
	var key *filingKey
	if t.IdempotencyKey != "" {
		k := newFilingKey(t.IdempotencyKey, c)
		key = &k
		if tk, token, ok, err := s.repeated(ctx, k); err != nil || ok {
			if err != nil {
				return Ticket{}, "", fmt.Errorf("tickets: file: %w", err)
			}
			return tk, token, nil
		}
	}
	infos := make([]AttachmentInfo, len(c.attachments))
	for i, a := range c.attachments {
		if err := s.storeAttachment(a.SHA256, a.data); err != nil {
			return Ticket{}, "", fmt.Errorf("tickets: file: attachment %s: %w", a.Name, err)
		}
		infos[i] = a.AttachmentInfo
	}
	token, hash, err := newToken()
	if err != nil {
		return Ticket{}, "", fmt.Errorf("tickets: file: %w", err)
	}
	var sealed []byte
	if key != nil {
		if sealed, err = key.seal(token); err != nil {
			return Ticket{}, "", fmt.Errorf("tickets: file: %w", err)
		}
	}
	cust := s.plans.get().lookup(c.Email)
	now := s.now().UTC()
	due, _ := s.calendar.get().Due(s.target(cust), now)
	tk := Ticket{
		Status: StatusNew, Plan: cust.Plan, Organisation: cust.Organisation,
		Severity: c.Severity, Subject: c.Subject, Lang: c.lang, AnswerInEnglish: answerInEnglish(c.lang),
		Name: c.Name, Company: c.Company, Phone: c.Phone, Email: c.Email,
		Version: c.Version, Deployment: string(c.Deployment), Environment: c.Environment, ErrorMessages: c.ErrorMessages,
		CreatedAt: now, UpdatedAt: now, SLADue: due, CallAfterReplies: callAfterReplies(cust), StatusMails: true,
		DeflectionSession: c.DeflectionSession, Attachments: infos,
	}
	if c.Severity <= 2 { // the policy: severity 1 and 2 are followed up by phone
		tk.CallRequired, tk.CallReason = true, callReasonSeverity
	}
	first := Message{Author: ActorCustomer, Body: c.Description, CreatedAt: now}
	ev := Event{Kind: KindFiled, Status: StatusNew, SLADue: due, Actor: ActorCustomer, At: now}

	// The work inside the transaction must not be interrupted by the
	// caller giving up: it shares the transaction with others (group commit).
	wctx := context.WithoutCancel(ctx)
	err = s.write(ctx, func(tx *sqlitedb.Tx) error {
		if key != nil {
			if err := s.claimKey(wctx, tx, *key); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(wctx, `SELECT coalesce(max(number), 1000) + 1 FROM tickets`).Scan(&tk.Number); err != nil {
			return err
		}
		// A plan granted by the domain waits for the address's confirmation.
		rank, err := s.holdPlanTx(wctx, tx, &tk, &ev, cust)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(wctx, `INSERT INTO tickets (number, token_hash, status, plan, organisation, severity,
			subject, lang, answer_in_english, name, company, phone, email, version, deployment, environment,
			error_messages, created_at, updated_at, sla_due, call_required, call_reason, call_after_replies, queue_rank,
			deflection_session, pending_plan)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			tk.Number, hash[:], tk.Status, tk.Plan, tk.Organisation, tk.Severity,
			tk.Subject, tk.Lang, tk.AnswerInEnglish, tk.Name, tk.Company, tk.Phone, tk.Email, tk.Version, tk.Deployment, tk.Environment,
			tk.ErrorMessages, formatTime(now), formatTime(now), nullTime(tk.SLADue), tk.CallRequired, tk.CallReason, tk.CallAfterReplies,
			rank, tk.DeflectionSession, tk.PendingPlan)
		if err != nil {
			return err
		}
		if tk.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if first.ID, err = insertMessage(wctx, tx, tk.ID, first, 0); err != nil {
			return err
		}
		for _, a := range tk.Attachments {
			if _, err := tx.ExecContext(wctx, `INSERT INTO ticket_attachments (ticket_id, name, content_type, sha256, size, message_id) VALUES (?, ?, ?, ?, ?, ?)`,
				tk.ID, a.Name, a.ContentType, a.SHA256, a.Size, first.ID); err != nil {
				return err
			}
		}
		for i := range tk.Attachments {
			tk.Attachments[i].MessageID = first.ID
		}
		ev.Number, ev.Plan = tk.Number, tk.Plan
		d := dataOf(ev)
		ev.Seq, err = insertEvent(wctx, tx, tk.ID, ev, d, 0)
		if err != nil {
			return err
		}
		if key != nil {
			if err := storeKey(wctx, tx, *key, tk.ID, sealed, now); err != nil {
				return err
			}
		}
		if err := s.notifyFiledTx(wctx, tx, tk, token); err != nil {
			return err
		}
		if tk.DeflectionSession == "" {
			return nil
		}
		return s.onFiledTx(wctx, tx, tk.DeflectionSession, tk.Number)
	})
	if errors.Is(err, errRepeat) { // a concurrent repeat committed first
		var ok bool
		tk, token, ok, err = s.repeated(ctx, *key)
		if err == nil && !ok {
			err = errors.New("idempotency key vanished")
		}
		if err != nil {
			return Ticket{}, "", fmt.Errorf("tickets: file: %w", err)
		}
		return tk, token, nil
	}
	if err != nil {
		return Ticket{}, "", fmt.Errorf("tickets: file: %w", err)
	}
	tk.Messages = []Message{first}
	tk.History = []Event{ev}
	s.log.Info("ticket filed", "number", tk.Number, "plan", tk.Plan, "severity", tk.Severity, "lang", tk.Lang)
	s.onEvent(ev)
	return tk, token, nil
}

// newToken returns a ticket's access token (32 random bytes, base64url) and
// the SHA-256 that is stored in its place.
func newToken() (string, [32]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", [32]byte{}, err
	}
	token := base64.RawURLEncoding.EncodeToString(b[:])
	return token, sha256.Sum256([]byte(token)), nil
}

// Get returns the ticket with that number, as its customer sees it (see
// ForCustomer), if token is its access token. A wrong or missing token gives
// ErrNotFound, exactly as a missing ticket does; the hashes are compared in
// constant time.
func (s *Store) Get(ctx context.Context, number int, token string) (Ticket, error) {
	want := sha256.Sum256([]byte(token))
	tk, stored, err := s.load(ctx, number)
	found := err == nil
	if errors.Is(err, ErrNotFound) {
		stored = make([]byte, len(want)) // compare anyway, so a missing ticket costs the same
	} else if err != nil {
		return Ticket{}, fmt.Errorf("tickets: get #%d: %w", number, err)
	}
	match := subtle.ConstantTimeCompare(stored, want[:]) == 1
	if found && !match && token != "" {
		// A link token minted for a mail (MintLinkTx); looked up by its
		// hash, so its comparison leaks nothing either.
		if match, err = s.linkValid(ctx, tk.ID, want); err != nil {
			return Ticket{}, fmt.Errorf("tickets: get #%d: %w", number, err)
		}
	}
	if !found || !match || token == "" {
		return Ticket{}, fmt.Errorf("tickets: get #%d: %w", number, ErrNotFound)
	}
	return tk.ForCustomer(), nil
}

// GetTx is GetByNumber inside the caller's write transaction: it sees the
// transaction's own changes (a NotifyTx hook renders a mail from them).
func (s *Store) GetTx(ctx context.Context, tx *sqlitedb.Tx, number int) (Ticket, error) {
	tk, _, err := s.loadFrom(ctx, tx, number)
	if err != nil {
		return Ticket{}, fmt.Errorf("tickets: get #%d: %w", number, err)
	}
	return tk, nil
}

// GetByNumber returns a whole ticket, internal notes included, without
// checking a token, for trusted callers (the agent console, the command
// line).
func (s *Store) GetByNumber(ctx context.Context, number int) (Ticket, error) {
	tk, _, err := s.load(ctx, number)
	if err != nil {
		return Ticket{}, fmt.Errorf("tickets: get #%d: %w", number, err)
	}
	return tk, nil
}

// load reads a ticket with its messages, attachments and history in one
// statement, so that they are one consistent snapshot: a live page that
// shows it and then asks for EventsAfter its last Seq neither misses nor
// doubles a change. It also returns the token hash.
func (s *Store) load(ctx context.Context, number int) (Ticket, []byte, error) {
	return s.loadFrom(ctx, s.db, number)
}

// rowQuerier is the database or a transaction.
type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) loadFrom(ctx context.Context, q rowQuerier, number int) (Ticket, []byte, error) {
	var (
		tk                                 Ticket
		hash                               []byte
		created, updated                   string
		due, paused                        sql.NullString
		messagesJSON, attsJSON, eventsJSON string
	)
	err := q.QueryRowContext(ctx, `SELECT t.id, t.number, t.token_hash, t.status, t.plan, t.organisation, t.severity,
		t.subject, t.lang, t.answer_in_english, t.name, t.company, t.phone, t.email, t.version, t.deployment,
		t.environment, t.error_messages, t.created_at, t.updated_at, t.sla_due, t.paused_at, t.call_required, t.call_reason,
		t.agent_replies, t.replies_since_call, t.call_after_replies, coalesce(t.assignee_id, 0), t.assignee_name, t.deflection_session,
		t.status_mails, t.pending_plan,
		(SELECT json_group_array(json_array(m.id, m.author, m.body, m.created_at, json(iif(m.internal, 'true', 'false')),
				json(iif(m.call, 'true', 'false')), m.staff_name) ORDER BY m.id)
			FROM ticket_messages m WHERE m.ticket_id = t.id),
		(SELECT json_group_array(json_array(a.name, a.content_type, a.sha256, a.size, coalesce(a.message_id, 0)) ORDER BY a.id)
			FROM ticket_attachments a WHERE a.ticket_id = t.id),
		(SELECT json_group_array(json_array(e.id, e.kind, e.actor, json(e.data), e.at, e.message_id,
				coalesce(e.staff_id, 0), e.staff_name, json(iif(e.internal, 'true', 'false'))) ORDER BY e.id)
			FROM ticket_events e WHERE e.ticket_id = t.id)
		FROM tickets t WHERE t.number = ?`, number).Scan(
		&tk.ID, &tk.Number, &hash, &tk.Status, &tk.Plan, &tk.Organisation, &tk.Severity,
		&tk.Subject, &tk.Lang, &tk.AnswerInEnglish, &tk.Name, &tk.Company, &tk.Phone, &tk.Email, &tk.Version, &tk.Deployment,
		&tk.Environment, &tk.ErrorMessages, &created, &updated, &due, &paused, &tk.CallRequired, &tk.CallReason,
		&tk.AgentReplies, &tk.RepliesSinceCall, &tk.CallAfterReplies, &tk.Assignee.ID, &tk.Assignee.Name, &tk.DeflectionSession,
		&tk.StatusMails, &tk.PendingPlan,
		&messagesJSON, &attsJSON, &eventsJSON)
	if errors.Is(err, sql.ErrNoRows) {
		return Ticket{}, nil, ErrNotFound
	}
	if err != nil {
		return Ticket{}, nil, err
	}
	var perr error
	tk.CreatedAt, perr = parseTime(created, perr)
	tk.UpdatedAt, perr = parseTime(updated, perr)
	if due.Valid {
		tk.SLADue, perr = parseTime(due.String, perr)
	}
	if paused.Valid {
		tk.SLAPausedAt, perr = parseTime(paused.String, perr)
	}

	var rows [][]json.RawMessage
	if err := json.Unmarshal([]byte(messagesJSON), &rows); err != nil {
		return Ticket{}, nil, fmt.Errorf("messages: %w", err)
	}
	byID := map[int64]*Message{}
	tk.Messages = make([]Message, len(rows))
	for i, r := range rows {
		var at string
		m := &tk.Messages[i]
		perr = unmarshalRow(r, perr, &m.ID, &m.Author, &m.Body, &at, &m.Internal, &m.Call, &m.StaffName)
		m.CreatedAt, perr = parseTime(at, perr)
	}
	sort.Slice(tk.Messages, func(i, j int) bool { return tk.Messages[i].ID < tk.Messages[j].ID })
	for i := range tk.Messages {
		byID[tk.Messages[i].ID] = &tk.Messages[i]
	}

	rows = nil
	if err := json.Unmarshal([]byte(attsJSON), &rows); err != nil {
		return Ticket{}, nil, fmt.Errorf("attachments: %w", err)
	}
	tk.Attachments = make([]AttachmentInfo, len(rows))
	for i, r := range rows {
		a := &tk.Attachments[i]
		perr = unmarshalRow(r, perr, &a.Name, &a.ContentType, &a.SHA256, &a.Size, &a.MessageID)
	}

	rows = nil
	if err := json.Unmarshal([]byte(eventsJSON), &rows); err != nil {
		return Ticket{}, nil, fmt.Errorf("events: %w", err)
	}
	tk.History = make([]Event, len(rows))
	for i, r := range rows {
		var (
			data  eventData
			at    string
			msgID *int64
		)
		e := &tk.History[i]
		perr = unmarshalRow(r, perr, &e.Seq, &e.Kind, &e.Actor, &data, &at, &msgID, &e.Staff.ID, &e.Staff.Name, &e.Internal)
		e.Number = tk.Number
		e.At, perr = parseTime(at, perr)
		perr = data.apply(e, perr)
		if msgID != nil {
			if m, ok := byID[*msgID]; ok {
				m := *m
				e.Message = &m
			}
		}
	}
	sort.Slice(tk.History, func(i, j int) bool { return tk.History[i].Seq < tk.History[j].Seq })
	if perr != nil {
		return Ticket{}, nil, perr
	}
	return tk, hash, nil
}

// unmarshalRow decodes the columns of a JSON array row into dst, unless an
// earlier step failed.
func unmarshalRow(row []json.RawMessage, err error, dst ...any) error {
	if err != nil {
		return err
	}
	if len(row) != len(dst) {
		return fmt.Errorf("row has %d columns, want %d", len(row), len(dst))
	}
	for i := range dst {
		if err := json.Unmarshal(row[i], dst[i]); err != nil {
			return err
		}
	}
	return nil
}

// apply copies the event data into e.
func (d eventData) apply(e *Event, err error) error {
	e.Status, e.From, e.Severity, e.Reason, e.Call, e.Plan = d.Status, d.From, d.Severity, d.Reason, d.Call, d.Plan
	e.Assignee = Staff{ID: d.AssigneeID, Name: d.AssigneeName}
	if d.SLADue != "" {
		e.SLADue, err = parseTime(d.SLADue, err)
	}
	return err
}

// maxEventsSince caps one EventsSince call.
const maxEventsSince = 1000

// EventsSince returns up to limit events of all tickets with Seq > after,
// oldest first (limit <= 0 or over 1000 means 1000). A poller that passes the
// last Seq it saw picks up every change, including those another process
// (the command line) made: SQLite's single writer makes Seqs visible in
// increasing order.
func (s *Store) EventsSince(ctx context.Context, after int64, limit int) ([]Event, error) {
	if limit <= 0 || limit > maxEventsSince {
		limit = maxEventsSince
	}
	evs, err := s.events(ctx, `WHERE e.id > ? ORDER BY e.id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("tickets: events since %d: %w", after, err)
	}
	return evs, nil
}

func (s *Store) events(ctx context.Context, where string, args ...any) ([]Event, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT e.id, t.number, e.kind, e.actor, e.data, e.at,
		coalesce(e.staff_id, 0), e.staff_name, e.internal,
		m.id, m.author, m.body, m.created_at, m.internal, m.call, m.staff_name
		FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
		LEFT JOIN ticket_messages m ON m.id = e.message_id `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	evs := []Event{}
	for rows.Next() {
		var (
			e                                   Event
			data, at                            string
			msgID                               sql.NullInt64
			author, body, msgCreated, staffName sql.NullString
			internal, call                      sql.NullBool
		)
		if err := rows.Scan(&e.Seq, &e.Number, &e.Kind, &e.Actor, &data, &at, &e.Staff.ID, &e.Staff.Name, &e.Internal,
			&msgID, &author, &body, &msgCreated, &internal, &call, &staffName); err != nil {
			return nil, err
		}
		var d eventData
		if err := json.Unmarshal([]byte(data), &d); err != nil {
			return nil, err
		}
		var perr error
		e.At, perr = parseTime(at, perr)
		perr = d.apply(&e, perr)
		if msgID.Valid {
			m := Message{ID: msgID.Int64, Author: author.String, Body: body.String,
				Internal: internal.Bool, Call: call.Bool, StaffName: staffName.String}
			m.CreatedAt, perr = parseTime(msgCreated.String, perr)
			e.Message = &m
		}
		if perr != nil {
			return nil, perr
		}
		evs = append(evs, e)
	}
	return evs, rows.Err()
}

// write runs fn in a write transaction and returns once it is committed.
func (s *Store) write(ctx context.Context, fn func(*sqlitedb.Tx) error) error {
	return s.db.Write(ctx, fn)
}

func insertMessage(ctx context.Context, tx *sqlitedb.Tx, ticketID int64, m Message, staffID int64) (int64, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO ticket_messages (ticket_id, author, body, created_at, internal, call, staff_id, staff_name)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		ticketID, m.Author, m.Body, formatTime(m.CreatedAt), m.Internal, m.Call, nullID(staffID), m.StaffName)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

func insertEvent(ctx context.Context, tx *sqlitedb.Tx, ticketID int64, e Event, d eventData, messageID int64) (int64, error) {
	data, err := json.Marshal(d)
	if err != nil {
		return 0, err
	}
	var msg any
	if messageID != 0 {
		msg = messageID
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO ticket_events (ticket_id, kind, actor, staff_id, staff_name, internal, message_id, data, at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ticketID, e.Kind, e.Actor, nullID(e.Staff.ID), e.Staff.Name, e.Internal, msg, string(data), formatTime(e.At))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// Times are stored in sqlitedb's one fixed-width layout, so that they
// compare correctly as text (the queue's SLA filters do).
func formatTime(t time.Time) string { return sqlitedb.FormatTime(t) }

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return formatTime(t)
}

func nullTimeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func parseTime(s string, err error) (time.Time, error) {
	if err != nil {
		return time.Time{}, err
	}
	return sqlitedb.ParseTime(s)
}
