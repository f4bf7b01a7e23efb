// Package sqlitedb is the portal's one way to its SQLite database: Open sets
// the connection up (WAL, foreign keys, busy timeout, immediate
// transactions), DB.Write is the only way to write (one writer per process,
// committing in groups), Migrate applies each owner's numbered migrations,
// and FormatTime is the one layout every stored time uses.
//
// Invariants the packages on top rely on:
//   - Every write of this process goes through DB.Write, so writes queue in
//     the process (in order, fairly) instead of in SQLite's busy handler,
//     which polls with sleeps. Other processes (the command line) wait on the
//     busy timeout.
//   - A Write returns only once its work is committed, or undone. Work that
//     queues while a commit is under way commits in the next transaction,
//     together (group commit); each call's work is undone alone if it fails.
//   - With synchronous=NORMAL in WAL mode a committed transaction survives a
//     crash of the process, but the last ones may be lost on power loss.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3" // the SQLite driver
)

// DB is an open portal database: reads go to a small pool of connections,
// writes through Write. It has no Exec: writing outside Write would bypass
// the one writer.
type DB struct {
	pool   *sql.DB
	writer *writer
	health StorageHealth // whether writes fail for want of storage
	onBusy func()        // Config.OnBusy; never nil
}

// Config says how to open a database; only Path is required.
type Config struct {
	Path string
	// BusyTimeout is how long a write waits for another process (the
	// command line) to release the database before it fails with
	// SQLITE_BUSY; 0 means DefaultBusyTimeout.
	BusyTimeout time.Duration
	// OnBusy, if not nil, is called for each Write and query that failed
	// because the database stayed busy or locked past BusyTimeout, for
	// the operators' metrics. (A QueryRow's error surfaces at Scan, out of
	// sight: those are not counted.)
	OnBusy func()
}

// DefaultBusyTimeout is how long a write waits for another process's lock
// unless configured.
const DefaultBusyTimeout = 5 * time.Second

// Open opens the database at path with the defaults: OpenWith(Config{Path: path}).
func Open(path string) (*DB, error) { return OpenWith(Config{Path: path}) }

// OpenWith opens (creating if needed) the database at cfg.Path: WAL
// journal, foreign keys on, a busy timeout so that concurrent writers (the
// server and a command-line tool) wait for each other instead of failing.
func OpenWith(cfg Config) (*DB, error) {
	path := cfg.Path
	busy := cfg.BusyTimeout
	if busy <= 0 {
		busy = DefaultBusyTimeout
	}
	onBusy := cfg.OnBusy
	if onBusy == nil {
		onBusy = func() {}
	}
	dsn := "file:" + path + "?_journal_mode=WAL&_foreign_keys=on&_busy_timeout=" + strconv.FormatInt(busy.Milliseconds(), 10) +
		"&_synchronous=NORMAL&_txlock=immediate"
	pool, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitedb: open %s: %w", path, err)
	}
	// Few connections: SQLite has one writer at a time and readers do not
	// need many; hundreds of pooled connections polling the busy handler
	// starved each other ("database is locked") under load.
	pool.SetMaxOpenConns(8)
	if err := pool.Ping(); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sqlitedb: open %s: %w", path, err)
	}
	// Tickets and staff data: readable by the owner only, whatever the
	// umask. SQLite gives the -wal and -shm files the database's mode.
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, fs.ErrNotExist) {
			pool.Close()
			return nil, fmt.Errorf("sqlitedb: open %s: %w", path, err)
		}
	}
	return &DB{pool: pool, writer: newWriter(pool), onBusy: onBusy}, nil
}

// observe reports err to OnBusy if SQLite was busy or locked, and returns it.
func (db *DB) observe(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked) {
		db.onBusy()
	}
	return err
}

