package search

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/orbitask/portal/kb"
)

// ErrDamaged is wrapped by the errors of queries that found the index
// damaged; a rebuild is then under way.
var ErrDamaged = errors.New("search index damaged")

const (
	// healthTTL is how long Health's answer is reused: /healthz may be
	// polled often, and the check runs queries.
	healthTTL = 5 * time.Second
	// repairBackoff spaces rebuilds when one failed (a full disk, say), so
	// that every query does not start another.
	repairBackoff = time.Minute
	// keepDamaged is how many damaged indexes are kept for inspection.
	keepDamaged = 2
	// checkSamples is how many articles the check looks up by a title word.
	checkSamples = 3
)

// fileState is one index file as verified: its SHA-256, and its size and
// time, which tell cheaply whether it may have changed since.
type fileState struct {
	sum  string
	size int64
	mod  time.Time
}

// sumFiles returns the SHA-256 of each file under dir, by slash-separated
// path relative to dir.
func sumFiles(dir string) (map[string]string, error) {
	sums := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		st, err := hashFile(p)
		if err != nil {
			return err
		}
		sums[filepath.ToSlash(rel)] = st.sum
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search: checksums: %w", err)
	}
	return sums, nil
}

func hashFile(path string) (fileState, error) {
	f, err := os.Open(path)
	if err != nil {
		return fileState{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fileState{}, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return fileState{}, err
	}
	return fileState{hex.EncodeToString(h.Sum(nil)), info.Size(), info.ModTime()}, nil
}

// verifyFiles compares the files of the index in dir with the checksums
// recorded when it was built. Files the build did not write are ignored:
// Bleve reads only those its root lists.
func verifyFiles(dir string, sums map[string]string) (map[string]fileState, error) {
	names := make([]string, 0, len(sums))
	for name := range sums {
		names = append(names, name)
	}
	sort.Strings(names)
	files := make(map[string]fileState, len(sums))
	for _, name := range names {
		st, err := hashFile(filepath.Join(dir, filepath.FromSlash(name)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("index file %s missing", name)
		case err != nil:
			return nil, fmt.Errorf("index file %s unreadable: %w", name, err)
		case st.sum != sums[name]:
			return nil, fmt.Errorf("index file %s damaged: checksum mismatch (%d bytes)", name, st.size)
		}
		files[name] = st
	}
	return files, nil
}

// changedFiles tells whether a file verified at open has changed since:
// only a file whose size or time differs is read again.
func changedFiles(dir string, files map[string]fileState) error {
	for name, want := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		info, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("index file %s missing", name)
		}
		if info.Size() == want.size && info.ModTime().Equal(want.mod) {
			continue
		}
		if st, err := hashFile(p); err != nil || st.sum != want.sum {
			return fmt.Errorf("index file %s damaged: changed since it was verified", name)
		}
	}
	return nil
}

// openIndex opens a built index read-only: nothing rewrites its files, and
// no background work of Bleve's reads them outside a call of ours. A panic
// on damaged data becomes an error.
func openIndex(path string) (idx bleve.Index, err error) {
	defer func() {
		if p := recover(); p != nil {
			idx, err = nil, fmt.Errorf("panic: %v", p)
		}
	}()
	return bleve.OpenUsing(path, map[string]interface{}{"read_only": true})
}

