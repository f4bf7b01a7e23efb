// Package fts5peer is the search the portal is measured against: what a
// small helpdesk built on SQLite full-text search gets, set up as in
// ../shared/bench/fts5_peer.py (FTS5, porter stemmer over unicode61,
// bm25 with the title weighted 3, any of the query's words). The relevance
// tool, the in-process benchmark and cmd/fts5serve all use this one peer.
//
// go-sqlite3 has FTS5 only when built with the sqlite_fts5 tag; without
// it, Open fails and says so.
package fts5peer

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	_ "github.com/mattn/go-sqlite3"

	"github.com/orbitask/portal/kb"
)

// Peer is an FTS5 index of some articles, safe for concurrent use.
type Peer struct {
	db       *sql.DB
	dir      string
	articles []*kb.Article // by rowid-1
	plain    *sql.Stmt
	snippets *sql.Stmt
}

// Hit is one matching article.
type Hit struct {
	Article *kb.Article
	Score   float64 // FTS5's bm25: lower is better
	Snippet string  // only when asked for; FTS5's snippet of the body, matches in <mark>
}

var wordRe = regexp.MustCompile(`[\p{L}\p{N}_]+`)

// Open indexes the articles' titles and bodies (Article.Text). The index is
// a temporary database file rather than ":memory:", so that every
// connection sees it and concurrent searches do not queue on one
// connection; Close removes it.
func Open(articles []*kb.Article) (*Peer, error) {
	dir, err := os.MkdirTemp("", "fts5peer-")
	if err != nil {
		return nil, fmt.Errorf("fts5 peer: %w", err)
	}
	p := &Peer{dir: dir, articles: articles}
	fail := func(err error) (*Peer, error) {
		p.Close()
		return nil, fmt.Errorf("fts5 peer: %w", err)
	}
	if p.db, err = sql.Open("sqlite3", "file:"+filepath.Join(dir, "peer.db")+"?_journal_mode=OFF&_synchronous=OFF"); err != nil {
		return fail(err)
	}
	n := runtime.GOMAXPROCS(0) * 2
	p.db.SetMaxOpenConns(n)
	p.db.SetMaxIdleConns(n)
	if _, err := p.db.Exec(`create virtual table a using fts5(lang unindexed, title, body, tokenize='porter unicode61')`); err != nil {
		return fail(fmt.Errorf("%w (build with -tags sqlite_fts5)", err))
	}
	tx, err := p.db.Begin()
	if err != nil {
		return fail(err)
	}
	for i, a := range articles {
		if _, err := tx.Exec(`insert into a (rowid, lang, title, body) values (?,?,?,?)`, i+1, a.Lang, a.Title, a.Text); err != nil {
			tx.Rollback()
			return fail(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	// One segment, as the portal's index is merged to one after a build.
	if _, err := p.db.Exec(`insert into a(a) values ('optimize')`); err != nil {
		return fail(err)
	}
	const where = ` from a where a match ?1 and (?2 = '' or lang = ?2) order by bm25(a, 0, 3.0, 1.0) limit ?3`
	if p.plain, err = p.db.Prepare(`select rowid, bm25(a, 0, 3.0, 1.0)` + where); err != nil {
		return fail(err)
	}
	if p.snippets, err = p.db.Prepare(`select rowid, bm25(a, 0, 3.0, 1.0), snippet(a, 2, '<mark>', '</mark>', '…', 24)` + where); err != nil {
		return fail(err)
	}
	return p, nil
}

// Search returns the limit best articles for text in lang ("" for any)
// that contain any of its words, with a snippet each if snippets is set.
func (p *Peer) Search(ctx context.Context, text, lang string, limit int, snippets bool) ([]Hit, error) {
	terms := wordRe.FindAllString(strings.ToLower(text), -1)
	if len(terms) == 0 {
		return nil, nil
	}
	for i, t := range terms {
		terms[i] = `"` + t + `"`
	}
	stmt := p.plain
	if snippets {
		stmt = p.snippets
	}
	rows, err := stmt.QueryContext(ctx, strings.Join(terms, " OR "), lang, limit)
	if err != nil {
		return nil, fmt.Errorf("fts5 peer: %w", err)
	}
	defer rows.Close()
	var hits []Hit
	for rows.Next() {
		var h Hit
		var rowid int
		dest := []any{&rowid, &h.Score}
		if snippets {
			dest = append(dest, &h.Snippet)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("fts5 peer: %w", err)
		}
		h.Article = p.articles[rowid-1]
		hits = append(hits, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("fts5 peer: %w", err)
	}
	return hits, nil
}

// Close releases the database and removes its file.
func (p *Peer) Close() error {
	var err error
	if p.db != nil {
		err = p.db.Close() // closes the statements too
	}
	if rerr := os.RemoveAll(p.dir); err == nil {
		err = rerr
	}
	return err
}
