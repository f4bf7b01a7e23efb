// Package deflect records deflection sessions: a customer drafting a ticket
// is shown matching articles while typing, and either solves the problem with
// one of them, files the ticket, or gives up. Each session is a row of
// deflect_sessions and its history a series of rows in deflect_events; the
// operators' deflection metrics are computed from them (docs/metrics.md).
//
// Suggestions arrive on every keystroke, so Suggested only updates memory:
// a burst of keystrokes becomes one search intent, written as one
// "suggested" event when the burst ends or before the session's next event.
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
	DB     *sql.DB          // opened with sqlitedb.Open (its transactions take the write lock at BEGIN)
	Now    func() time.Time // nil = time.Now
	Logger *slog.Logger     // nil = discard
	// BurstGap: suggestions closer together than this belong to one search
	// intent. 0 = 2s.
	BurstGap time.Duration
	// AbandonAfter: an open session without activity for this long is
	// abandoned. 0 = 30 minutes.
	AbandonAfter time.Duration
}

// Event is one row of a session's history.
type Event struct {
	Seq      int64 // deflect_events.id: increases with every event written
	Session  string
	Kind     string
	At       time.Time
	Query    string   // suggested
	Articles []string // suggested: article ids in rank order
	Article  string   // opened, solved
	Ticket   int      // filed
}

// Tracker records deflection sessions. It is safe for concurrent use.
type Tracker struct {
	db           *sql.DB
	now          func() time.Time
	log          *slog.Logger
	burstGap     time.Duration
	abandonAfter time.Duration

	mu     sync.RWMutex
	open   map[string]*session // sessions not known to have ended
	closed bool                // set by Close

	pendMu sync.Mutex
	pend   map[*session]struct{} // sessions with unwritten intents, or unsure of their state

	stop     chan struct{}
	exited   chan struct{}
	closeErr error
	closer   sync.Once
}

// session is the in-memory state of an open session. The database is the
// source of truth: every write checks there that the session is still open.
type session struct {
	id string

	mu           sync.Mutex
	lastActivity time.Time
	persisted    time.Time // last activity known to be in deflect_sessions
	ready        []intent  // ended bursts, oldest first, not yet written
	pending      intent    // the burst in progress, if hasPending
	hasPending   bool
	filings      int // FiledTx calls on this session, whose transaction may have ended it
	settled      int // filings known to have rolled back (a later write found the session open)
	ended        bool
}

// unsure reports whether a FiledTx may have ended the session without the
// tracker knowing yet. s.mu is held.
func (s *session) unsure() bool { return s.filings > s.settled }

// intent is one search intent: the last query of a burst of keystrokes and
// the suggestions shown for it.
type intent struct {
	at       time.Time // of the burst's last keystroke
	query    string
	articles []string
}

// Open applies the migrations, loads the open sessions, abandons those idle
// for longer than AbandonAfter (the server may have been down), and starts
// the background writer of ended bursts and the abandonment sweeper.
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
		open:         map[string]*session{},
		pend:         map[*session]struct{}{},
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
	if err := sqlitedb.Migrate(t.db, "deflect", migrations, "migrations"); err != nil {
		return nil, fmt.Errorf("deflect: open: %w", err)
	}
	if err := t.load(); err != nil {
		return nil, fmt.Errorf("deflect: open: %w", err)
	}
	ctx := context.Background()
	if err := t.sweep(ctx); err != nil {
		return nil, fmt.Errorf("deflect: open: %w", err)
	}
	go t.run(clamp(t.burstGap/4, 10*time.Millisecond, 500*time.Millisecond), clamp(t.abandonAfter/10, time.Second, time.Minute))
	return t, nil
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}

