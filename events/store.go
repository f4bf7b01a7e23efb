// Package events records what customers do on the knowledge base (searches
// and votes in the events table, article views in article_views), and keeps
// the current votes. Deflection
// sessions are recorded by deflect, ticket changes by tickets; the
// operators' metrics are computed from all three (docs/metrics.md).
package events

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/orbitask/portal/fields"
	"github.com/orbitask/portal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the event log, the article views and the vote table.
type Store struct {
	db     *sqlitedb.DB
	log    *slog.Logger
	queue  chan event
	done   chan struct{} // closed by Close
	exited chan struct{} // closed when the writer has written everything
	closer sync.Once

	dropped, droppedWarned atomic.Int64 // events dropped since the last warning, and its time (Unix ns)

	saltMu sync.Mutex
	salts  map[string][]byte // visitor salts by UTC day (YYYY-MM-DD), as stored

	clock atomic.Pointer[func() time.Time] // SetClock's; nil is time.Now
}

// event is one queued row: a search for the events table, a view for
// article_views, or a barrier.
type event struct {
	at     time.Time
	kind   string
	data   map[string]any // a search's JSON data, its visitor id added when written
	view   *View          // a view's article and reader
	reader *Visitor       // a search's visitor, hashed when written
	// done, for a barrier, is closed once everything queued before it has
	// been written (or failed to be).
	done chan struct{}
}

// Search is one search a customer ran.
type Search struct {
	// ID names the search (NewSearchID) so that a view of an article
	// opened from its results can point back at it (View.SearchID).
	ID     string
	Query  string
	Lang   string
	Source string // "page", "api", or "instant" (an as-you-type result picked)
	Total  int
	Took   time.Duration
	// Visitor is who searched: stored as the day's visitor id, as with
	// views, so searches count towards the knowledge base's visitors.
	Visitor Visitor
}

// NewSearchID is a random 64-bit id for a search, in hex.
func NewSearchID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails, per crypto/rand
	return hex.EncodeToString(b[:])
}

