// Package search owns the Bleve index of the knowledge base: its mapping,
// building and reusing it, and answering queries. It imports kb only.
//
// The index is derived data, rebuilt from the knowledge base whenever it is
// stale or damaged; it is never trusted unchecked:
//
//   - A build records the SHA-256 of every index file in index.meta.json,
//     written last. Open compares them before Bleve reads a byte, opens the
//     index read-only (so the files never change once built), recovers a
//     panic while opening, and runs a known check (checkIndex: the document
//     count, every document's id known to the knowledge base, and a query
//     per sample article that finds it).
//   - An index that fails any of these is damaged: it is logged at ERROR,
//     moved aside to DIR.damaged-TIMESTAMP beside the index directory (the
//     newest two are kept) and rebuilt.
//   - At query time a panic is recovered into an error, and a Bleve error or
//     a hit whose id the knowledge base lacks is logged at ERROR with the
//     query; any of them starts a rebuild in the background, which replaces
//     the index once built and checked (the query answers with its valid
//     hits meanwhile).
//   - Health runs the same check, plus a look at the files' sizes and times,
//     at most every few seconds, for /healthz.
//
// Publishing is incremental: Apply indexes the changed articles into a new
// generation of the index (see generation.go) and swaps the knowledge base
// and its index in at once; queries never wait for it, and never see one
// without the other.
package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/orbitask/portal/kb"
)

// Index answers queries over one loaded knowledge base, and moves to the
// next one with Apply.
type Index struct {
	// cur is the live (knowledge base, index) pair. A query takes a
	// reference to it and answers from it alone; Apply and the repair swap
	// in a new one and close the old one once its queries are done, so a
	// swap never waits for a query nor a query for a swap.
	cur atomic.Pointer[state]
	// write is held by whoever makes a new generation (Apply, the
	// repair, Close): one at a time, each from the current pair.
	write   chan struct{}
	closed  bool // under write
	nextGen int  // under write: the number of the next generation

	mapping   mapping.IndexMapping // the analysis, the same for every build
	cacheSize int
	ranking   Ranking
	warmer    warmer
	lock      *os.File

	dir    string
	log    *slog.Logger
	health healthState
	repair repairState
}

// Config says where the index lives.
type Config struct {
	Dir    string // directory holding the index; created if missing
	Logger *slog.Logger
	// CacheSize is how many recent results are kept; 0 means
	// DefaultCacheSize and a negative value disables the cache.
	CacheSize int
	// Ranking turns ranking features off, to measure them; the zero value
	// is the portal's ranking.
	Ranking Ranking
	// Warm, if set, gives the queries to fill a new pair's result cache
	// with before it serves (see warm.go); WarmBudget bounds the time
	// spent (0: DefaultWarmBudget).
	Warm       func(ctx context.Context) []Query
	WarmBudget time.Duration
}

// meta is stored beside the index; a mismatch means the index is stale.
// It is written last, once the build is complete and closed.
type meta struct {
	MappingVersion int       `json:"mapping_version"`
	Fingerprint    string    `json:"fingerprint"`
	Documents      int       `json:"documents"`
	BuiltAt        time.Time `json:"built_at"`
	// Files maps each file of the index (relative to index.bleve) to its
	// SHA-256, so that damage on disk is found before Bleve reads it.
	Files map[string]string `json:"files"`
}

// OpenStats says what Open did.
type OpenStats struct {
	Rebuilt  bool
	Reason   string
	Duration time.Duration
	// Damaged says the index was found damaged (Reason says how); it was
	// moved aside to DamagedDir, if that worked, and rebuilt.
	Damaged    bool
	DamagedDir string
}

const (
	indexName = "index.bleve"
	metaName  = "index.meta.json"
)

// ErrClosed is returned by Apply on a closed Index.
var ErrClosed = errors.New("search index closed")

