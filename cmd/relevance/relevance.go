package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/search"
)

// labelledSet is a folder of articles and the files of labelled questions
// measured on it.
type labelledSet struct {
	Name  string
	Docs  string
	Files []string // TSV files of text<TAB>slug; drafts when named drafts*.tsv
}

// setFromDir reads the layout of bench/devsets: DIR/docs, DIR/queries.tsv,
// DIR/drafts.tsv.
func setFromDir(dir string) (labelledSet, error) {
	s := labelledSet{Name: filepath.Base(filepath.Clean(dir)), Docs: filepath.Join(dir, "docs")}
	if fi, err := os.Stat(s.Docs); err != nil || !fi.IsDir() {
		return s, fmt.Errorf("%s: no docs/ folder", dir)
	}
	for _, f := range []string{"queries.tsv", "drafts.tsv"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			s.Files = append(s.Files, filepath.Join(dir, f))
		}
	}
	if len(s.Files) == 0 {
		return s, fmt.Errorf("%s: neither queries.tsv nor drafts.tsv", dir)
	}
	return s, nil
}

func isDrafts(file string) bool { return strings.HasPrefix(filepath.Base(file), "drafts") }

// peer is a search engine measured beside the portal.
type peer struct {
	search func(text string) ([]string, error) // slugs, best first, at most 10
	close  func() error
}

// row is one engine's figures on one file.
type row struct {
	Set, File, Engine string
	N                 int
	R5, MRR           float64
	// Of the texts, how many show at least one article but none right in
	// the first five, and how many show nothing at all.
	Wrong, None int
	Misses      []string // text, right slugs and the slugs returned
}

// delta is what turning one ranking feature off changes on one file.
type delta struct {
	Set, File, Feature string
	R5, MRR            float64 // feature off minus full portal
}

// report is what one set measures.
type report struct {
	Rows     []row
	Ablation []delta
}

// Engine names as the tables print them.
const (
	enginePortal       = "portal"
	enginePortalSearch = "portal, search path"
	enginePortalDraft  = "portal, drafting path"
	engineBM25         = "plain Bleve BM25"
	engineFTS5         = "SQLite FTS5"
)

// measure indexes the set's articles in the portal, in plain Bleve BM25
// and, when built with FTS5, in SQLite, and runs every file through each.
// Drafts go through search.DraftQuery as drafting does, and also through
// the search path, so that the difference between them shows. With ablate,
// the portal is opened once more per ranking feature, with that feature off.
func measure(s labelledSet, lang string, ablate bool, base search.Ranking) (report, error) {
	var rep report
	k, err := kb.Load(s.Docs)
	if err != nil {
		return rep, fmt.Errorf("%s: %w", s.Name, err)
	}
	for _, p := range k.Problems {
		slog.Warn("content problem", "set", s.Name, "problem", p.String())
	}
	if len(k.Articles) == 0 {
		return rep, fmt.Errorf("%s: no articles in %s", s.Name, s.Docs)
	}
	dir, err := os.MkdirTemp("", "relevance-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)

	ix, _, err := search.Open(search.Config{Dir: filepath.Join(dir, "portal"), CacheSize: -1, Ranking: base}, k)
	if err != nil {
		return rep, fmt.Errorf("%s: %w", s.Name, err)
	}
	defer ix.Close()
	bm, err := newPlainBM25(dir, lang, k)
	if err != nil {
		return rep, fmt.Errorf("%s: %w", s.Name, err)
	}
	defer bm.Close()
	fts, err := openFTS5(k)
	if err != nil {
		return rep, fmt.Errorf("%s: %w", s.Name, err)
	}
	if fts != nil {
		defer fts.close()
	}

	files := make([]labelledFile, len(s.Files))
	for i, f := range s.Files {
		if files[i], err = readLabelled(f); err != nil {
			return rep, err
		}
	}
	for _, f := range files {
		add := func(engine string, at5, at10 func(string) ([]string, error)) error {
			r, err := evaluate(f, at5, at10)
			if err != nil {
				return fmt.Errorf("%s/%s, %s: %w", s.Name, f.Name, engine, err)
			}
			r.Set, r.File, r.Engine = s.Name, f.Name, engine
			rep.Rows = append(rep.Rows, r)
			return nil
		}
		var err error
		if f.Drafts {
			err = add(enginePortal, portalDraft(ix, lang, 5), portalDraft(ix, lang, 10))
			if err == nil {
				err = add(enginePortalSearch, portalSearch(ix, lang), nil)
			}
		} else {
			err = add(enginePortal, portalSearch(ix, lang), nil)
			if err == nil {
				// Questions typed into the ticket form: drafting must find
				// what searching finds.
				err = add(enginePortalDraft, portalDraft(ix, lang, 5), portalDraft(ix, lang, 10))
			}
		}
		if err == nil {
			err = add(engineBM25, bm.search, nil)
		}
		if err == nil && fts != nil {
			err = add(engineFTS5, fts.search, nil)
		}
		if err != nil {
			return rep, err
		}
	}
	if !ablate {
		return rep, nil
	}

	full := map[string]row{}
	for _, r := range rep.Rows {
		if r.Engine == enginePortal {
			full[r.File] = r
		}
	}
	for _, feature := range search.Features {
		if slices.Contains(base.Off, feature) {
			continue
		}
		off, _, err := search.Open(search.Config{Dir: filepath.Join(dir, "off-"+feature), CacheSize: -1, Ranking: search.Ranking{Off: append(slices.Clone(base.Off), feature)}}, k)
		if err != nil {
			return rep, fmt.Errorf("%s: %s off: %w", s.Name, feature, err)
		}
		for _, f := range files {
			at5 := portalSearch(off, lang)
			var at10 func(string) ([]string, error)
			if f.Drafts {
				at5, at10 = portalDraft(off, lang, 5), portalDraft(off, lang, 10)
			}
			r, err := evaluate(f, at5, at10)
			if err != nil {
				off.Close()
				return rep, fmt.Errorf("%s/%s, %s off: %w", s.Name, f.Name, feature, err)
			}
			base := full[f.Name]
			rep.Ablation = append(rep.Ablation, delta{Set: s.Name, File: f.Name, Feature: feature, R5: r.R5 - base.R5, MRR: r.MRR - base.MRR})
		}
		if err := off.Close(); err != nil {
			return rep, fmt.Errorf("%s: %s off: %w", s.Name, feature, err)
		}
	}
	return rep, nil
}

// portalSearch is the search path (/api/search): the text as a query.
func portalSearch(ix *search.Index, lang string) func(string) ([]string, error) {
	return func(text string) ([]string, error) {
		return slugs(ix.Search(context.Background(), search.Query{Text: text, Lang: lang, Limit: 10}))
	}
}

// portalDraft is the drafting path (/api/deflect): search.DraftQuery, floor
// included, with the given limit.
func portalDraft(ix *search.Index, lang string, limit int) func(string) ([]string, error) {
	return func(text string) ([]string, error) {
		return slugs(ix.Search(context.Background(), search.DraftQuery(text, lang, limit)))
	}
}

func slugs(res search.Result, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.Article.Slug
	}
	return ids, nil
}

