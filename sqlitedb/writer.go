package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// writer runs write transactions one at a time, and commits the ones that
// queue up while a commit is under way together, in one transaction (group
// commit): the cost of a commit is the WAL write and its sync, paid once for
// the batch. Each call's work runs inside a savepoint of its own, so a call
// that fails is undone alone and the others still commit; a call returns
// only once its work is committed (or failed). Calls see the work of the
// calls before them in the batch, as if they had run one after another.
//
// The work must not use a context that can be cancelled while it runs: the
// driver interrupts a cancelled statement, and SQLite then rolls back the
// whole transaction, the other calls' work too. A caller that gives up
// before its work starts is left out of the batch.
type writer struct {
	db *sql.DB // the pool; the writer takes one connection per batch

	mu      sync.Mutex
	pending []*writeCall
	leading bool // a caller is committing a batch; the others wait
}

type writeCall struct {
	ctx   context.Context
	fn    func(*Tx) error
	hooks []func() // registered by fn with Tx.OnCommit; dropped if fn's work is undone
	undo  []func() // registered by fn with Tx.OnUndo; run if it is
	done  chan writeResult
	state atomic.Int32 // callQueued, callStarted or callAbandoned
}

const (
	callQueued int32 = iota
	callStarted
	callAbandoned
)

// writeResult is a call's outcome, or the news that it now leads: it
// commits the next batch (which holds itself).
type writeResult struct {
	err  error
	lead bool
}

// Tx is the transaction a write's work runs in (shared with the other calls
// of its batch: fn must use it only while it runs).
type Tx struct {
	*sql.Tx
	call *writeCall
}

// ExecContext, QueryContext and QueryRowContext run on the transaction
// without ctx's cancellation: the driver interrupts a cancelled statement
// and SQLite then rolls back the whole transaction, the batch's other calls
// included. Values carried by ctx are kept.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.Tx.ExecContext(context.WithoutCancel(ctx), query, args...)
}

// QueryContext: see ExecContext.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.Tx.QueryContext(context.WithoutCancel(ctx), query, args...)
}

// QueryRowContext: see ExecContext.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.Tx.QueryRowContext(context.WithoutCancel(ctx), query, args...)
}

// OnCommit registers fn to run once this work is committed, in the goroutine
// that called Write, before Write returns. If the work is undone, fn never
// runs. Domain packages use it to update what they keep in memory only when
// the database agrees.
func (tx *Tx) OnCommit(fn func()) { tx.call.hooks = append(tx.call.hooks, fn) }

// OnUndo registers fn to run if this work is undone after all (fn failed, or
// the batch's commit did), in the goroutine that called Write, before Write
// returns. Other writes may have run in between.
func (tx *Tx) OnUndo(fn func()) { tx.call.undo = append(tx.call.undo, fn) }

func newWriter(db *sql.DB) *writer { return &writer{db: db} }

// maxBatch bounds a batch, so a long queue does not make one huge
// transaction.
const maxBatch = 256

// errUnfinished is the result of calls whose batch ended abnormally.
var errUnfinished = errors.New("sqlitedb: write did not finish")

// Do runs fn in a write transaction and returns once it is committed. An
// error from fn undoes fn's work and is returned as is. While the call
// waits for its turn, ctx ending gives it up (ctx's error); once its work
// has started, Do waits for the commit.
func (w *writer) Do(ctx context.Context, fn func(*Tx) error) error {
	c := &writeCall{ctx: ctx, fn: fn, done: make(chan writeResult, 1)}
	err := w.run(c)
	hooks := c.hooks // c.done ordered fn's appends before this
	if err != nil {
		hooks = c.undo
	}
	for _, h := range hooks {
		h()
	}
	return err
}