// Write runs fn in a write transaction and returns once it is committed; see
// writer.Do. Hooks fn registers with Tx.OnCommit run after the commit, in the
// caller's goroutine, before Write returns. A failure for want of storage
// (a full disk, say) wraps ErrUnavailable, and is what StorageProblem
// reports until a write succeeds.
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	if !db.health.failing.Load() {
		return db.observe(db.health.Observe(db.writer.Do(ctx, fn)))
	}
	// While writes fail, only one that changed something proves the
	// storage is back: work that writes nothing (a sweep that found no
	// idle session) commits even on a full disk.
	wrote := false
	err := db.writer.Do(ctx, func(tx *Tx) error {
		var before, after int64
		if err := tx.QueryRow(`SELECT total_changes()`).Scan(&before); err != nil {
			return err
		}
		if err := fn(tx); err != nil {
			return err
		}
		if err := tx.QueryRow(`SELECT total_changes()`).Scan(&after); err != nil {
			return err
		}
		wrote = after > before
		return nil
	})
	if err == nil && !wrote {
		return nil
	}
	return db.observe(db.health.Observe(err))
}

// StorageProblem says whether writes fail for want of storage: the
// failures since the latest write that succeeded.
func (db *DB) StorageProblem() (Problem, bool) { return db.health.Problem() }

// QueryContext runs a query on a pooled connection.
func (db *DB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := db.pool.QueryContext(ctx, query, args...)
	return rows, db.observe(err)
}

// QueryRowContext runs a query that returns at most one row.
func (db *DB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return db.pool.QueryRowContext(ctx, query, args...)
}

// Query is QueryContext without a context.
func (db *DB) Query(query string, args ...any) (*sql.Rows, error) {
	rows, err := db.pool.Query(query, args...)
	return rows, db.observe(err)
}

// QueryRow is QueryRowContext without a context.
func (db *DB) QueryRow(query string, args ...any) *sql.Row {
	return db.pool.QueryRow(query, args...)
}

// Close closes the pool.
func (db *DB) Close() error { return db.pool.Close() }

// Raw is the underlying pool, for tests and tools that inspect or damage a
// database on purpose. The portal's own code writes through Write.
func (db *DB) Raw() *sql.DB { return db.pool }

// TimeLayout is how every time is stored: UTC with milliseconds, fixed
// width, so that text order is time order, and the same text SQLite's
// strftime('%Y-%m-%dT%H:%M:%fZ', ...) produces, so hand-written SQL compares
// correctly (docs/metrics.md).
const TimeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime formats t as stored (UTC, milliseconds, truncated).
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime reads a stored time. It also accepts any RFC 3339 time, as
// times kept inside JSON before the layout was fixed are.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// Migrate applies the migrations in dir of fsys (files named
// NNN_description.sql) that the database has not seen, in order, each in its
// own transaction. Each owner (a package) keeps its own numbering.
func (db *DB) Migrate(owner string, fsys fs.FS, dir string) error {
	ctx := context.Background()
	err := db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
			owner TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,
			PRIMARY KEY (owner, version))`); err != nil {
			return err
		}
		// Rows written before times had one layout.
		_, err := tx.Exec(`UPDATE schema_migrations SET applied_at = strftime('%Y-%m-%dT%H:%M:%fZ', applied_at)
			WHERE length(applied_at) <> 24`)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlitedb: migrate %s: %w", owner, err)
	}
	files, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return fmt.Errorf("sqlitedb: migrate %s: %w", owner, err)
	}
	sort.Strings(files)
	for _, f := range files {
		name := f[strings.LastIndexByte(f, '/')+1:]
		num, _, _ := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if err != nil {
			return fmt.Errorf("sqlitedb: migration %s/%s: name must start with a number", owner, name)
		}
		body, err := fs.ReadFile(fsys, f)
		if err != nil {
			return fmt.Errorf("sqlitedb: migrate %s: %w", owner, err)
		}
		if err := db.apply(ctx, owner, version, string(body)); err != nil {
			return fmt.Errorf("sqlitedb: migration %s/%s: %w", owner, name, err)
		}
	}
	return nil
}

// apply runs one migration unless it was applied already. The check is in
// the migration's own (immediate, hence exclusive) transaction: two
// processes starting on a new data directory must not both apply it.
func (db *DB) apply(ctx context.Context, owner string, version int, body string) error {
	return db.Write(ctx, func(tx *Tx) error {
		var seen int
		if err := tx.QueryRow(`SELECT count(*) FROM schema_migrations WHERE owner = ? AND version = ?`, owner, version).Scan(&seen); err != nil {
			return err
		}
		if seen > 0 {
			return nil
		}
		if _, err := tx.Exec(body); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO schema_migrations (owner, version, applied_at) VALUES (?, ?, ?)`,
			owner, version, FormatTime(time.Now()))
		return err
	})
}
