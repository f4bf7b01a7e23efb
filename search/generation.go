package search

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	segapi "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/orbitask/portal/kb"
)

// The index lives in generations: DIR/gen-N/index.bleve with its
// DIR/gen-N/index.meta.json, written last. The live generation is only
// ever opened read-only. Apply makes generation N+1 from N: the segment
// files, which scorch never rewrites, are hard-linked, the rest copied;
// the copy is opened for writing, updated, closed, checksummed, described
// by its metadata, reopened read-only and checked, and only then swapped
// in and N removed. At any instant a crash leaves a generation that is
// complete and matches the knowledge base it was built for; Open picks the
// one matching the knowledge base it is given and removes the others.
const genPrefix = "gen-"

// generation is one generation directory.
type generation struct {
	num int
	dir string
}

// generations lists the generation directories in ix.dir, oldest first,
// after removing those a crash left without metadata and what older
// versions of the portal left at the top. It sets ix.nextGen.
func (ix *Index) generations() ([]generation, error) {
	for _, old := range []string{indexName, metaName, "index.new.bleve"} {
		p := filepath.Join(ix.dir, old)
		if _, err := os.Lstat(p); err != nil {
			continue
		}
		ix.log.Info("search: removing an index of an older layout", "path", p)
		if err := os.RemoveAll(p); err != nil {
			return nil, fmt.Errorf("search: open: %w", err)
		}
	}
	entries, err := os.ReadDir(ix.dir)
	if err != nil {
		return nil, fmt.Errorf("search: open: %w", err)
	}
	var gens []generation
	for _, e := range entries {
		n, err := strconv.Atoi(strings.TrimPrefix(e.Name(), genPrefix))
		if !e.IsDir() || !strings.HasPrefix(e.Name(), genPrefix) || err != nil {
			continue
		}
		ix.nextGen = max(ix.nextGen, n+1)
		g := generation{n, filepath.Join(ix.dir, e.Name())}
		if _, err := os.Stat(filepath.Join(g.dir, metaName)); errors.Is(err, fs.ErrNotExist) {
			ix.log.Info("search: removing a half-built index generation", "dir", g.dir)
			ix.removeGeneration(g.dir)
			continue
		}
		gens = append(gens, g)
	}
	sort.Slice(gens, func(i, j int) bool { return gens[i].num < gens[j].num })
	return gens, nil
}

func (ix *Index) genDir(n int) string {
	return filepath.Join(ix.dir, genPrefix+strconv.Itoa(n))
}

// removeGeneration deletes a generation, its metadata first, so that a
// crash half-way leaves a generation Open recognises as half-built.
func (ix *Index) removeGeneration(dir string) {
	os.Remove(filepath.Join(dir, metaName))
	if err := os.RemoveAll(dir); err != nil {
		ix.log.Warn("search: cannot remove an old index generation", "dir", dir, "err", err)
	}
}

// state is one (knowledge base, index) pair and what queries derive from
// the knowledge base. It never changes once live; a new pair replaces it.
type state struct {
	// refs counts the queries using the pair, plus one while it is live.
	refs    atomic.Int64
	drained chan struct{} // closed when refs reaches 0

	idx   bleve.Index // nil once closed
	files map[string]fileState
	gen   string // the generation directory
	kb    *kb.KB
	cache *resultCache // results of this pair only

	synonyms  map[string][]synonymGroup  // analyzer → analysed synonym groups
	analyzers []string                   // analyzers of the languages with articles
	noise     map[string]map[string]bool // analyzer → analysed noise words
	// sharedAnalyzer is true for an analyzer that serves several of the
	// knowledge base's languages (e.g. pt-BR and pt-PT), whose searches need
	// a language filter.
	sharedAnalyzer map[string]bool
	// vocab holds, per analyzer, the vocabulary of the searched fields
	// (stemmed) and spell that of the spell field (words as written).
	vocab, spell map[string]*lazyDict
	// docs counts the articles of each analyzer, for IDF.
	docs map[string]int
	// terms caches the analysed words of articles, for Coverage.
	terms sync.Map // article ID → map[string]bool
	// stems caches the analysis of the articles' words, for snippets.
	stems sync.Map // analyzer + "\x00" + word → []string
	// prepared is closed once prepare is done (tests wait for it before
	// damaging files; queries wait on the vocabularies' own sync.Once).
	prepared chan struct{}
	// categories knows which categories translate one another.
	categories *categoryNames
}

// newState makes a live pair of idx and k.
func (ix *Index) newState(idx bleve.Index, files map[string]fileState, gen string, k *kb.KB) *state {
	s := &state{drained: make(chan struct{}), prepared: make(chan struct{}), idx: idx, files: files, gen: gen, kb: k, cache: newResultCache(ix.cacheSize)}
	s.refs.Store(1)
	ix.analyse(s)
	s.categories = newCategoryNames(k)
	if idx != nil {
		// The vocabularies are built now, in the background, rather than
		// by the first queries to need them.
		s.refs.Add(1)
		go ix.prepare(s)
	} else {
		close(s.prepared)
	}
	return s
}