// load fills the map of open sessions from the database.
func (t *Tracker) load() error {
	rows, err := t.db.Query(`SELECT id, last_activity_at FROM deflect_sessions WHERE ended_at IS NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, last string
		if err := rows.Scan(&id, &last); err != nil {
			return err
		}
		at, err := parseTime(last)
		if err != nil {
			return fmt.Errorf("session %s: %w", id, err)
		}
		t.open[id] = &session{id: id, lastActivity: at, persisted: at}
	}
	return rows.Err()
}

// run writes ended bursts and abandons idle sessions until Close.
func (t *Tracker) run(flushEvery, sweepEvery time.Duration) {
	defer close(t.exited)
	flush := time.NewTicker(flushEvery)
	defer flush.Stop()
	sweep := time.NewTicker(sweepEvery)
	defer sweep.Stop()
	ctx := context.Background()
	for {
		select {
		case <-t.stop:
			return
		case <-flush.C:
			if err := t.flush(ctx, false); err != nil {
				t.log.Error("deflect: writing search intents", "err", err)
			}
		case <-sweep.C:
			if err := t.sweep(ctx); err != nil {
				t.log.Error("deflect: abandoning idle sessions", "err", err)
			}
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
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("deflect: start: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO deflect_sessions (id, lang, started_at, last_activity_at) VALUES (?, ?, ?, ?)`,
		id, lang, formatTime(now), formatTime(now)); err != nil {
		return "", fmt.Errorf("deflect: start: %w", err)
	}
	if err := insertEvent(ctx, tx, id, row{kind: KindStarted, at: now}); err != nil {
		return "", fmt.Errorf("deflect: start: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("deflect: start: %w", err)
	}
	t.mu.Lock()
	t.open[id] = &session{id: id, lastActivity: now, persisted: now}
	t.mu.Unlock()
	return id, nil
}

// Touch checks that the session exists and is open, and counts as activity
// (it delays abandonment). It does not write to the database.
func (t *Tracker) Touch(ctx context.Context, id string) error {
	s, err := t.session(ctx, id)
	if err != nil {
		return fmt.Errorf("deflect: touch: %w", err)
	}
	now := t.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return fmt.Errorf("deflect: touch: %w", ErrSessionClosed)
	}
	s.lastActivity = later(s.lastActivity, now)
	return nil
}