// ValidSearchID says whether s has the form of NewSearchID's ids: what a
// link's parameter carries is stored only then.
func ValidSearchID(s string) bool {
	if len(s) != 16 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Visitor is who reads or votes, as the HTTP side sees them. Neither field
// is stored: only the visitor id, a hash of both under a salt that changes
// every day (VisitorID), and with a vote a hash of the address alone
// (AddressID).
type Visitor struct {
	// Addr is the client's address as the HTTP side keys its clients: an
	// IPv4 address, an IPv6 client's /64 (httpkit.ClientKey), so that the
	// addresses of one subscriber are one visitor. It is hashed as given.
	Addr      string
	UserAgent string
}

// View is a reader opening an article's page.
type View struct {
	ArticleID string
	Lang      string
	Visitor   Visitor
	// SearchID is the search whose results the article was opened from
	// (Search.ID), "" for any other way in. Stored only if ValidSearchID.
	SearchID string
}

// Vote is a customer's answer to "Was this helpful?". The voter is the
// visitor's id of the day: one vote per visitor and article, a later one
// (that day or the next) replacing it.
type Vote struct {
	ArticleID string
	Helpful   bool
	Visitor   Visitor
	// Missing is what a reader who answered "No" says the article lacked:
	// optional, one line, at most MaxMissing characters, for the writers.
	// It is kept in the vote's event only (a reader adds it as a second
	// vote, replacing the first), and ignored with a "Yes".
	Missing string
}

// MaxMissing is the longest Vote.Missing, in characters: a line, not an
// essay (tickets are for that).
const MaxMissing = 500

// ErrNotViewed refuses a vote from a visitor who has not opened the
// article within ViewWindow: a vote stands for a reading.
var ErrNotViewed = errors.New("vote without a view of the article")

// ErrVoteNotCounted refuses a vote from a new voter at an address from
// which VotersPerAddress others have already voted on the article (today
// or yesterday, UTC): changing browsers does not make a crowd. Nothing is
// stored; it is not the voter's fault, the answer should thank them all
// the same.
var ErrVoteNotCounted = errors.New("enough votes from this address on the article")

// VotersPerAddress is how many voters from one address (an IPv6 client's
// /64) count on one article over today and yesterday: a household or an
// office has a few readers of the same article, not dozens in a day, while
// a script changing its user agent gets no further. It is a cap on one
// article: the same office may vote on every article.
const VotersPerAddress = 3

// ViewWindow is how recent a visitor's view of an article must be for
// their vote on it to count.
const ViewWindow = 24 * time.Hour

// maxUserAgent bounds the user agent kept in the queue and hashed; no real
// browser's is longer.
const maxUserAgent = 512

// Score sums the votes on one article.
type Score struct {
	ArticleID string
	Yes, No   int
}

// queueSize bounds the events waiting to be written; beyond it events are
// dropped (and counted in the log) rather than slowing customers down.
const queueSize = 4096

// Open applies the migrations db has not seen yet and starts the writer of
// queued events.
func Open(db *sqlitedb.DB, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := db.Migrate("events", migrations, "migrations"); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	s := &Store{db: db, log: log, queue: make(chan event, queueSize), done: make(chan struct{}), exited: make(chan struct{}),
		salts: map[string][]byte{}}
	go s.writer()
	return s, nil
}

// RecordSearch queues a search event. It never blocks: a full queue drops
// the event, because a customer's search matters more than its statistics.
// The visitor's id is computed when the search is written.
func (s *Store) RecordSearch(e Search) {
	if len(e.Visitor.UserAgent) > maxUserAgent {
		e.Visitor.UserAgent = e.Visitor.UserAgent[:maxUserAgent]
	}
	data := map[string]any{
		"query": e.Query, "lang": e.Lang, "source": e.Source, "total": e.Total,
		"took_ms": float64(e.Took.Microseconds()) / 1000,
	}
	if e.ID != "" {
		data["id"] = e.ID
	}
	s.enqueue(event{at: s.now(), kind: "search", data: data, reader: &e.Visitor})
}

// RecordView queues a view of an article. It never blocks, as
// RecordSearch. The visitor's id is computed when the view is written.
func (s *Store) RecordView(v View) {
	if len(v.Visitor.UserAgent) > maxUserAgent {
		v.Visitor.UserAgent = v.Visitor.UserAgent[:maxUserAgent]
	}
	s.enqueue(event{at: s.now(), kind: "view", view: &v})
}

// SetClock has the store take the time from now rather than the system
// clock (nil: the system clock again), for tests that cross midnight,
// when the salt and so every visitor id changes.
func (s *Store) SetClock(now func() time.Time) {
	if now == nil {
		s.clock.Store(nil)
		return
	}
	s.clock.Store(&now)
}

// now is the time the store goes by, in UTC.
func (s *Store) now() time.Time {
	if now := s.clock.Load(); now != nil {
		return (*now)().UTC()
	}
	return time.Now().UTC()
}

func (s *Store) enqueue(e event) {
	select {
	case <-s.done:
	case s.queue <- e:
	default:
		// A flood of page views must not become a flood of log lines: one
		// warning a minute, with the count since the last one.
		n := s.dropped.Add(1)
		now := time.Now().UnixNano()
		last := s.droppedWarned.Load()
		if now-last >= int64(time.Minute) && s.droppedWarned.CompareAndSwap(last, now) {
			s.log.Warn("event queue full, events dropped", "kind", e.kind, "dropped", n)
			s.dropped.Add(-n)
		}
	}
}

// gatherFor is how long the writer waits for more events to write with
// the first one.
const gatherFor = 10 * time.Millisecond

// writer batches queued events into one transaction each, so a burst of
// searches costs one fsync rather than one per search.
func (s *Store) writer() {
	defer close(s.exited)
	failing := sqlitedb.FailureLog{Log: s.log, What: "recording events"}
	for {
		select {
		case e := <-s.queue:
			// Events that come within gatherFor of the first share its
			// transaction: at a few thousand searches a second, a
			// transaction per search was a tenth of the portal's CPU. A
			// barrier (someone waiting) ends the wait at once.
			batch := []event{e}
			gather := time.NewTimer(gatherFor)
		drain:
			for len(batch) < 512 && batch[len(batch)-1].done == nil {
				select {
				case e := <-s.queue:
					batch = append(batch, e)
				case <-gather.C:
					break drain
				case <-s.done:
					break drain
				}
			}
			gather.Stop()
			n := 0 // events, not barriers
			for _, e := range batch {
				if e.done == nil {
					n++
				}
			}
			failing.Note(s.write(batch), n)
		case <-s.done:
			if err := s.drain(); err != nil {
				s.log.Error("recording events", "err", err)
			}
			return
		}
	}
}

// write writes a batch and then releases the barriers in it.
func (s *Store) write(batch []event) error {
	defer func() {
		for _, e := range batch {
			if e.done != nil {
				close(e.done)
			}
		}
	}()
	if err := s.writeBatch(batch); err != nil {
		return fmt.Errorf("events: write: %w", err)
	}
	return nil
}

func (s *Store) writeBatch(batch []event) error {
	// Readers are hashed first: a new day's salt is a write of its own.
	visitors := make([]string, len(batch))
	rows := 0 // barriers write nothing
	for i, e := range batch {
		if e.done == nil {
			rows++
		}
		reader := e.reader
		if e.view != nil {
			reader = &e.view.Visitor
		}
		if reader == nil {
			continue
		}
		salt, err := s.salt(context.Background(), day(e.at), true)
		if err != nil {
			return err
		}
		visitors[i] = VisitorID(salt, *reader)
	}
	if rows == 0 {
		return nil
	}
	return s.db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
		stmt, err := tx.Prepare(`INSERT INTO events (at, kind, data) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		views, err := tx.Prepare(`INSERT INTO article_views (at, article_id, lang, visitor, search_id) VALUES (?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer views.Close()
		for i, e := range batch {
			switch {
			case e.done != nil:
			case e.view != nil:
				var search any // NULL
				if ValidSearchID(e.view.SearchID) {
					search = e.view.SearchID
				}
				if _, err := views.Exec(sqlitedb.FormatTime(e.at), e.view.ArticleID, e.view.Lang, visitors[i], search); err != nil {
					return err
				}
			default:
				if e.reader != nil {
					e.data["visitor"] = visitors[i]
				}
				data, err := json.Marshal(e.data)
				if err != nil {
					return err
				}
				if _, err := stmt.Exec(sqlitedb.FormatTime(e.at), e.kind, string(data)); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// sync waits until everything queued so far is written: a vote must see
// the view its reader just made.
func (s *Store) sync(ctx context.Context) error {
	done := make(chan struct{})
	select {
	case s.queue <- event{kind: "barrier", done: done}:
	case <-s.done:
		return nil // closed: Close wrote the queue
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-s.exited: // closed meanwhile: the barrier may never be reached
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// VisitorID is the hex HMAC-SHA256 of the visitor's address and user agent
// under salt: the same reader gets the same id all day, and nobody can
// tell the address from it once the day's salt is deleted.
func VisitorID(salt []byte, v Visitor) string {
	ua := v.UserAgent
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(v.Addr + "\n" + ua))
	return hex.EncodeToString(m.Sum(nil))
}

// AddressID is the hex HMAC-SHA256 of a visitor's address alone (as in
// Visitor.Addr) under salt: stored with a vote, it tells whether voters
// came from one address that day, and, like VisitorID, nothing more once
// the salt is deleted.
func AddressID(salt []byte, addr string) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(addr))
	return hex.EncodeToString(m.Sum(nil))
}

// day is the UTC day of t, the key of its salt.
func day(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// salt returns the visitor salt of a day, made (random) and stored if
// create and there is none yet; without create a missing salt is nil. The
// salts of days before yesterday are deleted when a new one is made, so
// the ids of older days can no longer be linked to an address.
func (s *Store) salt(ctx context.Context, d string, create bool) ([]byte, error) {
	s.saltMu.Lock()
	defer s.saltMu.Unlock()
	if salt, ok := s.salts[d]; ok {
		return salt, nil
	}
	var salt []byte
	err := s.db.QueryRowContext(ctx, `SELECT salt FROM visitor_salts WHERE day = ?`, d).Scan(&salt)
	switch {
	case err == nil:
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("events: visitor salt: %w", err)
	case !create:
		return nil, nil
	default:
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return nil, fmt.Errorf("events: visitor salt: %w", err)
		}
		keepFrom := day(t.AddDate(0, 0, -1))
		fresh := make([]byte, 32)
		_, _ = rand.Read(fresh) // never fails, per crypto/rand
		err = s.db.Write(ctx, func(tx *sqlitedb.Tx) error {
			if _, err := tx.ExecContext(ctx, `DELETE FROM visitor_salts WHERE day < ?`, keepFrom); err != nil {
				return err
			}
			// Another process may have made it first: its salt wins.
			if _, err := tx.ExecContext(ctx, `INSERT INTO visitor_salts (day, salt) VALUES (?, ?) ON CONFLICT (day) DO NOTHING`, d, fresh); err != nil {
				return err
			}
			return tx.QueryRowContext(ctx, `SELECT salt FROM visitor_salts WHERE day = ?`, d).Scan(&salt)
		})
		if err != nil {
			return nil, fmt.Errorf("events: visitor salt: %w", err)
		}
		for k := range s.salts {
			if k < keepFrom {
				delete(s.salts, k)
			}
		}
	}
	s.salts[d] = salt
	return salt, nil
}

// Flush returns once every event queued so far is written (or the store
// closed): it queues a barrier behind them, so a batch the writer is in
// the middle of counts too.
func (s *Store) Flush() error { return s.sync(context.Background()) }

// drain writes what is queued, in the writer's goroutine as it stops.
func (s *Store) drain() error {
	for {
		var batch []event
		for len(batch) < 512 {
			select {
			case e := <-s.queue:
				batch = append(batch, e)
				continue
			default:
			}
			break
		}
		if len(batch) == 0 {
			return nil
		}
		if err := s.write(batch); err != nil {
			return fmt.Errorf("events: flush: %w", err)
		}
	}
}

// Vote stores a vote, replacing the visitor's earlier vote on the article
// (made under today's id or yesterday's, so crossing midnight does not
// count twice), and records it as an event, in one transaction. Nothing is
// stored, and the error says why, for a visitor with no view of the
// article within ViewWindow (under either id, so midnight does not get in
// the way of that either): ErrNotViewed; nor for a new voter at an address
// from which VotersPerAddress others have voted on the article today or
// yesterday: ErrVoteNotCounted.
func (s *Store) Vote(ctx context.Context, v Vote) error {
	if v.ArticleID == "" {
		return fmt.Errorf("events: vote: an article is required")
	}
	// One line of text: line breaks and runs of spaces become one space.
	missing := strings.Join(strings.Fields(strings.ToValidUTF8(v.Missing, "\uFFFD")), " ")
	if v.Helpful {
		missing = ""
	}
	if utf8.RuneCountInString(missing) > MaxMissing {
		return fields.Invalid("missing", fields.TooLong, "max", MaxMissing)
	}
	if err := s.sync(ctx); err != nil {
		return fmt.Errorf("events: vote: %w", err)
	}
	now := s.now()
	today, err := s.salt(ctx, day(now), true)
	if err != nil {
		return fmt.Errorf("events: vote: %w", err)
	}
	yesterday, err := s.salt(ctx, day(now.AddDate(0, 0, -1)), false)
	if err != nil {
		return fmt.Errorf("events: vote: %w", err)
	}
	voter, address := VisitorID(today, v.Visitor), AddressID(today, v.Visitor.Addr)
	before, addressBefore := voter, address // yesterday's, if there was a yesterday
	if yesterday != nil {
		before, addressBefore = VisitorID(yesterday, v.Visitor), AddressID(yesterday, v.Visitor.Addr)
	}
	at := sqlitedb.FormatTime(now)
	helpful := 0
	if v.Helpful {
		helpful = 1
	}
	event := map[string]any{"article": v.ArticleID, "helpful": v.Helpful, "voter": voter}
	if missing != "" {
		event["missing"] = missing
	}
	data, _ := json.Marshal(event)
	err = s.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		var viewed bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM article_views
			WHERE visitor IN (?, ?) AND article_id = ? AND at >= ?)`,
			voter, before, v.ArticleID, sqlitedb.FormatTime(now.Add(-ViewWindow))).Scan(&viewed); err != nil {
			return err
		}
		if !viewed {
			return ErrNotViewed
		}
		// The other voters counted from this address: a vote replacing the
		// visitor's own always counts.
		var others int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM votes
			WHERE article_id = ? AND address IN (?, ?) AND voter NOT IN (?, ?)`,
			v.ArticleID, address, addressBefore, voter, before).Scan(&others); err != nil {
			return err
		}
		if others >= VotersPerAddress {
			return ErrVoteNotCounted
		}
		if before != voter {
			if _, err := tx.ExecContext(ctx, `DELETE FROM votes WHERE article_id = ? AND voter = ?`, v.ArticleID, before); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO votes (article_id, voter, helpful, at, address) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (article_id, voter) DO UPDATE SET helpful = excluded.helpful, at = excluded.at, address = excluded.address`,
			v.ArticleID, voter, helpful, at, address); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO events (at, kind, data) VALUES (?, 'vote', ?)`, at, string(data))
		return err
	})
	if err != nil {
		return fmt.Errorf("events: vote on %s: %w", v.ArticleID, err)
	}
	return nil
}

// VoteCounts returns the yes and no votes on an article.
func (s *Store) VoteCounts(ctx context.Context, articleID string) (yes, no int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT coalesce(sum(helpful), 0), coalesce(sum(1 - helpful), 0) FROM votes WHERE article_id = ?`, articleID).Scan(&yes, &no)
	if err != nil {
		return 0, 0, fmt.Errorf("events: vote counts: %w", err)
	}
	return yes, no, nil
}

// MostHelpful ranks the articles among ids that have votes, best first: by
// the lower bound of a Wilson interval, so one lucky "yes" does not beat
// forty yeses and two noes.
func (s *Store) MostHelpful(ctx context.Context, ids []string, limit int) ([]Score, error) {
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	rows, err := s.db.QueryContext(ctx, `SELECT article_id, sum(helpful), sum(1 - helpful) FROM votes GROUP BY article_id`)
	if err != nil {
		return nil, fmt.Errorf("events: most helpful: %w", err)
	}
	defer rows.Close()
	var out []Score
	for rows.Next() {
		var sc Score
		if err := rows.Scan(&sc.ArticleID, &sc.Yes, &sc.No); err != nil {
			return nil, fmt.Errorf("events: most helpful: %w", err)
		}
		if want[sc.ArticleID] && sc.Yes > 0 {
			out = append(out, sc)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("events: most helpful: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool { return wilson(out[i]) > wilson(out[j]) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func wilson(s Score) float64 {
	n := float64(s.Yes + s.No)
	if n == 0 {
		return 0
	}
	const z = 1.96
	p := float64(s.Yes) / n
	return (p + z*z/(2*n) - z*math.Sqrt((p*(1-p)+z*z/(4*n))/n)) / (1 + z*z/n)
}

// Close writes what is queued. It does not close the database.
func (s *Store) Close() error {
	s.closer.Do(func() {
		close(s.done)
		<-s.exited
	})
	return nil
}