// prepare builds s's vocabularies and their neighbour indexes. A query
// needing one meanwhile waits on its sync.Once rather than building it
// twice.
func (ix *Index) prepare(s *state) {
	defer s.release()
	defer close(s.prepared)
	defer func() {
		if p := recover(); p != nil {
			ix.damaged("reading the vocabulary panicked", Query{}, "gen", s.gen, "panic", p)
		}
	}()
	adv, err := s.idx.Advanced()
	if err != nil {
		return
	}
	reader, err := adv.Reader()
	if err != nil {
		return
	}
	defer reader.Close()
	for _, an := range s.analyzers {
		if d, err := s.vocab[an].get(reader); err == nil {
			d.deletions()
		}
		if d, err := s.spell[an].get(reader); err == nil {
			d.deletions() // "did you mean"
		}
	}
}

// acquire returns the live pair, which stays open until release.
func (ix *Index) acquire() *state {
	for {
		s := ix.cur.Load()
		// A pair already drained is no longer live: the next load finds
		// its successor.
		if n := s.refs.Load(); n > 0 && s.refs.CompareAndSwap(n, n+1) {
			return s
		}
	}
}

func (s *state) release() {
	if s.refs.Add(-1) == 0 {
		close(s.drained)
	}
}

// retire closes a pair that is no longer live once its last query is done.
func (s *state) retire() error {
	s.release()
	<-s.drained
	if s.idx == nil {
		return nil
	}
	err := s.idx.Close()
	s.idx = nil
	return err
}

// swap makes next the live pair, retires the old one and returns it.
// Called with ix.write held.
func (ix *Index) swap(next *state) *state {
	old := ix.cur.Swap(next)
	if err := old.retire(); err != nil {
		ix.log.Warn("search: closing the previous index", "err", err)
	}
	return old
}