// checkIndex is the check of an open index against the knowledge base it
// was built from: as many documents as articles, each document's id an
// article's, once, and a title word of sample articles finding them, with
// as many hits returned as counted. A panic becomes an error.
func checkIndex(idx bleve.Index, k *kb.KB) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("check panicked: %v", p)
		}
	}()
	n, err := idx.DocCount()
	if err != nil {
		return fmt.Errorf("document count: %w", err)
	}
	if int(n) != len(k.Articles) {
		return fmt.Errorf("index holds %d documents for %d articles", n, len(k.Articles))
	}
	adv, err := idx.Advanced()
	if err != nil {
		return fmt.Errorf("reader: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return fmt.Errorf("reader: %w", err)
	}
	defer r.Close()
	all, err := r.DocIDReaderAll()
	if err != nil {
		return fmt.Errorf("documents: %w", err)
	}
	defer all.Close()
	seen := make(map[string]bool, len(k.Articles))
	for {
		id, err := all.Next()
		if err != nil {
			return fmt.Errorf("documents: %w", err)
		}
		if id == nil {
			break
		}
		ext, err := r.ExternalID(id)
		if err != nil {
			return fmt.Errorf("document id: %w", err)
		}
		if _, ok := k.ByID(ext); !ok {
			return fmt.Errorf("document %q unknown to the knowledge base", ext)
		}
		if seen[ext] {
			return fmt.Errorf("document %q indexed twice", ext)
		}
		seen[ext] = true
	}
	if len(seen) != len(k.Articles) {
		return fmt.Errorf("index lists %d documents for %d articles", len(seen), len(k.Articles))
	}

	generic := idx.Mapping().AnalyzerNamed(analyzerGeneric)
	for _, a := range sampleArticles(k.Articles) {
		// The title's longest word is likely its rarest: few hits to read.
		word := ""
		for _, t := range generic.Analyze([]byte(a.Title)) {
			if len(t.Term) > len(word) {
				word = string(t.Term)
			}
		}
		if word == "" {
			continue
		}
		tq := bleve.NewTermQuery(word)
		tq.SetField(field(analyzerFor(a.Lang), fieldTitleWords))
		// Restricted to the article itself: whether it ranks among the
		// first hits depends on the content (a thousand equal titles), not
		// on the index being intact.
		q := bleve.NewConjunctionQuery(tq, bleve.NewDocIDQuery([]string{a.ID}))
		sr, err := idx.Search(bleve.NewSearchRequestOptions(q, 1, 0, false))
		if err != nil {
			return fmt.Errorf("query %q: %w", word, err)
		}
		if len(sr.Hits) != 1 || sr.Hits[0].ID != a.ID {
			return fmt.Errorf("query %q: %s not found", word, a.ID)
		}
	}
	return nil
}

// sampleArticles picks the first, middle and last articles: documents
// spread over the index.
func sampleArticles(all []*kb.Article) []*kb.Article {
	var out []*kb.Article
	seen := map[int]bool{}
	for i := 0; i < checkSamples && len(all) > 0; i++ {
		j := i * (len(all) - 1) / max(1, checkSamples-1)
		if !seen[j] {
			seen[j] = true
			out = append(out, all[j])
		}
	}
	return out
}

// moveAside moves the generation gen of the index in dir to a new
// directory beside dir, for inspection, keeping the newest keepDamaged of
// them. It returns the new directory, or "" when there was nothing to move
// or moving failed (the generation is then deleted, so that a rebuild can
// start afresh).
func moveAside(dir, gen string, log *slog.Logger) string {
	if gen == "" {
		return ""
	}
	if _, err := os.Stat(filepath.Join(gen, indexName)); err != nil {
		os.RemoveAll(gen)
		return ""
	}
	base := filepath.Clean(dir) + ".damaged-"
	stamp := time.Now().UTC().Format("20060102T150405.000Z")
	aside := base + stamp
	_, err := os.Lstat(aside)
	for i := 2; err == nil; i++ {
		aside = base + stamp + "-" + strconv.Itoa(i)
		_, err = os.Lstat(aside)
	}
	if err = os.Rename(gen, aside); err != nil {
		log.Error("search: cannot move the damaged index aside; deleting it", "err", err)
		os.Remove(filepath.Join(gen, metaName))
		os.RemoveAll(gen)
		return ""
	}
	// The names sort by time.
	old, _ := filepath.Glob(base + "*")
	sort.Strings(old)
	for len(old) > keepDamaged {
		os.RemoveAll(old[0])
		old = old[1:]
	}
	return aside
}

