// Package search owns the Bleve index of the knowledge base: its mapping,
// building and reusing it, and answering queries. It imports kb only.
package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"

	"github.com/orbitask/portal/kb"
)

// Index answers queries over one loaded knowledge base.
type Index struct {
	idx       bleve.Index
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
type meta struct {
	MappingVersion int       `json:"mapping_version"`
	Fingerprint    string    `json:"fingerprint"`
	Documents      int       `json:"documents"`
	BuiltAt        time.Time `json:"built_at"`
}

// OpenStats says what Open did.
type OpenStats struct {
	Rebuilt  bool
	Reason   string
	Duration time.Duration
}

// Open reuses the index in cfg.Dir when it was built by this mapping version
// from the same content, and rebuilds it otherwise (also when it is missing
// or cannot be opened).
func Open(cfg Config, k *kb.KB) (*Index, OpenStats, error) {
	start := time.Now()
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, OpenStats{}, fmt.Errorf("search: open: %w", err)
	}
	idxPath := filepath.Join(cfg.Dir, "index.bleve")
	metaPath := filepath.Join(cfg.Dir, "index.meta.json")
	// One process owns the index: a second one would wait forever on the
	// index's own lock, or worse, rebuild it under the first one's feet.
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, OpenStats{}, err
	}

	var stats OpenStats
	idx, reason := reuse(idxPath, metaPath, k)
	if idx == nil {
		stats.Rebuilt, stats.Reason = true, reason
		log.Info("building search index", "reason", reason, "articles", len(k.Articles))
		var err error
		idx, err = build(idxPath, metaPath, k)
		if err != nil {
			lock.Close()
			return nil, stats, err
		}
	}
	ix, err := newIndex(idx, k)
	if err != nil {
		idx.Close()
		lock.Close()
		return nil, stats, err
	}
	ix.lock = lock
	size := cfg.CacheSize
	if size == 0 {
		size = DefaultCacheSize
	}
	ix.cache = newResultCache(size)
	stats.Duration = time.Since(start)
	return ix, stats, nil
}

func reuse(idxPath, metaPath string, k *kb.KB) (bleve.Index, string) {
	raw, err := os.ReadFile(metaPath)
	if err != nil {
		return nil, "no index yet"
	}
	var m meta
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, "index metadata unreadable"
	}
	if m.MappingVersion != MappingVersion {
		return nil, fmt.Sprintf("mapping version %d, want %d", m.MappingVersion, MappingVersion)
	}
	if m.Fingerprint != k.Fingerprint {
		return nil, "content changed"
	}
	idx, err := bleve.Open(idxPath)
	if err != nil {
		return nil, "index unreadable: " + err.Error()
	}
	n, err := idx.DocCount()
	if err != nil || int(n) != len(k.Articles) || n != uint64(m.Documents) {
		idx.Close()
		return nil, "index incomplete"
	}
	return idx, ""
}

func build(idxPath, metaPath string, k *kb.KB) (bleve.Index, error) {
	// The metadata goes first and last: a build that dies half-way leaves no
	// metadata, so the next start rebuilds.
	if err := os.Remove(metaPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("search: build: %w", err)
	}
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
	batch := idx.NewBatch()
	for _, a := range k.Articles {
		if err := batch.Index(a.ID, document(a)); err != nil {
			idx.Close()
			return nil, fmt.Errorf("search: index %s: %w", a.Path, err)
		}
		if batch.Size() >= 1000 {
			if err := idx.Batch(batch); err != nil {
				idx.Close()
				return nil, fmt.Errorf("search: build: %w", err)
			}
			batch.Reset()
		}
	}
	if err := idx.Batch(batch); err != nil {
		idx.Close()
		return nil, fmt.Errorf("search: build: %w", err)
	}
	// One segment makes every term lookup one dictionary probe instead of
	// one per segment; the index is written once and then only read.
	if adv, err := idx.Advanced(); err == nil {
		if s, ok := adv.(*scorch.Scorch); ok {
			if err := s.ForceMerge(context.Background(), nil); err != nil {
				idx.Close()
				return nil, fmt.Errorf("search: merge: %w", err)
			}
		}
	}
	raw, _ := json.Marshal(meta{MappingVersion, k.Fingerprint, len(k.Articles), time.Now().UTC()})
	if err := os.WriteFile(metaPath, raw, 0o644); err != nil {
		idx.Close()
		return nil, fmt.Errorf("search: build: %w", err)
	}
	return idx, nil
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

// Close releases the index and its directory.
func (ix *Index) Close() error {
	err := ix.idx.Close()
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
