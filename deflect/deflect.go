// Package deflect records deflection sessions: a customer drafting a ticket
// is shown matching articles while typing, and either solves the problem with
// one of them, files the ticket, or gives up. Each session is a row of
// deflect_sessions and its history a series of rows in deflect_events; the
// operators' deflection metrics are computed from them (docs/metrics.md).
//
// The database is the truth about every session. Memory holds only what
// the keystroke path needs, per session this process has seen: the search
// intents not yet written (a burst of keystrokes is one intent: the last
// query and its suggestions) and the time of the last activity. Invariants:
//
//   - Suggested and Touch never write; everything else writes through the
//     database's one writer, and every write checks in the database (in its
//     transaction) that the session is still open.
//   - A session's unwritten intents are written before its next event, in
//     the same transaction, so the events of a session are in order.
//   - A write that keeps the session open takes the intents out of memory,
//     and puts them back if it is undone; a write that ends the session
//     copies them and forgets the session once committed (Tx.OnCommit). A
//     later write in the same transaction then finds the session ended, so
//     nothing is written twice.
//   - Nothing here runs inside another caller's transaction except
//     TicketFiled/FiledTx and StartEmailTx, which never call Write (that
//     would wait for itself). StartEmailTx writes everything it records at
//     once and keeps nothing in memory: a session mailed to a customer has
//     no keystrokes.
//   - Memory may briefly believe a session open that has ended (in another
//     process, or in a write racing with a keystroke); a keystroke accepted
//     then is dropped by the next write, which finds the session ended and
//     forgets it. Forgetting an open session is always safe: the next call
//     loads it again from the database.
//   - Lost, by design: intents not yet written if the process is killed (at
//     most a burst and a minute of last activity per session), and, if a
//     commit fails, the intents of a session another call of the same batch
//     found ended.
package deflect