// Suggested records that suggestions were shown for a query. Keystroke
// bursts are coalesced into one search intent: a call within BurstGap of the
// previous one in the same session replaces the pending intent (latest query
// and suggestions win). The pending intent is written as one "suggested"
// event when the burst ends (BurstGap of silence, checked by a background
// ticker), or before any other event of the session. Suggested itself never
// writes to the database.
func (t *Tracker) Suggested(ctx context.Context, id, query string, articleIDs []string) error {
	now := t.clock()
	t.mu.RLock()
	if t.closed {
		t.mu.RUnlock()
		return fmt.Errorf("deflect: suggested: %w", errTrackerClosed)
	}
	if s := t.open[id]; s != nil {
		s.mu.Lock()
		if !s.ended && !s.unsure() {
			t.suggest(s, now, query, articleIDs)
			s.mu.Unlock()
			t.mu.RUnlock()
			return nil
		}
		s.mu.Unlock()
	}
	t.mu.RUnlock()

	// Slow path: the session is not in memory, or its state must be checked.
	s, err := t.session(ctx, id)
	if err != nil {
		return fmt.Errorf("deflect: suggested: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return fmt.Errorf("deflect: suggested: %w", ErrSessionClosed)
	}
	t.suggest(s, now, query, articleIDs)
	return nil
}

// suggest updates the session's pending intent; s.mu is held.
func (t *Tracker) suggest(s *session, now time.Time, query string, articleIDs []string) {
	s.lastActivity = later(s.lastActivity, now)
	if s.hasPending && now.Sub(s.pending.at) < t.burstGap {
		s.pending.at = later(s.pending.at, now)
		s.pending.query = query
		s.pending.articles = append(s.pending.articles[:0], articleIDs...)
		return
	}
	if s.hasPending {
		s.ready = append(s.ready, s.pending)
	}
	s.pending = intent{at: now, query: query, articles: append([]string(nil), articleIDs...)}
	s.hasPending = true
	t.pendMu.Lock()
	t.pend[s] = struct{}{}
	t.pendMu.Unlock()
}

// Opened records that the customer opened a suggested article.
func (t *Tracker) Opened(ctx context.Context, id, articleID string) error {
	if articleID == "" {
		return errors.New("deflect: opened: article is required")
	}
	if err := t.record(ctx, id, &row{kind: KindOpened, article: articleID}, ""); err != nil {
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

// Filed records that the customer filed ticket ticketNumber, and ends the session.
func (t *Tracker) Filed(ctx context.Context, id string, ticketNumber int) error {
	if ticketNumber <= 0 {
		return fmt.Errorf("deflect: filed: ticket number %d must be positive", ticketNumber)
	}
	if err := t.record(ctx, id, &row{kind: KindFiled, ticket: ticketNumber}, "filed"); err != nil {
		return fmt.Errorf("deflect: filed: %w", err)
	}
	return nil
}

// FiledTx is Filed inside the caller's transaction, so that a ticket and its
// "filed" event commit (or roll back) together. The transaction must have
// written already or have been begun with the write lock (sqlitedb.Open's
// default), and must not call other Tracker methods that write before it ends.
// Until the transaction ends, the session is treated as possibly ended.
func (t *Tracker) FiledTx(ctx context.Context, tx *sql.Tx, id string, ticketNumber int) error {
	if ticketNumber <= 0 {
		return fmt.Errorf("deflect: filed: ticket number %d must be positive", ticketNumber)
	}
	if !validID(id) {
		return fmt.Errorf("deflect: filed: %w", ErrUnknownSession)
	}
	// Everything here goes through tx: the caller holds the write lock, and
	// perhaps the pool's only connection. The database decides whether the
	// session is open; memory may lag behind an earlier FiledTx.
	t.mu.RLock()
	s := t.open[id]
	t.mu.RUnlock()
	var rows []row
	if s != nil {
		// The intents are copied, not taken: if the caller rolls back they
		// are written later; if it commits, the copies left in memory are
		// dropped when the flusher finds the session closed.
		s.mu.Lock()
		for _, in := range s.intents(true) {
			in.articles = append([]string(nil), in.articles...)
			rows = append(rows, suggestedRow(in))
		}
		s.mu.Unlock()
	}
	now := t.clock()
	rows = append(rows, row{kind: KindFiled, at: now, ticket: ticketNumber})
	err := writeSession(ctx, tx, id, now, rows, &ending{outcome: "filed", at: now, ticket: ticketNumber})
	if errors.Is(err, errNotOpen) {
		err = notOpenReason(ctx, tx, id)
	}
	if err != nil {
		return fmt.Errorf("deflect: filed: %w", err)
	}
	if s != nil {
		s.mu.Lock()
		s.filings++
		s.mu.Unlock()
		t.pendMu.Lock()
		t.pend[s] = struct{}{} // the flusher settles it once the transaction has ended
		t.pendMu.Unlock()
	}
	return nil
}

// Trail returns a session's events in order, after writing its pending
// search intent.
func (t *Tracker) Trail(ctx context.Context, id string) ([]Event, error) {
	t.mu.RLock()
	s, closed := t.open[id], t.closed
	t.mu.RUnlock()
	if s != nil && !closed {
		if err := t.write(ctx, s, nil, ""); err != nil && !errors.Is(err, ErrSessionClosed) {
			return nil, fmt.Errorf("deflect: trail: %w", err)
		}
	}
	rows, err := t.db.QueryContext(ctx, `SELECT id, kind, at, coalesce(query, ''), coalesce(articles, ''), coalesce(article, ''), coalesce(ticket, 0)
		FROM deflect_events WHERE session_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("deflect: trail: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e := Event{Session: id}
		var at, articles string
		if err := rows.Scan(&e.Seq, &e.Kind, &at, &e.Query, &articles, &e.Article, &e.Ticket); err != nil {
			return nil, fmt.Errorf("deflect: trail: %w", err)
		}
		if e.At, err = parseTime(at); err != nil {
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

// record writes one event of an open session, after its pending intents.
// outcome is "" or the outcome the event ends the session with.
func (t *Tracker) record(ctx context.Context, id string, ev *row, outcome string) error {
	s, err := t.session(ctx, id)
	if err != nil {
		return err
	}
	return t.write(ctx, s, ev, outcome)
}

// write writes the session's unwritten intents, then ev (if not nil), in one
// transaction. The intents are taken after BEGIN, which holds the database's
// write lock, so nothing else writes this session's events in between.
func (t *Tracker) write(ctx context.Context, s *session, ev *row, outcome string) error {
	if ev == nil {
		s.mu.Lock()
		idle := len(s.ready) == 0 && !s.hasPending
		s.mu.Unlock()
		if idle {
			return nil
		}
	}
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := t.clock()
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	taken := s.take(true)
	filings := s.filings
	s.mu.Unlock()
	if ev == nil && len(taken) == 0 {
		return nil
	}
	var rows []row
	for _, in := range taken {
		rows = append(rows, suggestedRow(in))
	}
	var end *ending
	if ev != nil {
		ev.at = now
		rows = append(rows, *ev)
		if outcome != "" {
			end = &ending{outcome: outcome, at: now, article: ev.article, ticket: ev.ticket}
		}
	}
	activity := rows[len(rows)-1].at
	err = writeSession(ctx, tx, s.id, activity, rows, end)
	if err == nil {
		err = tx.Commit()
	}
	switch {
	case errors.Is(err, errNotOpen):
		t.forget(s)
		return ErrSessionClosed
	case err != nil:
		s.mu.Lock()
		s.ready = append(taken, s.ready...)
		s.mu.Unlock()
		return err
	}
	if end != nil {
		t.forget(s)
		return nil
	}
	s.mu.Lock()
	// BEGIN waited for the transactions of earlier FiledTx calls to end, and
	// the session was still open: they rolled back.
	s.settled = max(s.settled, filings)
	s.persisted = later(s.persisted, activity)
	s.lastActivity = later(s.lastActivity, activity)
	s.mu.Unlock()
	return nil
}

// session returns the open session id, or an error wrapping
// ErrUnknownSession or ErrSessionClosed.
func (t *Tracker) session(ctx context.Context, id string) (*session, error) {
	t.mu.RLock()
	s, closed := t.open[id], t.closed
	t.mu.RUnlock()
	if closed {
		return nil, errTrackerClosed
	}
	if s == nil {
		return t.loadSession(ctx, id)
	}
	s.mu.Lock()
	ended, unsure := s.ended, s.unsure()
	s.mu.Unlock()
	if ended {
		return nil, ErrSessionClosed
	}
	if unsure {
		// A FiledTx ran. If its transaction committed, the session is over.
		var over bool
		if err := t.db.QueryRowContext(ctx, `SELECT ended_at IS NOT NULL FROM deflect_sessions WHERE id = ?`, id).Scan(&over); err != nil {
			return nil, err
		}
		if over {
			t.forget(s)
			return nil, ErrSessionClosed
		}
	}
	return s, nil
}

// loadSession looks up a session that is not in memory: normally one that
// has ended or never existed; an open one (started by another process) is
// added to memory.
func (t *Tracker) loadSession(ctx context.Context, id string) (*session, error) {
	if !validID(id) {
		return nil, ErrUnknownSession
	}
	var last string
	var ended sql.NullString
	err := t.db.QueryRowContext(ctx, `SELECT last_activity_at, ended_at FROM deflect_sessions WHERE id = ?`, id).Scan(&last, &ended)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, ErrUnknownSession
	case err != nil:
		return nil, err
	case ended.Valid:
		return nil, ErrSessionClosed
	}
	at, err := parseTime(last)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errTrackerClosed
	}
	if s := t.open[id]; s != nil {
		return s, nil
	}
	s := &session{id: id, lastActivity: at, persisted: at}
	t.open[id] = s
	return s, nil
}

// forget marks a session ended and drops it from memory.
func (t *Tracker) forget(s *session) {
	s.mu.Lock()
	s.ended = true
	s.ready, s.hasPending, s.pending = nil, false, intent{}
	s.mu.Unlock()
	t.mu.Lock()
	if t.open[s.id] == s {
		delete(t.open, s.id)
	}
	t.mu.Unlock()
	t.pendMu.Lock()
	delete(t.pend, s)
	t.pendMu.Unlock()
}

// intents returns the session's unwritten intents, oldest first: the ended
// bursts, and the one in progress if all or if it has ended by now. s.mu is held.
func (s *session) intents(all bool) []intent {
	out := append([]intent(nil), s.ready...)
	if s.hasPending && all {
		out = append(out, s.pending)
	}
	return out
}

// take removes and returns what intents(all) would return. s.mu is held.
func (s *session) take(all bool) []intent {
	out := s.intents(all)
	s.ready = nil
	if all {
		s.hasPending, s.pending = false, intent{}
	}
	return out
}

// flush writes the search intents whose burst has ended (every intent if
// all) in one transaction, and settles sessions left unsure by FiledTx.
func (t *Tracker) flush(ctx context.Context, all bool) error {
	t.pendMu.Lock()
	candidates := make([]*session, 0, len(t.pend))
	for s := range t.pend {
		candidates = append(candidates, s)
	}
	t.pendMu.Unlock()
	due := func(s *session, now time.Time) bool {
		return s.unsure() || len(s.ready) > 0 || (s.hasPending && (all || now.Sub(s.pending.at) >= t.burstGap))
	}
	now := t.clock()
	var work []*session
	for _, s := range candidates {
		s.mu.Lock()
		if !s.ended && due(s, now) {
			work = append(work, s)
		}
		s.mu.Unlock()
	}
	if len(work) == 0 {
		return nil
	}

	return t.writeBatch(ctx, "flush", work,
		func(s *session, now time.Time) (sessionWrite, []row, *ending, bool) {
			if !due(s, now) {
				return sessionWrite{}, nil, nil, false
			}
			pendingDue := s.hasPending && (all || now.Sub(s.pending.at) >= t.burstGap)
			w := sessionWrite{s: s, taken: s.take(pendingDue), activity: s.lastActivity, filings: s.filings}
			var rows []row
			for _, in := range w.taken {
				rows = append(rows, suggestedRow(in))
			}
			return w, rows, nil, true
		},
		func(w sessionWrite) {
			w.s.mu.Lock()
			w.s.settled = max(w.s.settled, w.filings)
			w.s.persisted = later(w.s.persisted, w.activity)
			if !w.s.hasPending && len(w.s.ready) == 0 && !w.s.unsure() {
				t.pendMu.Lock()
				delete(t.pend, w.s)
				t.pendMu.Unlock()
			}
			w.s.mu.Unlock()
		})
}

// sweep abandons open sessions idle for longer than AbandonAfter and
// records the last activity of the others (Touch and keystrokes are only in
// memory until then), in one transaction.
func (t *Tracker) sweep(ctx context.Context) error {
	t.mu.RLock()
	all := make([]*session, 0, len(t.open))
	for _, s := range t.open {
		all = append(all, s)
	}
	t.mu.RUnlock()
	now := t.clock()
	cutoff := now.Add(-t.abandonAfter)
	var work []*session
	for _, s := range all {
		s.mu.Lock()
		if !s.ended && (s.lastActivity.Before(cutoff) || s.lastActivity.After(s.persisted)) {
			work = append(work, s)
		}
		s.mu.Unlock()
	}
	if len(work) == 0 {
		return nil
	}

	return t.writeBatch(ctx, "sweep", work,
		func(s *session, _ time.Time) (sessionWrite, []row, *ending, bool) {
			w := sessionWrite{s: s, activity: s.lastActivity}
			if !s.lastActivity.Before(cutoff) {
				return w, nil, nil, true // only the last activity
			}
			w.taken, w.over = s.take(true), true
			var rows []row
			for _, in := range w.taken {
				rows = append(rows, suggestedRow(in))
			}
			rows = append(rows, row{kind: KindAbandoned, at: now})
			return w, rows, &ending{outcome: "abandoned", at: now}, true
		},
		func(w sessionWrite) {
			w.s.mu.Lock()
			w.s.persisted = later(w.s.persisted, w.activity)
			w.s.mu.Unlock()
		})
}

// sessionWrite is one session's part of a batch written by flush or sweep.
type sessionWrite struct {
	s        *session
	taken    []intent // taken from memory; put back if the batch fails
	activity time.Time
	filings  int
	over     bool // the session has ended, by this batch or before
}

// writeBatch writes, in one transaction, what plan gives for each session
// still open (plan runs with the session locked, with the time after the
// write lock was taken; false skips the session). If the batch fails, the
// intents it took go back to memory; if it commits, ended sessions are
// forgotten and settle is called for the others.
func (t *Tracker) writeBatch(ctx context.Context, op string, work []*session,
	plan func(s *session, now time.Time) (sessionWrite, []row, *ending, bool), settle func(sessionWrite)) error {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer tx.Rollback()
	now := t.clock()
	var written []sessionWrite
	restore := func() {
		for _, w := range written {
			w.s.mu.Lock()
			w.s.ready = append(w.taken, w.s.ready...)
			w.s.mu.Unlock()
		}
	}
	for _, s := range work {
		s.mu.Lock()
		if s.ended {
			s.mu.Unlock()
			continue
		}
		w, rows, end, ok := plan(s, now)
		s.mu.Unlock()
		if !ok {
			continue
		}
		err := writeSession(ctx, tx, s.id, w.activity, rows, end)
		written = append(written, w)
		if errors.Is(err, errNotOpen) {
			written[len(written)-1].over = true
		} else if err != nil {
			restore()
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		restore()
		return fmt.Errorf("%s: %w", op, err)
	}
	for _, w := range written {
		if w.over {
			t.forget(w.s)
			continue
		}
		settle(w)
	}
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

// validID reports whether id could be a session id (22 base64url characters).
func validID(id string) bool {
	if len(id) != base64.RawURLEncoding.EncodedLen(16) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}