func (w *writer) run(c *writeCall) error {
	ctx := c.ctx
	w.mu.Lock()
	w.pending = append(w.pending, c)
	lead := !w.leading
	w.leading = true
	w.mu.Unlock()
	for !lead {
		select {
		case r := <-c.done:
			if !r.lead {
				return r.err
			}
			lead = true
		case <-ctx.Done():
			if c.state.CompareAndSwap(callQueued, callAbandoned) {
				// Left out: leaders skip it. The lead may have been handed
				// to it just before; handOff sends under w.mu, so after
				// taking w.mu such a message is here, and is passed on.
				w.mu.Lock()
				var led bool
				select {
				case r := <-c.done:
					led = r.lead
				default:
				}
				w.mu.Unlock()
				if led {
					w.handOff()
				}
				return ctx.Err()
			}
			r := <-c.done // started: its outcome follows
			if !r.lead {
				return r.err
			}
			lead = true
		}
	}
	// This caller leads: it commits one batch, its own call among them, and
	// hands the lead on, so that nobody commits for others for long. No
	// goroutine of its own: nothing to stop.
	w.mu.Lock()
	n := min(len(w.pending), maxBatch)
	batch := w.pending[:n:n]
	w.pending = w.pending[n:]
	w.mu.Unlock()
	func() {
		defer w.handOff() // even if the work exits abnormally
		w.commit(batch)
	}()
	return (<-c.done).err
}

// handOff gives the lead to the first caller still waiting, or ends it.
func (w *writer) handOff() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.pending) > 0 {
		next := w.pending[0]
		if next.state.Load() == callAbandoned {
			w.pending = w.pending[1:] // gone: never started
			continue
		}
		next.done <- writeResult{lead: true}
		return
	}
	w.leading = false
}

// commit runs a batch in one transaction and delivers every call's result
// (errUnfinished if it ends abnormally).
func (w *writer) commit(batch []*writeCall) {
	results := make([]error, len(batch))
	for i := range results {
		results[i] = errUnfinished
	}
	defer func() {
		for i, c := range batch {
			if c.state.Load() != callAbandoned {
				c.done <- writeResult{err: results[i]}
			}
		}
	}()
	err := func() error {
		// Not any caller's context: one caller giving up must not abort
		// the others' transaction.
		tx, err := w.db.BeginTx(context.Background(), nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if len(batch) == 1 {
			// Alone: a plain transaction, no savepoint needed.
			c := batch[0]
			if !c.state.CompareAndSwap(callQueued, callStarted) {
				return nil
			}
			if err := c.ctx.Err(); err != nil {
				results[0] = err
				return nil
			}
			if results[0] = safeCall(c, tx); results[0] != nil {
				return nil // rolled back by the deferred Rollback
			}
			return tx.Commit()
		}
		for i, c := range batch {
			if !c.state.CompareAndSwap(callQueued, callStarted) {
				continue // abandoned while queued
			}
			if err := c.ctx.Err(); err != nil {
				results[i] = err // given up before its turn: not started
				continue
			}
			var fatal error
			results[i], fatal = runSavepoint(tx, c)
			if fatal != nil {
				return fatal // the transaction's state is unknown: undo it all
			}
		}
		return tx.Commit()
	}()
	for i := range results {
		if err != nil && (results[i] == nil || results[i] == errUnfinished) {
			results[i] = fmt.Errorf("%w: %w", errUnfinished, err)
		}
	}
}

// runSavepoint runs one call's work in a savepoint, undone if it fails (or
// panics: the other calls of the batch are waiting). fatal is set when the
// savepoint itself failed, and the batch cannot go on.
func runSavepoint(tx *sql.Tx, c *writeCall) (err, fatal error) {
	if _, err := tx.Exec(`SAVEPOINT call`); err != nil {
		return err, err
	}
	if err = safeCall(c, tx); err != nil {
		if _, rerr := tx.Exec(`ROLLBACK TO call`); rerr != nil {
			return err, fmt.Errorf("sqlitedb: undoing a failed write: %w", rerr)
		}
	}
	if _, rerr := tx.Exec(`RELEASE call`); rerr != nil {
		return err, fmt.Errorf("sqlitedb: releasing a savepoint: %w", rerr)
	}
	return err, nil
}

func safeCall(c *writeCall, tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlitedb: write panicked: %v", p)
		}
	}()
	return c.fn(&Tx{Tx: tx, call: c})
}
