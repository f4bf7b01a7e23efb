// Package sqlitedb opens the portal's SQLite database with the settings every
// package relies on, and applies a package's numbered migrations.
package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver
)

// Open opens (creating if needed) the database at path: WAL journal, foreign
// keys on, a busy timeout so that concurrent writers (the server and a
// command-line tool) wait for each other instead of failing.
func Open(path string) (*sql.DB, error) {
	dsn := "file:" + path + "?_journal_mode=WAL&_foreign_keys=on&_busy_timeout=5000&_synchronous=NORMAL&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitedb: open %s: %w", path, err)
	}
	// Few connections: SQLite has one writer at a time, and writers waiting
	// for it poll (the busy timeout). Hundreds of pooled connections polling
	// at once starved each other past the timeout ("database is locked")
	// under load; waiting in the pool's queue is fair and cheap.
	db.SetMaxOpenConns(8)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitedb: open %s: %w", path, err)
	}
	return db, nil
}

// Migrate applies the migrations in dir of fsys (files named
// NNN_description.sql) that the database has not seen, in order, each in its
// own transaction. Each owner (a package) keeps its own numbering.
func Migrate(db *sql.DB, owner string, fsys fs.FS, dir string) error {
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		owner TEXT NOT NULL, version INTEGER NOT NULL, applied_at TEXT NOT NULL,
		PRIMARY KEY (owner, version))`); err != nil {
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
		if err := apply(db, owner, version, string(body)); err != nil {
			return fmt.Errorf("sqlitedb: migration %s/%s: %w", owner, name, err)
		}
	}
	return nil
}

// apply runs one migration unless it was applied already. The check is in
// the migration's own (immediate, hence exclusive) transaction: two
// processes starting on a new data directory must not both apply it.
func apply(db *sql.DB, owner string, version int, body string) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
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
	if _, err := tx.Exec(`INSERT INTO schema_migrations (owner, version, applied_at) VALUES (?, ?, ?)`,
		owner, version, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return err
	}
	return tx.Commit()
}

// InTx runs fn in a transaction and commits it, or rolls it back when fn
// fails. mu serialises the caller's write transactions within this process,
// so that they queue on the mutex instead of in SQLite's busy handler, which
// polls with sleeps; other processes still wait on the busy timeout.
func InTx(ctx context.Context, db *sql.DB, mu *sync.Mutex, fn func(*sql.Tx) error) error {
	mu.Lock()
	defer mu.Unlock()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