// lockWrite takes ix.write, unless ctx ends first.
func (ix *Index) lockWrite(ctx context.Context) error {
	select {
	case ix.write <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (ix *Index) unlockWrite() { <-ix.write }

// mergeOptions is scorch's tiered merge policy: segments of similar sizes
// are merged once a tier holds too many, so the segment count stays
// logarithmic in the number of documents however many Applies add one.
var mergeOptions = mergeplan.DefaultMergePlanOptions

// Apply moves the index to next: the articles whose ids are in changed
// (added or modified, as found in next) are indexed anew, those in deleted
// removed, and the others left as they are. Queries go on meanwhile,
// answered from the previous pair; once Apply returns, every query answers
// from next and its index, never from a mixture. Apply waits for a repair
// under way, and stops, leaving the previous pair live, when ctx ends or
// the index is closed. Should the updated index fail its check, next is
// indexed from scratch instead.
func (ix *Index) Apply(ctx context.Context, next *kb.KB, changed, deleted []string) error {
	start := time.Now()
	if err := ix.lockWrite(ctx); err != nil {
		return fmt.Errorf("search: apply: %w", err)
	}
	defer ix.unlockWrite()
	if ix.closed {
		return fmt.Errorf("search: apply: %w", ErrClosed)
	}
	// Close cancels the repair's context: Apply stops too.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(ix.repair.ctx, cancel)()

	old := ix.cur.Load() // stable: only holders of ix.write swap it
	gen := ix.genDir(ix.nextGen)
	ix.nextGen++
	idx, files, err := update(ctx, old, gen, next, changed, deleted)
	failed := err != nil && ctx.Err() == nil
	if failed {
		ix.log.Error("search: updating the index failed; indexing every article", "err", err)
		ix.removeGeneration(gen)
		gen = ix.genDir(ix.nextGen)
		ix.nextGen++
		idx, files, err = rebuild(ctx, gen, next)
	}
	if err == nil && ctx.Err() != nil {
		idx.Close()
		err = fmt.Errorf("search: apply: %w", ctx.Err())
	}
	if err != nil {
		ix.removeGeneration(gen)
		return err
	}
	fresh := ix.newState(idx, files, gen, next)
	ix.warm(ctx, fresh) // before it serves
	retired := ix.swap(fresh)
	if failed { // kept for inspection, as a damaged index is
		moveAside(ix.dir, retired.gen, ix.log)
	} else {
		ix.removeGeneration(retired.gen)
	}
	ix.log.Info("search index updated", "changed", len(changed), "deleted", len(deleted), "articles", len(next.Articles), "took", time.Since(start))
	return nil
}

// update makes the generation gen from old's: its segments hard-linked
// (scorch never rewrites one), its other files copied, then the batch of
// changes applied, segments merged as the tiered policy says, the index
// closed, and the new generation finished (see finish).
func update(ctx context.Context, old *state, gen string, next *kb.KB, changed, deleted []string) (bleve.Index, map[string]fileState, error) {
	src, dst := filepath.Join(old.gen, indexName), filepath.Join(gen, indexName)
	// The new generation keeps the checksums of the files it shares with
	// the old one: they must still be the files verified.
	if err := changedFiles(src, old.files); err != nil {
		return nil, nil, fmt.Errorf("search: update: %w", err)
	}
	for name := range old.files {
		from, to := filepath.Join(src, filepath.FromSlash(name)), filepath.Join(dst, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return nil, nil, fmt.Errorf("search: update: %w", err)
		}
		var err error
		if strings.HasSuffix(name, ".zap") {
			err = os.Link(from, to)
		} else {
			err = copyFile(from, to)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("search: update: %w", err)
		}
	}
	idx, err := bleve.Open(dst)
	if err != nil {
		return nil, nil, fmt.Errorf("search: update: %w", err)
	}
	fail := func(err error) (bleve.Index, map[string]fileState, error) {
		idx.Close()
		return nil, nil, fmt.Errorf("search: update: %w", err)
	}
	batch := idx.NewBatch()
	for _, id := range deleted {
		batch.Delete(id)
	}
	for _, id := range changed {
		a, ok := next.ByID(id)
		if !ok { // gone after all
			batch.Delete(id)
			continue
		}
		if err := batch.Index(id, document(a)); err != nil {
			return fail(fmt.Errorf("index %s: %w", a.Path, err))
		}
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	if err := idx.Batch(batch); err != nil {
		return fail(err)
	}
	if err := mergeSegments(ctx, idx); err != nil {
		return fail(err)
	}
	if err := idx.Close(); err != nil {
		return nil, nil, fmt.Errorf("search: update: %w", err)
	}
	files, err := genFiles(dst, old.files, src)
	if err != nil {
		return nil, nil, fmt.Errorf("search: update: %w", err)
	}
	return finish(ctx, gen, next, files)
}

// mergeSegments merges the segments of an index open for writing as the
// tiered policy says, and waits until the result is persisted: a merge
// persisted after Close would be lost, and its file left behind.
func mergeSegments(ctx context.Context, idx bleve.Index) error {
	adv, err := idx.Advanced()
	if err != nil {
		return err
	}
	s, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	opts := mergeOptions
	if err := s.ForceMerge(ctx, &opts); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// An empty batch returns once a snapshot at least as new as the
	// merge's is persisted.
	return idx.Batch(idx.NewBatch())
}

// genFiles lists the files of the closed index in dir that its root
// refers to, with their checksums: those hard-linked from the previous
// generation's index (in prev) keep the checksums verified there; the
// others are read. Segment files the root does not list (merged away, or
// a merge cut short by Close) are deleted.
func genFiles(dir string, prevFiles map[string]fileState, prev string) (map[string]fileState, error) {
	idx, err := openIndex(dir)
	if err != nil {
		return nil, err
	}
	live, err := liveSegments(idx, dir)
	idx.Close()
	if err != nil {
		return nil, err
	}
	files := map[string]fileState{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if strings.HasSuffix(name, ".zap") && !live[name] {
			return os.Remove(p)
		}
		if st, ok := prevFiles[name]; ok && sameFile(p, filepath.Join(prev, rel)) {
			files[name] = st
			return nil
		}
		st, err := hashFile(p)
		if err != nil {
			return err
		}
		files[name] = st
		return nil
	})
	if err != nil {
		return nil, err
	}
	for name := range live {
		if _, ok := files[name]; !ok {
			return nil, fmt.Errorf("segment %s missing", name)
		}
	}
	return files, nil
}

// liveSegments returns the segment files of idx's current snapshot, by
// slash-separated path relative to dir.
func liveSegments(idx bleve.Index, dir string) (map[string]bool, error) {
	adv, err := idx.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil, fmt.Errorf("not a scorch index")
	}
	live := map[string]bool{}
	for _, ss := range snap.Segments() {
		ps, ok := ss.Segment().(segapi.PersistedSegment)
		if !ok {
			return nil, fmt.Errorf("segment %d not persisted", ss.Id())
		}
		rel, err := filepath.Rel(dir, ps.Path())
		if err != nil {
			return nil, err
		}
		live[filepath.ToSlash(rel)] = true
	}
	return live, nil
}

func sameFile(a, b string) bool {
	ia, err := os.Stat(a)
	if err != nil {
		return false
	}
	ib, err := os.Stat(b)
	return err == nil && os.SameFile(ia, ib)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// segmentCount is how many segments the live index has.
func (ix *Index) segmentCount() (int, error) {
	s := ix.acquire()
	defer s.release()
	if s.idx == nil {
		return 0, ErrClosed
	}
	live, err := liveSegments(s.idx, filepath.Join(s.gen, indexName))
	return len(live), err
}