import (
	"context"
	"crypto/rand"
	"database/sql"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrUnknownSession is returned (wrapped) for a session id that was never started.
var ErrUnknownSession = errors.New("unknown deflection session")

// ErrSessionClosed is returned (wrapped) for a session that was solved, filed
// or abandoned: it accepts nothing more.
var ErrSessionClosed = errors.New("deflection session already ended")

// errTrackerClosed is returned by calls made after Close.
var errTrackerClosed = errors.New("tracker closed")

// Sources of sessions, as stored in deflect_sessions.source.
const (
	SourceWeb   = "web"   // a draft on the ticket form
	SourceEmail = "email" // a question mailed to the support address
)

// EmailAbandonAfter is how long a session started by a mailed question
// stays open without activity: the answer's "file my ticket" link is
// valid as long (package mailroute), and filing through it ends the
// session as filed.
const EmailAbandonAfter = 7 * 24 * time.Hour

// Event kinds, as stored in deflect_events.kind.
const (
	KindStarted   = "started"
	KindSuggested = "suggested"
	KindOpened    = "opened"
	KindSolved    = "solved"
	KindContinued = "continued"
	KindFiled     = "filed"
	KindAbandoned = "abandoned"
)

// Config configures a Tracker. Only DB is required.
type Config struct {
	DB     *sqlitedb.DB
	Now    func() time.Time // nil = time.Now
	Logger *slog.Logger     // nil = discard
	// BurstGap: suggestions closer together than this belong to one search
	// intent. 0 = 2s.
	BurstGap time.Duration
	// AbandonAfter: an open session without activity for this long is
	// abandoned. 0 = 30 minutes. A session of SourceEmail: EmailAbandonAfter.
	AbandonAfter time.Duration
	// OnSuggested, if not nil, is called for each answer to a draft that
	// showed at least one article (each Suggested call, not each intent),
	// for the operators' metrics.
	OnSuggested func()
	// OnOutcome, if not nil, is called once a session's end is committed,
	// with its outcome: "solved", "filed" or "abandoned".
	OnOutcome func(outcome string)
}

// Event is one row of a session's history.
type Event struct {
	Seq      int64 // deflect_events.id: increases with every event written
	Session  string
	Kind     string
	At       time.Time
	Query    string   // suggested
	Articles []string // suggested: article ids in rank order
	// BelowFloor (suggested) counts the matching articles not shown because
	// they matched too weakly. A suggested event without Articles is a
	// draft with no good match (NoGoodMatch).
	BelowFloor int
	Article    string // opened, solved
	Ticket     int    // filed
	Source     string // the session's: SourceWeb or SourceEmail
}

// NoGoodMatch reports whether the event is a search intent for which no
// article was shown: nothing matched the draft, or nothing well enough (a
// content gap).
func (e Event) NoGoodMatch() bool {
	return e.Kind == KindSuggested && len(e.Articles) == 0
}

// Tracker records deflection sessions. It is safe for concurrent use.
type Tracker struct {
	db           *sqlitedb.DB
	now          func() time.Time
	log          *slog.Logger
	burstGap     time.Duration
	abandonAfter time.Duration
	onSuggested  func()       // never nil
	onOutcome    func(string) // never nil

	// mu guards the map and closed; each draft has a lock of its own, so
	// that keystrokes of different customers do not wait for each other.
	mu     sync.RWMutex
	drafts map[string]*draft // open sessions seen by this process
	closed bool              // set by Close

	stop     chan struct{}
	exited   chan struct{}
	closeErr error
	closer   sync.Once
}

// draft is what memory holds of an open session; mu guards the rest.
type draft struct {
	mu           sync.Mutex
	gone         bool      // dropped from the map: the session ended (or is reloaded)
	intents      []intent  // not yet written, oldest first; the last may be a burst in progress
	lastActivity time.Time // newest Suggested or Touch
	stored       time.Time // last activity known to be in deflect_sessions
}

// intent is one search intent: the last query of a burst of keystrokes and
// the suggestions shown for it.
type intent struct {
	at         time.Time // of the burst's last keystroke
	query      string
	articles   []string
	belowFloor int // matches too weak to be shown
}

// Open applies the migrations, abandons the sessions idle for longer than
// AbandonAfter (the server may have been down), and starts the background
// writer of ended bursts and the abandonment sweeper.
func Open(cfg Config) (*Tracker, error) {
	if cfg.DB == nil {
		return nil, errors.New("deflect: open: Config.DB is required")
	}
	t := &Tracker{
		db:           cfg.DB,
		now:          cfg.Now,
		log:          cfg.Logger,
		burstGap:     cfg.BurstGap,
		abandonAfter: cfg.AbandonAfter,
		onSuggested:  cfg.OnSuggested,
		onOutcome:    cfg.OnOutcome,
		drafts:       map[string]*draft{},
		stop:         make(chan struct{}),
		exited:       make(chan struct{}),
	}
	if t.now == nil {
		t.now = time.Now
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.burstGap <= 0 {
		t.burstGap = 2 * time.Second
	}
	if t.abandonAfter <= 0 {
		t.abandonAfter = 30 * time.Minute
	}
	if t.onSuggested == nil {
		t.onSuggested = func() {}
	}
	if t.onOutcome == nil {
		t.onOutcome = func(string) {}
	}
	if err := t.db.Migrate("deflect", migrations, "migrations"); err != nil {
		return nil, fmt.Errorf("deflect: open: %w", err)
	}
	if err := t.sweep(context.Background()); err != nil {
		return nil, fmt.Errorf("deflect: open: %w", err)
	}
	go t.run(clamp(t.burstGap/4, 10*time.Millisecond, 500*time.Millisecond), clamp(t.abandonAfter/10, time.Second, time.Minute))
	return t, nil
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}

// run writes ended bursts and abandons idle sessions until Close.
func (t *Tracker) run(flushEvery, sweepEvery time.Duration) {
	defer close(t.exited)
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	ctx := context.Background()
	// Both retry on their timers: on a full disk, a line a minute each.
	flushing := sqlitedb.FailureLog{Log: t.log, What: "deflect: writing search intents"}
	sweeping := sqlitedb.FailureLog{Log: t.log, What: "deflect: abandoning idle sessions"}
	for {
		select {
		case <-t.stop:
			return
		case <-flush.C:
			flushing.Note(t.flush(ctx, false), 0)
		case <-sweep.C:
			sweeping.Note(t.sweep(ctx), 0)
		}
	}
}

// Close stops the background work, writes every pending search intent,
// abandons idle sessions and records the others' last activity. It does not
// close the database. Later calls (except Trail) return an error.
func (t *Tracker) Close() error {
	t.closer.Do(func() {
		t.mu.Lock()
		t.closed = true // no new intents from here on
		t.mu.Unlock()
		close(t.stop)
		<-t.exited
		ctx := context.Background()
		if err := t.flush(ctx, true); err != nil {
			t.closeErr = fmt.Errorf("deflect: close: %w", err)
			return
		}
		if err := t.sweep(ctx); err != nil {
			t.closeErr = fmt.Errorf("deflect: close: %w", err)
		}
	})
	return t.closeErr
}

// Start begins a session for a customer who opened the ticket form, and
// returns its id.
func (t *Tracker) Start(ctx context.Context, lang string) (string, error) {
	if t.isClosed() {
		return "", fmt.Errorf("deflect: start: %w", errTrackerClosed)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("deflect: start: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	now := t.clock()
	err := t.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		if _, err := tx.Exec(`INSERT INTO deflect_sessions (id, lang, started_at, last_activity_at) VALUES (?, ?, ?, ?)`,
			id, lang, sqlitedb.FormatTime(now), sqlitedb.FormatTime(now)); err != nil {
			return err
		}
		return insertEvent(tx, id, row{kind: KindStarted, at: now})
	})
	if err != nil {
		return "", fmt.Errorf("deflect: start: %w", err)
	}
	t.mu.Lock()
	t.drafts[id] = &draft{lastActivity: now, stored: now}
	t.mu.Unlock()
	return id, nil
}

// StartEmailTx begins a session for a question mailed to the support
// address, inside the caller's write transaction (the answer mail commits
// with it): the session (source email, in lang), its "started" event and
// one "suggested" event for the articles the answer shows (none: no good
// match, belowFloor as Suggested's). Nothing is kept in memory. The
// session stays open for EmailAbandonAfter without activity.
func (t *Tracker) StartEmailTx(ctx context.Context, tx *sqlitedb.Tx, lang, query string, articleIDs []string, belowFloor int) (string, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("deflect: start: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	now := t.clock()
	if _, err := tx.ExecContext(ctx, `INSERT INTO deflect_sessions (id, lang, started_at, last_activity_at, source) VALUES (?, ?, ?, ?, ?)`,
		id, lang, sqlitedb.FormatTime(now), sqlitedb.FormatTime(now), SourceEmail); err != nil {
		return "", fmt.Errorf("deflect: start: %w", err)
	}
	if err := insertEvent(tx, id, row{kind: KindStarted, at: now}); err != nil {
		return "", fmt.Errorf("deflect: start: %w", err)
	}
	in := intent{at: now, query: query, articles: articleIDs, belowFloor: belowFloor}
	if err := insertEvent(tx, id, suggestedRow(in)); err != nil {
		return "", fmt.Errorf("deflect: start: %w", err)
	}
	if len(articleIDs) > 0 {
		tx.OnCommit(t.onSuggested)
	}
	return id, nil
}

// Touch checks that the session exists and is open, and counts as activity
// (it delays abandonment). It does not write to the database.
func (t *Tracker) Touch(ctx context.Context, id string) error {
	now := t.clock()
	d, err := t.lockDraft(ctx, id)
	if err != nil {
		return fmt.Errorf("deflect: touch: %w", err)
	}
	d.lastActivity = later(d.lastActivity, now)
	d.mu.Unlock()
	return nil
}

// Suggested records that suggestions were shown for a query: articleIDs,
// and belowFloor matching articles left out as too weak (none shown is a
// draft with no good match). Keystroke
// bursts are coalesced into one search intent: a call within BurstGap of the
// previous one in the same session replaces the burst's intent (latest query
// and suggestions win). An intent is written as one "suggested" event when
// its burst ends (BurstGap of silence, checked by a background ticker), or
// before any other event of the session. Suggested itself never writes to
// the database.
func (t *Tracker) Suggested(ctx context.Context, id, query string, articleIDs []string, belowFloor int) error {
	now := t.clock()
	d, err := t.lockDraft(ctx, id)
	if err != nil {
		return fmt.Errorf("deflect: suggested: %w", err)
	}
	defer d.mu.Unlock()
	if len(articleIDs) > 0 {
		t.onSuggested()
	}
	d.lastActivity = later(d.lastActivity, now)
	if n := len(d.intents); n > 0 && now.Sub(d.intents[n-1].at) < t.burstGap {
		last := &d.intents[n-1]
		last.at = later(last.at, now)
		last.query = query
		last.articles = append(last.articles[:0], articleIDs...)
		last.belowFloor = belowFloor
		return nil
	}
	d.intents = append(d.intents, intent{at: now, query: query, articles: append([]string(nil), articleIDs...), belowFloor: belowFloor})
	return nil
}

// lockDraft returns the session's draft, locked. A session not in memory is looked up in the database first (normally one that ended or
// never existed; an open one, started before a restart or by another
// process, is added to memory).
func (t *Tracker) lockDraft(ctx context.Context, id string) (*draft, error) {
	for {
		t.mu.RLock()
		closed, d := t.closed, t.drafts[id]
		t.mu.RUnlock()
		if closed {
			return nil, errTrackerClosed
		}
		if d == nil {
			break
		}
		d.mu.Lock()
		if !d.gone {
			return d, nil
		}
		d.mu.Unlock() // forgotten meanwhile: look again
	}

	if !validID(id) {
		return nil, ErrUnknownSession
	}
	var last string
	var ended bool
	err := t.db.QueryRowContext(ctx, `SELECT last_activity_at, ended_at IS NOT NULL FROM deflect_sessions WHERE id = ?`, id).Scan(&last, &ended)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, ErrUnknownSession
	case err != nil:
		return nil, err
	case ended:
		return nil, ErrSessionClosed
	}
	at, err := sqlitedb.ParseTime(last)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil, errTrackerClosed
	}
	d := t.drafts[id]
	if d == nil {
		d = &draft{lastActivity: at, stored: at}
		t.drafts[id] = d
	}
	d.mu.Lock() // not gone: forget deletes from the map first, under t.mu
	t.mu.Unlock()
	return d, nil
}

// Opened records that the customer opened a suggested article, once per
// session and article (a repeat is no error and records nothing).
func (t *Tracker) Opened(ctx context.Context, id, articleID string) error {
	if articleID == "" {
		return errors.New("deflect: opened: article is required")
	}
	if !validID(id) {
		return fmt.Errorf("deflect: opened: %w", ErrUnknownSession)
	}
	if t.isClosed() {
		return fmt.Errorf("deflect: opened: %w", errTrackerClosed)
	}
	// Once per session and article: link scanners, and a reader coming
	// back, open a link again and again; the figures count readers.
	err := t.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM deflect_events WHERE session_id = ? AND kind = ? AND article = ?`,
			id, KindOpened, articleID).Scan(&n); err != nil {
			return err
		}
		ev := &row{kind: KindOpened, article: articleID}
		if n > 0 {
			ev = nil // the intents written all the same, as before
		}
		return t.writeEvent(tx, id, ev, "", t.clock())
	})
	if err != nil {
		return fmt.Errorf("deflect: opened: %w", err)
	}
	return nil
}

// Solved records that an article solved the customer's problem, and ends the session.
func (t *Tracker) Solved(ctx context.Context, id, articleID string) error {
	if articleID == "" {
		return errors.New("deflect: solved: article is required")
	}
	if err := t.record(ctx, id, &row{kind: KindSolved, article: articleID}, "solved"); err != nil {
		return fmt.Errorf("deflect: solved: %w", err)
	}
	return nil
}

// Continued records that the customer chose "None of these help — continue"
// and went on to the rest of the ticket form.
func (t *Tracker) Continued(ctx context.Context, id string) error {
	if err := t.record(ctx, id, &row{kind: KindContinued}, ""); err != nil {
		return fmt.Errorf("deflect: continued: %w", err)
	}
	return nil
}

// FiledTx records that the customer filed ticket ticketNumber, and ends the
// session, inside the caller's write transaction, so that a ticket and its
// session's "filed" event commit (or are undone) together. The session is
// forgotten once the transaction commits.
func (t *Tracker) FiledTx(ctx context.Context, tx *sqlitedb.Tx, id string, ticketNumber int) error {
	if ticketNumber <= 0 {
		return fmt.Errorf("deflect: filed: ticket number %d must be positive", ticketNumber)
	}
	if !validID(id) {
		return fmt.Errorf("deflect: filed: %w", ErrUnknownSession)
	}
	// Even after Close: the filing must not fail for it.
	if err := t.writeEvent(tx, id, &row{kind: KindFiled, ticket: ticketNumber}, "filed", t.clock()); err != nil {
		return fmt.Errorf("deflect: filed: %w", err)
	}
	return nil
}

// TicketFiled is the tickets.Config.OnFiledTx hook: FiledTx, except that a
// session that is unknown or already ended (a draft kept in a browser for
// days) must not stop the customer from filing, so only database errors
// fail the filing.
func (t *Tracker) TicketFiled(ctx context.Context, tx *sqlitedb.Tx, id string, ticketNumber int) error {
	err := t.FiledTx(ctx, tx, id, ticketNumber)
	if errors.Is(err, ErrUnknownSession) || errors.Is(err, ErrSessionClosed) {
		return nil
	}
	return err
}

// Trail returns a session's events in order, after writing its unwritten
// search intents.
func (t *Tracker) Trail(ctx context.Context, id string) ([]Event, error) {
	if !t.isClosed() {
		err := t.db.Write(ctx, func(tx *sqlitedb.Tx) error {
			return t.writeEvent(tx, id, nil, "", t.clock())
		})
		if err != nil && !errors.Is(err, ErrSessionClosed) && !errors.Is(err, ErrUnknownSession) {
			return nil, fmt.Errorf("deflect: trail: %w", err)
		}
	}
	rows, err := t.db.QueryContext(ctx, `SELECT e.id, e.kind, e.at, coalesce(e.query, ''), coalesce(e.articles, ''), coalesce(e.article, ''),
			coalesce(e.ticket, 0), coalesce(e.below_floor, 0), s.source
		FROM deflect_events e JOIN deflect_sessions s ON s.id = e.session_id WHERE e.session_id = ? ORDER BY e.id`, id)
	if err != nil {
		return nil, fmt.Errorf("deflect: trail: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e := Event{Session: id}
		var at, articles string
		if err := rows.Scan(&e.Seq, &e.Kind, &at, &e.Query, &articles, &e.Article, &e.Ticket, &e.BelowFloor, &e.Source); err != nil {
			return nil, fmt.Errorf("deflect: trail: %w", err)
		}
		if e.At, err = sqlitedb.ParseTime(at); err != nil {
			return nil, fmt.Errorf("deflect: trail: %w", err)
		}
		if e.Articles, err = decodeArticles(articles); err != nil {
			return nil, fmt.Errorf("deflect: trail: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("deflect: trail: %w", err)
	}
	if len(out) == 0 { // every session has a "started" event
		return nil, fmt.Errorf("deflect: trail: %w", ErrUnknownSession)
	}
	return out, nil
}

// record writes one event of an open session in a transaction of its own.
// outcome is "" or the outcome the event ends the session with.
func (t *Tracker) record(ctx context.Context, id string, ev *row, outcome string) error {
	if !validID(id) {
		return ErrUnknownSession
	}
	if t.isClosed() {
		return errTrackerClosed
	}
	return t.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		return t.writeEvent(tx, id, ev, outcome, t.clock())
	})
}

// writeEvent writes, in tx, the session's unwritten intents and then ev (if
// not nil; with nil, only the intents, and nothing at all if there are
// none). See the package comment for how memory follows the transaction.
func (t *Tracker) writeEvent(tx *sqlitedb.Tx, id string, ev *row, outcome string, now time.Time) error {
	ends := outcome != ""
	activity := now // the event is activity; abandonment is not
	if ev != nil && ev.kind == KindAbandoned {
		activity = time.Time{}
	}
	t.mu.RLock()
	d := t.drafts[id]
	t.mu.RUnlock()
	var intents []intent
	if d != nil {
		d.mu.Lock()
		intents = d.intents
		if ends {
			intents = copyIntents(intents)
		} else {
			d.intents = nil
		}
		activity = later(activity, d.lastActivity)
		d.mu.Unlock()
	}
	if ev == nil && len(intents) == 0 {
		return nil
	}
	if !ends && d != nil {
		tx.OnUndo(func() { t.putBack(id, d, intents) })
	}
	rows := make([]row, 0, len(intents)+1)
	for _, in := range intents {
		rows = append(rows, suggestedRow(in))
	}
	var end *ending
	if ev != nil {
		ev.at = now
		rows = append(rows, *ev)
		if ends {
			end = &ending{outcome: outcome, at: now, article: ev.article, ticket: ev.ticket}
		}
	}
	err := writeSession(tx, id, activity, rows, end)
	if errors.Is(err, errNotOpen) {
		t.forget(id)
		return notOpenReason(tx, id)
	}
	if err != nil {
		return err
	}
	switch {
	case ends:
		tx.OnCommit(func() {
			t.forget(id)
			t.onOutcome(outcome)
		})
	case d != nil:
		tx.OnCommit(func() {
			d.mu.Lock()
			d.stored = later(d.stored, activity)
			d.mu.Unlock()
		})
	}
	return nil
}

// putBack returns intents taken by a write that failed to the front of the
// session's draft, if the session is still held.
func (t *Tracker) putBack(id string, d *draft, intents []intent) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.gone {
		d.intents = append(intents, d.intents...)
	}
}

// forget drops a session that has ended from memory.
func (t *Tracker) forget(id string) {
	t.mu.Lock()
	d := t.drafts[id]
	delete(t.drafts, id)
	t.mu.Unlock()
	if d != nil {
		d.mu.Lock()
		d.gone = true
		d.mu.Unlock()
	}
}

// each calls fn for every draft in memory, with the draft locked. Keystrokes
// to other sessions go on meanwhile; new sessions wait.
func (t *Tracker) each(fn func(id string, d *draft)) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for id, d := range t.drafts {
		d.mu.Lock()
		fn(id, d)
		d.mu.Unlock()
	}
}

// flush writes the search intents whose burst has ended (every intent if
// all) in one transaction.
func (t *Tracker) flush(ctx context.Context, all bool) error {
	type work struct {
		id       string
		d        *draft
		intents  []intent
		activity time.Time
	}
	var works []work
	var notOpen []string
	now := t.clock()
	due := false
	t.each(func(_ string, d *draft) {
		n := len(d.intents)
		due = due || n > 1 || (n == 1 && (all || now.Sub(d.intents[0].at) >= t.burstGap))
	})
	if !due {
		return nil // no transaction (and no write lock) for nothing
	}
	err := t.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		works, notOpen = works[:0], notOpen[:0]
		now := t.clock()
		t.each(func(id string, d *draft) {
			n := len(d.intents)
			if n > 0 && !all && now.Sub(d.intents[n-1].at) < t.burstGap {
				n-- // the last burst goes on
			}
			if n > 0 {
				works = append(works, work{id: id, d: d, intents: d.intents[:n:n], activity: d.lastActivity})
				d.intents = d.intents[n:]
			}
		})
		tx.OnUndo(func() {
			for _, w := range works {
				t.putBack(w.id, w.d, w.intents)
			}
		})
		for i, w := range works {
			rows := make([]row, len(w.intents))
			for j, in := range w.intents {
				rows[j] = suggestedRow(in)
			}
			err := writeSession(tx, w.id, w.activity, rows, nil)
			if errors.Is(err, errNotOpen) {
				notOpen = append(notOpen, w.id)
				works[i].intents = nil
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	for _, id := range notOpen {
		t.forget(id)
	}
	if err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	for _, w := range works {
		w.d.mu.Lock()
		w.d.stored = later(w.d.stored, w.activity)
		w.d.mu.Unlock()
	}
	return nil
}

// sweep records the last activity of the sessions in memory (Touch and
// keystrokes are only in memory until then), then abandons every open
// session, in memory or not, idle for longer than AbandonAfter, in one
// transaction.
func (t *Tracker) sweep(ctx context.Context) error {
	var abandoned []string
	var touched map[*draft]time.Time
	err := t.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		now := t.clock()
		cutoff := sqlitedb.FormatTime(now.Add(-t.abandonAfter))
		emailCutoff := sqlitedb.FormatTime(now.Add(-EmailAbandonAfter))
		touched = map[*draft]time.Time{}
		ids := map[*draft]string{}
		t.each(func(id string, d *draft) {
			if d.lastActivity.After(d.stored) {
				touched[d], ids[d] = d.lastActivity, id
			}
		})
		for d, at := range touched {
			if _, err := tx.Exec(`UPDATE deflect_sessions SET last_activity_at = max(last_activity_at, ?) WHERE id = ? AND ended_at IS NULL`,
				sqlitedb.FormatTime(at), ids[d]); err != nil {
				return err
			}
		}
		rows, err := tx.Query(`SELECT id FROM deflect_sessions WHERE ended_at IS NULL
			AND last_activity_at < iif(source = 'email', ?, ?)`, emailCutoff, cutoff)
		if err != nil {
			return err
		}
		abandoned = abandoned[:0]
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			abandoned = append(abandoned, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, id := range abandoned {
			if err := t.writeEvent(tx, id, &row{kind: KindAbandoned}, "abandoned", now); err != nil && !errors.Is(err, ErrSessionClosed) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	cutoff := t.clock().Add(-t.abandonAfter)
	for d, at := range touched {
		d.mu.Lock()
		d.stored = later(d.stored, at)
		d.mu.Unlock()
	}
	var idle []string
	t.each(func(id string, d *draft) {
		if d.lastActivity.Before(cutoff) {
			idle = append(idle, id)
		}
	})
	t.mu.Lock()
	for _, id := range idle {
		d := t.drafts[id]
		if d == nil {
			continue // forgotten meanwhile
		}
		d.mu.Lock()
		// Abandoned now, or ended elsewhere; unless a keystroke came in
		// since it was picked.
		if d.lastActivity.Before(cutoff) && len(d.intents) == 0 {
			delete(t.drafts, id)
			d.gone = true
		}
		d.mu.Unlock()
	}
	t.mu.Unlock()
	return nil
}

func (t *Tracker) isClosed() bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.closed
}

// clock returns the current time as stored: UTC, milliseconds.
func (t *Tracker) clock() time.Time {
	return t.now().UTC().Truncate(time.Millisecond)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func copyIntents(in []intent) []intent {
	out := make([]intent, len(in))
	for i, x := range in {
		out[i] = intent{at: x.at, query: x.query, articles: append([]string(nil), x.articles...), belowFloor: x.belowFloor}
	}
	return out
}

// validID reports whether id could be a session id (22 base64url characters).
func validID(id string) bool {
	if len(id) != base64.RawURLEncoding.EncodedLen(16) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}