// Open reuses the generation in cfg.Dir that was built by this mapping
// version from k's content and is intact, and builds a new one otherwise.
// A generation that should have been reusable but is damaged (see the
// package comment) is moved aside, logged as an error and rebuilt.
// Generations left half-built by a crash, and stale ones, are removed.
func Open(cfg Config, k *kb.KB) (*Index, OpenStats, error) {
	start := time.Now()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Ranking.Validate(); err != nil {
		return nil, OpenStats{}, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, OpenStats{}, fmt.Errorf("search: open: %w", err)
	}
	// One process owns the index: a second one would wait forever on the
	// index's own lock, or worse, rebuild it under the first one's feet.
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, OpenStats{}, err
	}
	m, err := newMapping()
	if err != nil {
		lock.Close()
		return nil, OpenStats{}, fmt.Errorf("search: mapping: %w", err)
	}
	ix := &Index{dir: cfg.Dir, log: log, mapping: m, lock: lock, write: make(chan struct{}, 1), cacheSize: cfg.CacheSize,
		ranking: cfg.Ranking, warmer: newWarmer(cfg)}
	if ix.cacheSize == 0 {
		ix.cacheSize = DefaultCacheSize
	}
	ix.repair.ctx, ix.repair.cancel = context.WithCancel(context.Background())
	fail := func(err error) (*Index, OpenStats, error) {
		ix.repair.cancel()
		lock.Close()
		return nil, OpenStats{}, err
	}

	gens, err := ix.generations()
	if err != nil {
		return fail(err)
	}
	var stats OpenStats
	gen, idx, files, reason, damaged := reuse(gens, k)
	if idx != nil {
		if err := checkIndex(idx, k); err != nil {
			idx.Close()
			idx, reason, damaged = nil, err.Error(), true
		}
	}
	if idx == nil {
		stats.Rebuilt, stats.Reason, stats.Damaged = true, reason, damaged
		if damaged {
			stats.DamagedDir = moveAside(cfg.Dir, gen.dir, log)
			log.Error("search index damaged; rebuilding it", "reason", reason, "moved_to", stats.DamagedDir)
		} else {
			log.Info("building search index", "reason", reason, "articles", len(k.Articles))
		}
		gen = generation{num: ix.nextGen, dir: ix.genDir(ix.nextGen)}
		ix.nextGen++
		idx, files, err = rebuild(context.Background(), gen.dir, k)
		if err != nil {
			os.RemoveAll(gen.dir)
			return fail(err)
		}
	}
	// Only the generation in use is kept.
	for _, g := range gens {
		if g.dir != gen.dir {
			ix.removeGeneration(g.dir)
		}
	}
	ix.cur.Store(ix.newState(idx, files, gen.dir, k))
	// Live but not yet serving: nobody has the Index before Open returns.
	ix.warm(ix.repair.ctx, ix.cur.Load())
	stats.Duration = time.Since(start)
	return ix, stats, nil
}

// reuse finds, among the complete generations (newest first), the one
// built by this mapping version from k's content, and opens it if it is
// intact. Otherwise it says why not, and whether that is damage rather than
// staleness; gen is then the generation found damaged, if any.
func reuse(gens []generation, k *kb.KB) (gen generation, idx bleve.Index, files map[string]fileState, reason string, damaged bool) {
	reason = "no index yet"
	for i := len(gens) - 1; i >= 0; i-- {
		g := gens[i]
		m, err := readMeta(g.dir)
		switch {
		case err != nil:
			if i == len(gens)-1 {
				gen, reason, damaged = g, "index metadata unreadable: "+err.Error(), true
			}
			continue
		case m.MappingVersion != MappingVersion:
			if i == len(gens)-1 {
				reason = fmt.Sprintf("mapping version %d, want %d", m.MappingVersion, MappingVersion)
			}
			continue
		case m.Fingerprint != k.Fingerprint:
			if i == len(gens)-1 {
				reason = "content changed"
			}
			continue
		case len(m.Files) == 0:
			return generation{}, nil, nil, "index built without checksums", false
		}
		idxPath := filepath.Join(g.dir, indexName)
		files, err = verifyFiles(idxPath, m.Files)
		if err != nil {
			return g, nil, nil, err.Error(), true
		}
		idx, err = openIndex(idxPath)
		if err != nil {
			return g, nil, nil, "index unreadable: " + err.Error(), true
		}
		return g, idx, files, "", false
	}
	return gen, nil, nil, reason, damaged
}

