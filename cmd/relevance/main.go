// Command relevance measures the portal's search on a labelled set (a folder
// of articles and TSV files of `query<TAB>article-slug`) and, in the same run
// on the same data, a SQLite FTS5 peer (porter tokenizer, bm25, title weight
// 3). Build it with the sqlite_fts5 tag:
//
//	go run -tags sqlite_fts5 ./cmd/relevance -docs ../shared/bench/covidfaq/docs \
//	    ../shared/bench/covidfaq/queries.tsv ../shared/bench/covidfaq/drafts.tsv
package main

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/search"
)

func main() {
	docs := flag.String("docs", "", "folder of Markdown articles")
	lang := flag.String("lang", "en", "language of the queries")
	verbose := flag.Bool("v", false, "print the queries the portal misses at 5")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: relevance -docs DIR [-lang en] SET.tsv...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *docs == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*docs, *lang, flag.Args(), *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "relevance:", err)
		os.Exit(1)
	}
}

type searcher func(q string) ([]string, error)

func run(docs, lang string, sets []string, verbose bool) error {
	k, err := kb.Load(docs)
	if err != nil {
		return err
	}
	for _, p := range k.Problems {
		slog.Warn("content problem", "problem", p.String())
	}
	dir, err := os.MkdirTemp("", "relevance-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ix, _, err := search.Open(search.Config{Dir: dir, CacheSize: -1}, k)
	if err != nil {
		return err
	}
	defer ix.Close()
	fts, err := newFTS5(k)
	if err != nil {
		return err
	}
	defer fts.Close()

	portal := func(q string) ([]string, error) {
		res, err := ix.Search(context.Background(), search.Query{Text: q, Lang: lang, Limit: 10})
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(res.Hits))
		for i, h := range res.Hits {
			ids[i] = h.Article.Slug
		}
		return ids, nil
	}
	fmt.Printf("articles: %d\n\n", len(k.Articles))
	fmt.Println("| set | engine | questions | Recall@5 | MRR@10 | median ms |")
	fmt.Println("|---|---|---|---|---|---|")
	for _, set := range sets {
		rel, order, err := readSet(set)
		if err != nil {
			return err
		}
		name := strings.TrimSuffix(filepath.Base(set), filepath.Ext(set))
		for _, e := range []struct {
			name string
			s    searcher
		}{{"portal (Bleve)", portal}, {"SQLite FTS5", fts.search}} {
			r5, mrr, med, misses, err := evaluate(e.s, rel, order)
			if err != nil {
				return err
			}
			fmt.Printf("| %s | %s | %d | %.3f | %.3f | %.2f |\n", name, e.name, len(order), r5, mrr, med)
			if verbose && e.name == "portal (Bleve)" {
				for _, m := range misses {
					fmt.Fprintln(os.Stderr, "MISS", m)
				}
			}
		}
	}
	return nil
}

func readSet(path string) (map[string]map[string]bool, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	rel := map[string]map[string]bool{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		q, id, ok := strings.Cut(sc.Text(), "\t")
		if !ok || strings.TrimSpace(q) == "" {
			continue
		}
		if rel[q] == nil {
			rel[q] = map[string]bool{}
			order = append(order, q)
		}
		rel[q][strings.TrimSpace(id)] = true
	}
	return rel, order, sc.Err()
}

func evaluate(s searcher, rel map[string]map[string]bool, order []string) (r5, mrr, medianMS float64, misses []string, err error) {
	var times []time.Duration
	for _, q := range order {
		t0 := time.Now()
		ids, err := s(q)
		if err != nil {
			return 0, 0, 0, nil, fmt.Errorf("%q: %w", q, err)
		}
		times = append(times, time.Since(t0))
		found := false
		for i, id := range ids {
			if i < 5 && rel[q][id] {
				found = true
			}
		}
		if found {
			r5++
		} else {
			misses = append(misses, fmt.Sprintf("%s\t%v\t%v", q, keys(rel[q]), ids))
		}
		for i, id := range ids {
			if rel[q][id] {
				mrr += 1 / float64(i+1)
				break
			}
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	n := float64(len(order))
	return r5 / n, mrr / n, float64(times[len(times)/2].Microseconds()) / 1000, misses, nil
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// fts5 is the peer: what a small helpdesk built on SQLite full-text search
// gets, set up as in ../shared/bench/fts5_peer.py.
type fts5 struct {
	db   *sql.DB
	stmt *sql.Stmt
}

var wordRe = regexp.MustCompile(`[\p{L}\p{N}_]+`)

func newFTS5(k *kb.KB) (*fts5, error) {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`create virtual table a using fts5(id unindexed, title, body, tokenize='porter unicode61')`); err != nil {
		db.Close()
		return nil, fmt.Errorf("fts5 peer (build with -tags sqlite_fts5): %w", err)
	}
	tx, err := db.Begin()
	if err != nil {
		return nil, err
	}
	for _, a := range k.Articles {
		if _, err := tx.Exec(`insert into a values (?,?,?)`, a.Slug, a.Title, a.Text); err != nil {
			tx.Rollback()
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	stmt, err := db.Prepare(`select id from a where a match ? order by bm25(a, 0, 3.0, 1.0) limit 10`)
	if err != nil {
		return nil, err
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
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (f *fts5) Close() error {
	f.stmt.Close()
	return f.db.Close()
}
