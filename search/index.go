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
package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/orbitask/portal/kb"
)

// Index answers queries over one loaded knowledge base.
type Index struct {
	// mu guards idx and files: a query holds it for reading, a repair
	// swaps the index under it.
	mu    sync.RWMutex
	idx   bleve.Index
	files map[string]fileState // the index's files as verified

	mapping   mapping.IndexMapping // the analysis, the same for every build
	kb        *kb.KB
	synonyms  map[string][]synonymGroup  // analyzer → analysed synonym groups
	analyzers []string                   // analyzers of the languages with articles
	noise     map[string]map[string]bool // analyzer → analysed noise words
	rawNoise  map[string]map[string]bool // analyzer → noise words as typed (lowercased)
	// sharedAnalyzer is true for an analyzer that serves several of the
	// knowledge base's languages (e.g. pt-BR and pt-PT), whose searches need
	// a language filter.
	sharedAnalyzer map[string]bool
	cache          *resultCache
	lock           *os.File

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

// Open reuses the index in cfg.Dir when it was built by this mapping version
// from the same content and is intact, and rebuilds it otherwise (also when
// it is missing or cannot be opened). An index that should have been
// reusable but is damaged (see the package comment) is moved aside, logged
// as an error and rebuilt.
func Open(cfg Config, k *kb.KB) (*Index, OpenStats, error) {
	start := time.Now()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
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
	ix := &Index{dir: cfg.Dir, log: log, kb: k, mapping: m, lock: lock}
	ix.analyse()
	ix.repair.ctx, ix.repair.cancel = context.WithCancel(context.Background())

	var stats OpenStats
	idx, files, reason, damaged := reuse(cfg.Dir, k)
	if idx != nil {
		if err := checkIndex(idx, k); err != nil {
			idx.Close()
			idx, reason, damaged = nil, err.Error(), true
		}
	}
	if idx == nil {
		stats.Rebuilt, stats.Reason, stats.Damaged = true, reason, damaged
		if damaged {
			stats.DamagedDir = moveAside(cfg.Dir, log)
			log.Error("search index damaged; rebuilding it", "reason", reason, "moved_to", stats.DamagedDir)
		} else {
			log.Info("building search index", "reason", reason, "articles", len(k.Articles))
		}
		idx, files, err = rebuild(context.Background(), cfg.Dir, k)
		if err != nil {
			ix.Close()
			return nil, stats, err
		}
	}
	ix.idx, ix.files = idx, files
	size := cfg.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	ix.cache = newResultCache(size)
	stats.Duration = time.Since(start)
	return ix, stats, nil
}

// reuse opens the index in dir if it is current and intact. Otherwise it
// says why not, and whether that is damage rather than staleness.
func reuse(dir string, k *kb.KB) (idx bleve.Index, files map[string]fileState, reason string, damaged bool) {
	raw, err := os.ReadFile(filepath.Join(dir, metaName))
	if err != nil {
		return nil, nil, "no index yet", false
	}
	var m meta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, "index metadata unreadable: " + err.Error(), true
	}
	if m.MappingVersion != MappingVersion {
		return nil, nil, fmt.Sprintf("mapping version %d, want %d", m.MappingVersion, MappingVersion), false
	}
	if m.Fingerprint != k.Fingerprint {
		return nil, nil, "content changed", false
	}
	if len(m.Files) == 0 {
		return nil, nil, "index built without checksums", false
	}
	idxPath := filepath.Join(dir, indexName)
	files, err = verifyFiles(idxPath, m.Files)
	if err != nil {
		return nil, nil, err.Error(), true
	}
	idx, err = openIndex(idxPath)
	if err != nil {
		return nil, nil, "index unreadable: " + err.Error(), true
	}
	return idx, files, "", false
}

// rebuild builds the index of k in dir afresh and opens it.
func rebuild(ctx context.Context, dir string, k *kb.KB) (bleve.Index, map[string]fileState, error) {
	idxPath, metaPath := filepath.Join(dir, indexName), filepath.Join(dir, metaName)
	// The metadata goes first and last: a build that dies half-way leaves no
	// metadata, so the next start rebuilds.
	if err := os.Remove(metaPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("search: build: %w", err)
	}
	sums, err := build(ctx, idxPath, k)
	if err != nil {
		return nil, nil, err
	}
	if err := writeMeta(metaPath, meta{MappingVersion, k.Fingerprint, len(k.Articles), time.Now().UTC(), sums}); err != nil {
		return nil, nil, err
	}
	files, err := verifyFiles(idxPath, sums)
	if err != nil {
		return nil, nil, fmt.Errorf("search: build: %w", err)
	}
	idx, err := openIndex(idxPath)
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
// or none, never half of one.
func writeMeta(path string, m meta) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("search: meta: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, raw, 0o644); err != nil {
		return fmt.Errorf("search: meta: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("search: meta: %w", err)
	}
	return nil
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
			fieldTitleWords:  a.Title,
		},
	}
}

// Close stops a repair under way and releases the index and its
// directory.
func (ix *Index) Close() error {
	// Under the repair's lock, so that no rebuild starts after the wait.
	ix.repair.mu.Lock()
	ix.repair.cancel()
	ix.repair.mu.Unlock()
	ix.repair.wg.Wait()
	ix.mu.Lock()
	defer ix.mu.Unlock()
	var err error
	if ix.idx != nil {
		err = ix.idx.Close()
		ix.idx = nil
	}
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

// KB returns the knowledge base the index was built from.
func (ix *Index) KB() *kb.KB { return ix.kb }