func readMeta(gen string) (meta, error) {
	var m meta
	raw, err := os.ReadFile(filepath.Join(gen, metaName))
	if err != nil {
		return m, err
	}
	err = json.Unmarshal(raw, &m)
	return m, err
}

// rebuild builds the index of k in the new generation directory gen and
// opens it. The metadata is written last: a build that dies half-way leaves
// none, and the next Open removes the generation.
func rebuild(ctx context.Context, gen string, k *kb.KB) (bleve.Index, map[string]fileState, error) {
	idxPath := filepath.Join(gen, indexName)
	if err := os.MkdirAll(gen, 0o755); err != nil {
		return nil, nil, fmt.Errorf("search: build: %w", err)
	}
	sums, err := build(ctx, idxPath, k)
	if err != nil {
		return nil, nil, err
	}
	files, err := verifyFiles(idxPath, sums)
	if err != nil {
		return nil, nil, fmt.Errorf("search: build: %w", err)
	}
	return finish(ctx, gen, k, files)
}

// finish writes the metadata of the generation gen, holding k's index
// with the files given, and opens it read-only and checks it.
func finish(ctx context.Context, gen string, k *kb.KB, files map[string]fileState) (bleve.Index, map[string]fileState, error) {
	sums := make(map[string]string, len(files))
	for name, st := range files {
		sums[name] = st.sum
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("search: build: %w", err)
	}
	if err := writeMeta(filepath.Join(gen, metaName), meta{MappingVersion, k.Fingerprint, len(k.Articles), time.Now().UTC(), sums}); err != nil {
		return nil, nil, err
	}
	idx, err := openIndex(filepath.Join(gen, indexName))
	if err != nil {
		return nil, nil, fmt.Errorf("search: build: %w", err)
	}
	if err := checkIndex(idx, k); err != nil {
		idx.Close()
		return nil, nil, fmt.Errorf("search: new index fails its check: %w", err)
	}
	return idx, files, nil
}

// build indexes k into a new index at idxPath, closes it and returns the
// SHA-256 of each of its files. Closed, the files no longer change: they
// are then only opened read-only.
func build(ctx context.Context, idxPath string, k *kb.KB) (map[string]string, error) {
	if err := os.RemoveAll(idxPath); err != nil {
		return nil, fmt.Errorf("search: build: %w", err)
	}
	m, err := newMapping()
	if err != nil {
		return nil, fmt.Errorf("search: mapping: %w", err)
	}
	idx, err := bleve.New(idxPath, m)
	if err != nil {
		return nil, fmt.Errorf("search: build: %w", err)
	}
	fail := func(err error) (map[string]string, error) {
		idx.Close()
		return nil, err
	}
	batch := idx.NewBatch()
	for _, a := range k.Articles {
		if err := batch.Index(a.ID, document(a)); err != nil {
			return fail(fmt.Errorf("search: index %s: %w", a.Path, err))
		}
		if batch.Size() >= 1000 {
			if err := ctx.Err(); err != nil {
				return fail(fmt.Errorf("search: build: %w", err))
			}
			if err := idx.Batch(batch); err != nil {
				return fail(fmt.Errorf("search: build: %w", err))
			}
			batch.Reset()
		}
	}
	if err := idx.Batch(batch); err != nil {
		return fail(fmt.Errorf("search: build: %w", err))
	}
	// One segment makes every term lookup one dictionary probe instead of
	// one per segment; the index is written once and then only read.
	if adv, err := idx.Advanced(); err == nil {
		if s, ok := adv.(*scorch.Scorch); ok {
			if err := s.ForceMerge(ctx, nil); err != nil {
				return fail(fmt.Errorf("search: merge: %w", err))
			}
		}
	}
	if err := idx.Close(); err != nil {
		return nil, fmt.Errorf("search: build: %w", err)
	}
	// Segments merged away may outlive the close; opening for writing once
	// deletes them (later opens are read-only and would keep them).
	idx, err = bleve.Open(idxPath)
	if err != nil {
		return nil, fmt.Errorf("search: build: %w", err)
	}
	if err := idx.Close(); err != nil {
		return nil, fmt.Errorf("search: build: %w", err)
	}
	sums, err := sumFiles(idxPath)
	if err != nil {
		return nil, fmt.Errorf("search: build: %w", err)
	}
	return sums, nil
}