// labelledFile is one TSV: texts in file order and the right slugs of each.
type labelledFile struct {
	Name   string // "queries", "drafts"
	Drafts bool
	Order  []string
	Right  map[string]map[string]bool
}

func readLabelled(path string) (labelledFile, error) {
	lf := labelledFile{
		Name:   strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)),
		Drafts: isDrafts(path),
		Right:  map[string]map[string]bool{},
	}
	f, err := os.Open(path)
	if err != nil {
		return lf, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		q, id, ok := strings.Cut(sc.Text(), "\t")
		if !ok || strings.TrimSpace(q) == "" {
			continue
		}
		if lf.Right[q] == nil {
			lf.Right[q] = map[string]bool{}
			lf.Order = append(lf.Order, q)
		}
		lf.Right[q][strings.TrimSpace(id)] = true
	}
	if err := sc.Err(); err != nil {
		return lf, fmt.Errorf("%s: %w", path, err)
	}
	if len(lf.Order) == 0 {
		return lf, fmt.Errorf("%s: no labelled lines", path)
	}
	return lf, nil
}

// evaluate runs every text of f: Recall@5 and what is shown come from at5,
// MRR@10 from at10 (the same run when at10 is nil).
func evaluate(f labelledFile, at5, at10 func(string) ([]string, error)) (row, error) {
	var r row
	for _, q := range f.Order {
		ids, err := at5(q)
		if err != nil {
			return r, fmt.Errorf("%q: %w", q, err)
		}
		ranked := ids
		if at10 != nil {
			if ranked, err = at10(q); err != nil {
				return r, fmt.Errorf("%q: %w", q, err)
			}
		}
		right := f.Right[q]
		found := false
		for i, id := range ids {
			if i < 5 && right[id] {
				found = true
				break
			}
		}
		switch {
		case found:
			r.R5++
		case len(ids) == 0:
			r.None++
		default:
			r.Wrong++
		}
		if !found {
			r.Misses = append(r.Misses, fmt.Sprintf("%s\t%v\t%v", q, sortedKeys(right), ids))
		}
		for i, id := range ranked {
			if i < 10 && right[id] {
				r.MRR += 1 / float64(i+1)
				break
			}
		}
	}
	r.N = len(f.Order)
	r.R5 /= float64(r.N)
	r.MRR /= float64(r.N)
	return r, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