// healthState is Health's last answer.
type healthState struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// Health checks the index as Open does, without reading it all again: its
// files unchanged since they were verified (by size and time; a file that
// differs is read again) and checkIndex. The answer is reused for a few
// seconds. A failure starts a rebuild; while one runs, Health says so.
func (ix *Index) Health() error {
	h := &ix.health
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.at.IsZero() && time.Since(h.at) < healthTTL {
		return h.err
	}
	h.at, h.err = time.Now(), ix.checkNow()
	return h.err
}

func (ix *Index) checkNow() error {
	if reason := ix.repairing(); reason != "" {
		return fmt.Errorf("rebuilding the index: %s", reason)
	}
	s := ix.acquire()
	var err error
	if s.idx == nil {
		err = errors.New("index closed")
	} else if err = changedFiles(filepath.Join(s.gen, indexName), s.files); err == nil {
		err = checkIndex(s.idx, s.kb)
	}
	s.release()
	if err != nil {
		ix.log.Error("search index damaged: health check failed", "reason", err.Error())
		ix.startRepair(err.Error())
		return err
	}
	return nil
}

// repairState is the rebuild of a damaged index in the background.
type repairState struct {
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	reason string    // why the rebuild under way started; "" when none is
	failed time.Time // when the last rebuild failed
}

// damaged logs damage found by a query, with the query, and starts a
// rebuild. Only the start of the query's text is logged: a draft can be
// long.
func (ix *Index) damaged(what string, q Query, attrs ...any) {
	text := q.Text
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	ix.log.Error("search index damaged: "+what, append([]any{"query", text, "lang", q.Lang}, attrs...)...)
	ix.startRepair(what)
}

func (ix *Index) repairing() string {
	ix.repair.mu.Lock()
	defer ix.repair.mu.Unlock()
	return ix.repair.reason
}

// startRepair starts rebuilding the index in the background, unless a
// rebuild is under way, the last one failed less than repairBackoff ago,
// or the index is closing.
func (ix *Index) startRepair(reason string) {
	r := &ix.repair
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.reason != "" || time.Since(r.failed) < repairBackoff || r.ctx.Err() != nil {
		return
	}
	r.reason = reason
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		err := ix.rebuildLive(reason)
		switch {
		case err != nil && r.ctx.Err() != nil:
			ix.log.Info("search: rebuild stopped by shutdown")
		case err != nil:
			ix.log.Error("search: rebuild of the damaged index failed", "err", err)
		}
		r.mu.Lock()
		r.reason = ""
		if err != nil {
			r.failed = time.Now()
		}
		r.mu.Unlock()
		ix.health.mu.Lock()
		ix.health.at = time.Time{}
		ix.health.mu.Unlock()
	}()
}

// rebuildLive builds a new generation of the current knowledge base's
// index, checks it, and then swaps it in: queries go on (on the damaged
// index) meanwhile, and never wait. The damaged generation is moved aside.
// It holds ix.write throughout, so that Apply neither runs meanwhile nor
// is undone by it.
func (ix *Index) rebuildLive(reason string) error {
	start := time.Now()
	ctx := ix.repair.ctx
	if err := ix.lockWrite(ctx); err != nil {
		return fmt.Errorf("search: rebuild: %w", err)
	}
	defer ix.unlockWrite()
	if ix.closed {
		return fmt.Errorf("search: rebuild: %w", ErrClosed)
	}
	cur := ix.cur.Load()
	gen := ix.genDir(ix.nextGen)
	ix.nextGen++
	idx, files, err := rebuild(ctx, gen, cur.kb)
	if err == nil && ctx.Err() != nil {
		idx.Close()
		err = fmt.Errorf("search: rebuild: %w", ctx.Err())
	}
	if err != nil {
		ix.removeGeneration(gen)
		return err
	}
	fresh := ix.newState(idx, files, gen, cur.kb)
	ix.warm(ctx, fresh)
	damaged := ix.swap(fresh)
	aside := moveAside(ix.dir, damaged.gen, ix.log)
	ix.log.Info("search index rebuilt", "reason", reason, "moved_to", aside, "took", time.Since(start))
	return nil
}