// writeMeta replaces the metadata atomically: a crash leaves the old file
// or none, never half of one. It is synced, with its directory, so that
// after a power loss too the generation it completes is there or not (its
// index files scorch synced before).
func writeMeta(path string, m meta) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("search: meta: %w", err)
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("search: meta: %w", err)
	}
	_, err = f.Write(raw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("search: meta: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// document is what the index stores of an article; nothing is stored for
// retrieval, the knowledge base stays the source of truth.
func document(a *kb.Article) map[string]interface{} {
	headings := ""
	for _, h := range a.Headings {
		headings += h.Text + "\n"
	}
	tags := ""
	for _, t := range a.Tags {
		tags += t + " "
	}
	an := analyzerFor(a.Lang)
	return map[string]interface{}{
		fieldType:     an,
		fieldLang:     a.Lang,
		fieldCategory: a.Category,
		fieldTagKeys:  a.Tags,
		an: map[string]interface{}{
			fieldTitle:       a.Title,
			fieldDescription: a.Description,
			fieldTags:        tags,
			fieldHeadings:    headings,
			fieldBody:        a.Text,
			fieldSpell:       a.Title + "\n" + a.Text,
			fieldPairs:       a.Title + "\n" + a.Description + "\n" + a.Text,
			fieldTitleWords:  a.Title,
		},
	}
}

// Close stops a repair or an Apply under way, waits for the queries under
// way, and releases the index and its directory. Queries after Close fail.
func (ix *Index) Close() error {
	// Under the repair's lock, so that no rebuild starts after the wait.
	ix.repair.mu.Lock()
	ix.repair.cancel()
	ix.repair.mu.Unlock()
	ix.repair.wg.Wait()
	ix.write <- struct{}{} // an Apply under way stops at the cancel above
	defer func() { <-ix.write }()
	if ix.closed {
		return nil
	}
	ix.closed = true
	old := ix.cur.Load()
	closed := &state{kb: old.kb, drained: make(chan struct{})}
	closed.refs.Store(1)
	ix.cur.Store(closed)
	err := old.retire()
	ix.lock.Close()
	return err
}

// ErrInUse is returned by Open when another process has the index open.
var ErrInUse = errors.New("search index in use by another process")

// lockDir takes an exclusive lock on dir for the life of the process (the
// kernel releases it if the process dies).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("search: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("search: %s: %w", dir, ErrInUse)
		}
		return nil, fmt.Errorf("search: lock: %w", err)
	}
	return f, nil
}

// KB returns the knowledge base the index answers from: the one given to
// Open, or to the last Apply once it has returned.
func (ix *Index) KB() *kb.KB { return ix.cur.Load().kb }

// Size is the live index's size on disk (its files as built and verified)
// and the number of articles it holds, for the operators' metrics. A
// count Bleve cannot give (an index being repaired) is 0.
func (ix *Index) Size() (bytes int64, articles int) {
	s := ix.acquire()
	defer s.release()
	for _, f := range s.files {
		bytes += f.size
	}
	if s.idx != nil {
		if n, err := s.idx.DocCount(); err == nil {
			articles = int(n)
		}
	}
	return bytes, articles
}
