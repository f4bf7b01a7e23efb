package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// Writer runs write transactions one at a time, and commits the ones that
// queue up while a commit is under way together, in one transaction (group
// commit): the cost of a commit is the WAL write and its sync, paid once for
// the batch. Each call's work runs inside a savepoint of its own, so a call
// that fails is undone alone and the others still commit; a call returns
// only once its work is committed (or failed). Calls see the work of the
// calls before them in the batch, as if they had run one after another.
type Writer struct {
	db *sql.DB

	mu      sync.Mutex
	pending []*writeCall
	leading bool // a caller is committing batches; the others wait
}

type writeCall struct {
	ctx  context.Context
	fn   func(*sql.Tx) error
	done chan writeResult
}

// writeResult is a call's outcome, or the news that it now leads: it
// commits the next batch (which holds itself).
type writeResult struct {
	err  error
	lead bool
}

// NewWriter returns a Writer for db.
func NewWriter(db *sql.DB) *Writer { return &Writer{db: db} }

// maxBatch bounds a batch, so a long queue does not make one huge
// transaction.
const maxBatch = 256

// Do runs fn in a write transaction and returns once it is committed. An
// error from fn undoes fn's work and is returned as is.
func (w *Writer) Do(ctx context.Context, fn func(*sql.Tx) error) error {
	c := &writeCall{ctx: ctx, fn: fn, done: make(chan writeResult, 1)}
	w.mu.Lock()
	w.pending = append(w.pending, c)
	lead := !w.leading
	w.leading = true
	w.mu.Unlock()
	if !lead {
		r := <-c.done
		if !r.lead {
			return r.err
		}
	}
	// This caller leads: it commits one batch, its own call among them, and
	// hands the lead to the first caller still waiting, so that nobody
	// commits for others for long. No goroutine of its own: nothing to stop.
	w.mu.Lock()
	n := min(len(w.pending), maxBatch)
	batch := w.pending[:n:n]
	w.pending = w.pending[n:]
	w.mu.Unlock()
	w.commit(batch)
	w.mu.Lock()
	if len(w.pending) > 0 {
		w.pending[0].done <- writeResult{lead: true}
	} else {
		w.leading = false
	}
	w.mu.Unlock()
	return (<-c.done).err
}

// commit runs a batch in one transaction.
func (w *Writer) commit(batch []*writeCall) {
	results := make([]error, len(batch))
	err := func() error {
		// Not any caller's context: one caller giving up must not abort
		// the others' transaction.
		tx, err := w.db.BeginTx(context.Background(), nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for i, c := range batch {
			var fatal error
			results[i], fatal = runSavepoint(tx, c)
			if fatal != nil {
				return fatal // the transaction's state is unknown: undo it all
			}
		}
		return tx.Commit()
	}()
	for i, c := range batch {
		if err != nil && results[i] == nil {
			results[i] = err
		}
		c.done <- writeResult{err: results[i]}
	}
}

// runSavepoint runs one call's work in a savepoint, undone if it fails (or
// panics: the other calls of the batch are waiting). fatal is set when the
// savepoint itself failed, and the batch cannot go on.
func runSavepoint(tx *sql.Tx, c *writeCall) (err, fatal error) {
	if err := c.ctx.Err(); err != nil {
		return err, nil
	}
	if _, err := tx.Exec(`SAVEPOINT call`); err != nil {
		return err, err
	}
	if err = safeCall(c.fn, tx); err != nil {
		if _, rerr := tx.Exec(`ROLLBACK TO call`); rerr != nil {
			return err, fmt.Errorf("sqlitedb: undoing a failed write: %w", rerr)
		}
	}
	if _, rerr := tx.Exec(`RELEASE call`); rerr != nil {
		return err, fmt.Errorf("sqlitedb: releasing a savepoint: %w", rerr)
	}
	return err, nil
}

func safeCall(fn func(*sql.Tx) error, tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlitedb: write panicked: %v", p)
		}
	}()
	return fn(tx)
}
