//go:build sqlite_fts5

package main

import (
	"database/sql"
	"fmt"
	"regexp"
	"strings"

	_ "github.com/mattn/go-sqlite3"

	"github.com/orbitask/portal/kb"
)

// fts5 is the peer: what a small helpdesk built on SQLite full-text search
// gets, set up as in ../shared/bench/fts5_peer.py (porter tokenizer, bm25,
// title weight 3, the words of the query OR-ed).
type fts5 struct {
	db   *sql.DB
	stmt *sql.Stmt
}

const fts5Note = ""

var wordRe = regexp.MustCompile(`[\p{L}\p{N}_]+`)

// openFTS5 indexes the articles in an in-memory FTS5 table.
func openFTS5(k *kb.KB) (*peer, error) {
	f, err := newFTS5(k)
	if err != nil {
		return nil, err
	}
	return &peer{search: f.search, close: f.Close}, nil
}

func newFTS5(k *kb.KB) (*fts5, error) {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		return nil, fmt.Errorf("fts5 peer: %w", err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`create virtual table a using fts5(id unindexed, title, body, tokenize='porter unicode61')`); err != nil {
		db.Close()
		return nil, fmt.Errorf("fts5 peer: %w", err)
	}
	tx, err := db.Begin()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("fts5 peer: %w", err)
	}
	for _, a := range k.Articles {
		if _, err := tx.Exec(`insert into a values (?,?,?)`, a.Slug, a.Title, a.Text); err != nil {
			tx.Rollback()
			db.Close()
			return nil, fmt.Errorf("fts5 peer: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		db.Close()
		return nil, fmt.Errorf("fts5 peer: %w", err)
	}
	stmt, err := db.Prepare(`select id from a where a match ? order by bm25(a, 0, 3.0, 1.0) limit 10`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("fts5 peer: %w", err)
	}
	return &fts5{db, stmt}, nil
}

func (f *fts5) search(q string) ([]string, error) {
	terms := wordRe.FindAllString(strings.ToLower(q), -1)
	if len(terms) == 0 {
		return nil, nil
	}
	for i, t := range terms {
		terms[i] = `"` + t + `"`
	}
	rows, err := f.stmt.Query(strings.Join(terms, " OR "))
	if err != nil {
		return nil, fmt.Errorf("fts5 peer: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("fts5 peer: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (f *fts5) Close() error {
	f.stmt.Close()
	return f.db.Close()
}
