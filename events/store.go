// Package events records what customers do on the knowledge base (searches
// and votes) in the events table, and keeps the current votes. Deflection
// sessions are recorded by deflect, ticket changes by tickets; the
// operators' metrics are computed from all three (docs/metrics.md).
package events

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/orbitask/portal/sqlitedb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the event log and the vote table.
type Store struct {
	db     *sqlitedb.DB
	log    *slog.Logger
	queue  chan event
	done   chan struct{} // closed by Close
	exited chan struct{} // closed when the writer has written everything
	closer sync.Once
}

// event is one row of the append-only events table.
type event struct {
	at   time.Time
	kind string
	data any
}

// Search is one search a customer ran.
type Search struct {
	Query  string
	Lang   string
	Source string // "page" or "api"
	Total  int
	Took   time.Duration
}

// Vote is a customer's answer to "Was this helpful?".
type Vote struct {
	ArticleID string
	Helpful   bool
	Voter     string // opaque id from a cookie; one vote per voter and article
}

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
	s := &Store{db: db, log: log, queue: make(chan event, queueSize), done: make(chan struct{}), exited: make(chan struct{})}
	go s.writer()
	return s, nil
}

// RecordSearch queues a search event. It never blocks: a full queue drops
// the event, because a customer's search matters more than its statistics.
func (s *Store) RecordSearch(e Search) {
	s.enqueue(event{time.Now().UTC(), "search", map[string]any{
		"query": e.Query, "lang": e.Lang, "source": e.Source, "total": e.Total,
		"took_ms": float64(e.Took.Microseconds()) / 1000,
	}})
}

func (s *Store) enqueue(e event) {
	select {
	case <-s.done:
	case s.queue <- e:
	default:
		s.log.Warn("event queue full, event dropped", "kind", e.kind)
	}
}

// writer batches queued events into one transaction each, so a burst of
// searches costs one fsync rather than one per search.
func (s *Store) writer() {
	defer close(s.exited)
	var failing failures
	for {
		select {
		case e := <-s.queue:
			batch := []event{e}
		drain:
			for len(batch) < 512 {
				select {
				case e := <-s.queue:
					batch = append(batch, e)
				default:
					break drain
				}
			}
			failing.note(s.log, s.write(batch), len(batch))
		case <-s.done:
			if err := s.Flush(); err != nil {
				s.log.Error("recording events", "err", err)
			}
			return
		}
	}
}

// failures keeps the writer from logging every batch that fails alike (a
// full disk fails them all, one per search): the first failure is logged
// at once, then one line a minute while they go on, and the recovery.
type failures struct {
	batches, events int // failed since the last success
	logged          time.Time
}

// failureLogEvery is how often failures that go on are logged again.
const failureLogEvery = time.Minute

func (f *failures) note(log *slog.Logger, err error, count int) {
	if err == nil {
		if f.batches > 0 {
			log.Info("recording events works again", "failed_batches", f.batches, "events_lost", f.events)
			*f = failures{}
		}
		return
	}
	f.batches++
	f.events += count
	if now := time.Now(); f.batches == 1 || now.Sub(f.logged) >= failureLogEvery {
		log.Error("recording events", "err", err, "count", count, "failed_batches", f.batches, "events_lost", f.events)
		f.logged = now
	}
}

func (s *Store) write(batch []event) error {
	if err := s.writeBatch(batch); err != nil {
		return fmt.Errorf("events: write: %w", err)
	}
	return nil
}

func (s *Store) writeBatch(batch []event) error {
	return s.db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
		stmt, err := tx.Prepare(`INSERT INTO events (at, kind, data) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, e := range batch {
			data, err := json.Marshal(e.data)
			if err != nil {
				return err
			}
			if _, err := stmt.Exec(sqlitedb.FormatTime(e.at), e.kind, string(data)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Flush writes every event queued so far before returning.
func (s *Store) Flush() error {
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

// Vote stores a vote, replacing the voter's earlier vote on the article, and
// records it as an event, in one transaction.
func (s *Store) Vote(ctx context.Context, v Vote) error {
	if v.ArticleID == "" || v.Voter == "" {
		return fmt.Errorf("events: vote: article and voter are required")
	}
	now := sqlitedb.FormatTime(time.Now())
	helpful := 0
	if v.Helpful {
		helpful = 1
	}
	data, _ := json.Marshal(map[string]any{"article": v.ArticleID, "helpful": v.Helpful, "voter": v.Voter})
	err := s.db.Write(ctx, func(tx *sqlitedb.Tx) error {
		if _, err := tx.Exec(`INSERT INTO votes (article_id, voter, helpful, at) VALUES (?, ?, ?, ?)
			ON CONFLICT (article_id, voter) DO UPDATE SET helpful = excluded.helpful, at = excluded.at`,
			v.ArticleID, v.Voter, helpful, now); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO events (at, kind, data) VALUES (?, 'vote', ?)`, now, string(data))
		return err
	})
	if err != nil {
		return fmt.Errorf("events: vote: %w", err)
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
