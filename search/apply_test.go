package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orbitask/portal/kb"
)

// word is a word made of letters only, unique to i, that no analyzer
// splits: each generated article is found by its own.
func word(prefix string, i int) string {
	b := []byte(prefix)
	for k := 0; k < 4; k++ {
		b = append(b, byte('a'+i%26))
		i /= 26
	}
	return string(b)
}

// writeArticle writes article i, its title and body naming tag.
func writeArticle(t testing.TB, dir string, i int, tag string) {
	t.Helper()
	p := filepath.Join(dir, "en", fmt.Sprintf("a%05d.md", i))
	os.MkdirAll(filepath.Dir(p), 0o755)
	body := fmt.Sprintf("---\ntitle: Topic %s %s\n---\n", word("qx", i), tag) +
		strings.Repeat(fmt.Sprintf("How to configure the widget %s when the %s dashboard is slow. ", word("qx", i), tag), 8) + "\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func removeArticle(t testing.TB, dir string, i int) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, "en", fmt.Sprintf("a%05d.md", i))); err != nil {
		t.Fatal(err)
	}
}

func articleID(i int) string { return fmt.Sprintf("en/a%05d", i) }

func load(t testing.TB, dir string) *kb.KB {
	t.Helper()
	k, err := kb.Load(dir)
	if err != nil || len(k.Problems) > 0 {
		t.Fatalf("load: %v %v", err, k.Problems)
	}
	return k
}

// generated writes n articles tagged "first" and loads them.
func generated(t testing.TB, n int) (string, *kb.KB) {
	t.Helper()
	dir := t.TempDir()
	for i := 0; i < n; i++ {
		writeArticle(t, dir, i, "first")
	}
	return dir, load(t, dir)
}

// hitIDs searches text in English, every hit returned.
func hitIDs(t *testing.T, ix *Index, text string) []string {
	t.Helper()
	r, err := ix.Search(context.Background(), Query{Text: text, Lang: "en", Limit: MaxLimit})
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	if int(r.Total) != len(r.Hits) && len(r.Hits) < MaxLimit {
		t.Fatalf("%q: %d counted, %d returned", text, r.Total, len(r.Hits))
	}
	return ids(r)
}

func wantHits(t *testing.T, ix *Index, text string, want ...string) {
	t.Helper()
	got := hitIDs(t, ix, text)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%q: hits %v, want %v", text, got, want)
	}
}

func wantMissing(t *testing.T, ix *Index, text, id string) {
	t.Helper()
	for _, got := range hitIDs(t, ix, text) {
		if got == id {
			t.Fatalf("%q: %s found", text, id)
		}
	}
}

func generations(t *testing.T, dir string) []string {
	t.Helper()
	gens, _ := filepath.Glob(filepath.Join(dir, genPrefix+"*"))
	return gens
}

// TestApply: added, changed and deleted articles are what queries see
// once Apply returns, the rest is untouched, nothing was rebuilt, and the
// next start reuses the new generation.
func TestApply(t *testing.T) {
	content, k1 := generated(t, 20)
	dir := filepath.Join(t.TempDir(), "search")
	var log logRecorder
	ix, _, err := Open(Config{Dir: dir, Logger: slog.New(&log)}, k1)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	first := generations(t, dir)
	wantHits(t, ix, word("qx", 1), articleID(1))
	wantHits(t, ix, "zebra")

	writeArticle(t, content, 1, "zebra")
	removeArticle(t, content, 2)
	writeArticle(t, content, 20, "giraffe")
	k2 := load(t, content)
	if err := ix.Apply(context.Background(), k2, []string{articleID(1), articleID(20)}, []string{articleID(2)}); err != nil {
		t.Fatal(err)
	}
	if ix.KB() != k2 {
		t.Fatal("KB() is not the applied knowledge base")
	}
	wantHits(t, ix, "zebra", articleID(1))
	wantMissing(t, ix, word("qx", 2), articleID(2)) // other articles match it fuzzily
	wantHits(t, ix, "giraffe", articleID(20))
	wantHits(t, ix, word("qx", 3), articleID(3))
	if n := len(hitIDs(t, ix, "first")); n != 18 {
		t.Fatalf("first: %d hits, want 18", n)
	}
	if err := ix.Health(); err != nil {
		t.Fatal(err)
	}
	if gens := generations(t, dir); len(gens) != 1 || gens[0] == first[0] {
		t.Fatalf("generations %v after %v", gens, first)
	}
	if errs := log.errors(); len(errs) > 0 {
		t.Fatalf("errors logged: %q", errs)
	}
	ix.Close()

	ix, st, err := Open(Config{Dir: dir}, k2)
	if err != nil || st.Rebuilt {
		t.Fatalf("reopen after Apply: rebuilt=%v (%s), %v", st.Rebuilt, st.Reason, err)
	}
	wantHits(t, ix, "giraffe", articleID(20))
	ix.Close()
	// The previous content is no longer indexed.
	ix, st, err = Open(Config{Dir: dir}, k1)
	if err != nil || !st.Rebuilt || st.Reason != "content changed" {
		t.Fatalf("open with the previous content: %+v, %v", st, err)
	}
	wantHits(t, ix, "zebra")
	ix.Close()
}

// TestApplySynonymsChanged: queries use the synonyms of the applied
// knowledge base at once; the index does not depend on them.
func TestApplySynonymsChanged(t *testing.T) {
	content, k1 := generated(t, 5)
	ix, _, err := Open(Config{Dir: t.TempDir()}, k1)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	wantHits(t, ix, "gizmo")
	os.WriteFile(filepath.Join(content, kb.SynonymsFile), []byte("en:\n  - [widget, gizmo]\n"), 0o644)
	k2 := load(t, content)
	if len(k2.Synonyms.For("en")) == 0 {
		t.Fatal("synonyms not loaded")
	}
	if err := ix.Apply(context.Background(), k2, nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(hitIDs(t, ix, "gizmo")); n != 5 {
		t.Fatalf("gizmo: %d hits, want 5", n)
	}
}

// TestApplyDuringSearches: queries in 8 goroutines while Apply changes
// 1,000 articles and deletes 100 never fail, and each is answered by one
// pair: the old index through the old knowledge base, or the new through
// the new. Queries started after Apply returned see only the new. Nothing
// is logged as damage, and no repair starts.
func TestApplyDuringSearches(t *testing.T) {
	const n = 1200
	content, k1 := generated(t, n)
	var changed, deleted []string
	for i := 0; i < 1000; i++ {
		writeArticle(t, content, i, "second")
		changed = append(changed, articleID(i))
	}
	for i := 1000; i < 1100; i++ {
		removeArticle(t, content, i)
		deleted = append(deleted, articleID(i))
	}
	k2 := load(t, content)

	var log logRecorder
	// Without the result cache every query reads the index.
	ix, _, err := Open(Config{Dir: filepath.Join(t.TempDir(), "search"), Logger: slog.New(&log), CacheSize: -1}, k1)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()

	var applied atomic.Bool
	var sawNew, sawOld atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				after := applied.Load()
				// A word of a changed, a deleted and an untouched article,
				// and the words only the old or only the new content has.
				texts := []string{word("qx", (g*97+i)%1000), word("qx", 1000+(g+i)%100), word("qx", 1100+(g+i)%100), "second", "first"}
				text := texts[i%len(texts)]
				r, err := ix.Search(context.Background(), Query{Text: text, Lang: "en", Limit: 20, Offset: (i / 5 % 3) * 20})
				if err != nil {
					errc <- fmt.Errorf("%q: %w", text, err)
					return
				}
				if err := onePair(r, text, k1, k2, after); err != nil {
					errc <- fmt.Errorf("%q: %w", text, err)
					return
				}
				if len(r.Hits) > 0 {
					if a, _ := k2.ByID(r.Hits[0].Article.ID); a == r.Hits[0].Article {
						sawNew.Add(1)
					} else {
						sawOld.Add(1)
					}
				}
			}
		}()
	}
	err = ix.Apply(context.Background(), k2, changed, deleted)
	applied.Store(true)
	if err != nil {
		t.Fatal(err)
	}
	// Let every goroutine run queries after the swap too.
	for sawNew.Load() < 100 {
		select {
		case err := <-errc:
			t.Fatal(err)
		case <-time.After(time.Millisecond):
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("answers with hits: %d from the old pair, %d from the new", sawOld.Load(), sawNew.Load())
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if errs := log.errors(); len(errs) > 0 {
		t.Fatalf("errors logged: %q", errs)
	}
	if r := ix.repairing(); r != "" {
		t.Fatalf("repair started: %s", r)
	}
	wantMissing(t, ix, word("qx", 1050), articleID(1050))
	if got := hitIDs(t, ix, word("qx", 5)+" second"); len(got) == 0 || got[0] != articleID(5) {
		t.Fatalf("changed article: %v", got)
	}
}

// onePair checks that every hit of r is an article of k1 or every one of
// k2 (the knowledge bases' articles are told apart by pointer), of k2 when
// the query started after Apply returned, and that each hit's title has
// the word searched: every query here is one word of titles, so the new
// index's hit mapped through the old knowledge base, or the old index's
// through the new, would show as an article without the word.
func onePair(r Result, text string, k1, k2 *kb.KB, after bool) error {
	var old, new int
	for _, h := range r.Hits {
		a1, _ := k1.ByID(h.Article.ID)
		a2, _ := k2.ByID(h.Article.ID)
		switch h.Article {
		case a1:
			old++
		case a2:
			new++
		default:
			return fmt.Errorf("hit %s of neither knowledge base", h.Article.ID)
		}
		// Unknown words match fuzzily: qx words may match their neighbours.
		if !strings.HasPrefix(text, "qx") && !strings.Contains(h.Article.Title, text) {
			return fmt.Errorf("hit %s titled %q", h.Article.ID, h.Article.Title)
		}
	}
	switch {
	case old > 0 && new > 0:
		return fmt.Errorf("a mixture: %d hits of the old knowledge base, %d of the new", old, new)
	case after && old > 0:
		return fmt.Errorf("%d hits of the old knowledge base after Apply returned", old)
	}
	return nil
}

// TestApplyCrashSafety: what a crash at any point of Apply leaves behind
// lets the next start find the right index without a rebuild: a
// generation without metadata (the crash came before it was written) or
// half-built by a build is removed, and of two complete ones (the crash
// came before the old one was removed) the one matching the knowledge base
// is used.
func TestApplyCrashSafety(t *testing.T) {
	content, k1 := generated(t, 10)
	dir := filepath.Join(t.TempDir(), "search")
	ix, _, err := Open(Config{Dir: dir}, k1)
	if err != nil {
		t.Fatal(err)
	}
	backups := t.TempDir()
	cp := func(from, to string) {
		t.Helper()
		if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v %s", err, out)
		}
	}
	old := generations(t, dir)[0]
	cp(old, filepath.Join(backups, "old"))
	writeArticle(t, content, 3, "zebra")
	k2 := load(t, content)
	if err := ix.Apply(context.Background(), k2, []string{articleID(3)}, nil); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	next := generations(t, dir)[0]
	cp(next, filepath.Join(backups, "next"))
	// crash puts both generations back as a crash at that point of Apply
	// leaves them.
	crash := func(nextMeta bool) {
		t.Helper()
		for _, g := range generations(t, dir) {
			os.RemoveAll(g)
		}
		cp(filepath.Join(backups, "old"), old)
		cp(filepath.Join(backups, "next"), next)
		if !nextMeta {
			os.Remove(filepath.Join(next, metaName))
		}
	}
	open := func(k *kb.KB, want string, wantHit ...string) {
		t.Helper()
		var log logRecorder
		ix, st, err := Open(Config{Dir: dir, Logger: slog.New(&log)}, k)
		if err != nil || st.Rebuilt {
			t.Fatalf("open: rebuilt=%v (%s), %v", st.Rebuilt, st.Reason, err)
		}
		defer ix.Close()
		if gens := generations(t, dir); len(gens) != 1 || gens[0] != want {
			t.Fatalf("generations %v, want only %s", gens, want)
		}
		wantHits(t, ix, "zebra", wantHit...)
		if err := ix.Health(); err != nil {
			t.Fatal(err)
		}
		if errs := log.errors(); len(errs) > 0 {
			t.Fatalf("errors logged: %q", errs)
		}
	}

	// Before the new generation's metadata was written.
	crash(false)
	open(k1, old)
	// After, before the old generation was removed: each knowledge base
	// finds its own.
	crash(true)
	open(k1, old)
	crash(true)
	open(k2, next, articleID(3))

	// A half-built generation numbered above the live one, as a build cut
	// short leaves it; the next generation is numbered above it.
	half := filepath.Join(dir, genPrefix+"99")
	os.MkdirAll(filepath.Join(half, indexName, "store"), 0o755)
	os.WriteFile(filepath.Join(half, indexName, "store", "root.bolt"), []byte("half"), 0o644)
	ix, _, err = Open(Config{Dir: dir}, k2)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if gens := generations(t, dir); len(gens) != 1 || gens[0] != next {
		t.Fatalf("generations %v, want only %s", gens, next)
	}
	if err := ix.Apply(context.Background(), k1, []string{articleID(3)}, nil); err != nil {
		t.Fatal(err)
	}
	if gens := generations(t, dir); len(gens) != 1 || filepath.Base(gens[0]) != genPrefix+"100" {
		t.Fatalf("generations %v", gens)
	}
	wantHits(t, ix, "zebra")
}

// TestApplyCancelled: a cancelled Apply leaves the old pair live and no
// new generation on disk, whether it was cancelled before it started or
// (most likely) half-way; if it finished first, the new pair is live.
func TestApplyCancelled(t *testing.T) {
	content, k1 := generated(t, 1100)
	var changed []string
	for i := 0; i < 1000; i++ {
		writeArticle(t, content, i, "second")
		changed = append(changed, articleID(i))
	}
	k2 := load(t, content)
	dir := filepath.Join(t.TempDir(), "search")
	ix, _, err := Open(Config{Dir: dir}, k1)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	first := generations(t, dir)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ix.Apply(ctx, k2, changed, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("apply with a cancelled context: %v", err)
	}
	if ix.KB() != k1 || strings.Join(generations(t, dir), ",") != strings.Join(first, ",") {
		t.Fatalf("after a cancelled Apply: generations %v", generations(t, dir))
	}

	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- ix.Apply(ctx, k2, changed, nil) }()
	cancel()
	err = <-done
	gens := generations(t, dir)
	switch {
	case errors.Is(err, context.Canceled):
		if ix.KB() != k1 || strings.Join(gens, ",") != strings.Join(first, ",") {
			t.Fatalf("cancelled half-way: generations %v, want %v", gens, first)
		}
		if n := len(hitIDs(t, ix, "second")); n != 0 {
			t.Fatalf("second: %d hits after a cancelled Apply", n)
		}
	case err == nil:
		t.Log("Apply finished before the cancel")
		if ix.KB() != k2 || len(gens) != 1 || gens[0] == first[0] {
			t.Fatalf("applied: generations %v", gens)
		}
	default:
		t.Fatal(err)
	}
	if err := ix.Health(); err != nil {
		t.Fatal(err)
	}
}

// TestApplyClosed: Apply on a closed index fails.
func TestApplyClosed(t *testing.T) {
	_, k := generated(t, 3)
	ix, _, err := Open(Config{Dir: t.TempDir()}, k)
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	if err := ix.Apply(context.Background(), k, nil, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("apply on a closed index: %v", err)
	}
	if _, err := ix.Search(context.Background(), Query{Text: "widget"}); err == nil {
		t.Fatal("search on a closed index succeeded")
	}
}

// TestApplyAndRepair: a repair and an Apply at once end with the applied
// knowledge base's index, whichever runs first: the repair rebuilds from
// the current knowledge base and never swaps an older one's index in
// after Apply.
func TestApplyAndRepair(t *testing.T) {
	content, k1 := generated(t, 30)
	var log logRecorder
	ix, _, err := Open(Config{Dir: filepath.Join(t.TempDir(), "search"), Logger: slog.New(&log)}, k1)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ix.startRepair("test")
	writeArticle(t, content, 7, "zebra")
	k2 := load(t, content)
	if err := ix.Apply(context.Background(), k2, []string{articleID(7)}, nil); err != nil {
		t.Fatal(err)
	}
	ix.repair.wg.Wait()
	if ix.KB() != k2 {
		t.Fatal("the repair replaced the applied knowledge base")
	}
	wantHits(t, ix, "zebra", articleID(7))
	if err := ix.Health(); err != nil {
		t.Fatal(err)
	}
	// And a repair after Apply rebuilds the applied content.
	ix.startRepair("test")
	ix.repair.wg.Wait()
	wantHits(t, ix, "zebra", articleID(7))
	if ix.KB() != k2 {
		t.Fatal("the repair replaced the applied knowledge base")
	}
}

// TestManyApplies: 200 Applies of one article each keep the segment count
// bounded (scorch's tiered merge policy at each Apply), and queries right.
func TestManyApplies(t *testing.T) {
	if testing.Short() {
		t.Skip("200 Applies")
	}
	content, k1 := generated(t, 2500)
	writeArticle(t, content, 0, "zebra")
	writeArticle(t, content, 1, "zebra")
	k2 := load(t, content)
	dir := filepath.Join(t.TempDir(), "search")
	var log logRecorder
	ix, _, err := Open(Config{Dir: dir, Logger: slog.New(&log)}, k1)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	most := 0
	for i := 0; i < 200; i++ {
		// Alternately to k2 and back, one article each time, ending at k2.
		k, id := k1, articleID(i%2)
		if i%4 >= 2 {
			k = k2
		}
		if err := ix.Apply(context.Background(), k, []string{id}, nil); err != nil {
			t.Fatal(err)
		}
		n, err := ix.segmentCount()
		if err != nil {
			t.Fatal(err)
		}
		most = max(most, n)
	}
	t.Logf("at most %d segments", most)
	if most > 4 {
		t.Fatalf("%d segments after an Apply", most)
	}
	if zaps, _ := filepath.Glob(filepath.Join(liveGen(t, dir), indexName, "store", "*.zap")); len(zaps) > 4 {
		t.Fatalf("%d segment files on disk", len(zaps))
	}
	wantHits(t, ix, "zebra", articleID(0), articleID(1))
	if n := len(hitIDs(t, ix, "first")); n != MaxLimit {
		t.Fatalf("first: %d hits", n)
	}
	if err := ix.Health(); err != nil {
		t.Fatal(err)
	}
	if errs := log.errors(); len(errs) > 0 {
		t.Fatalf("errors logged: %q", errs)
	}
}

// TestApplyOverDamage: an Apply that finds the live index's files changed
// since they were verified does not carry the damage into the new
// generation: it logs it and indexes every article of next afresh.
func TestApplyOverDamage(t *testing.T) {
	content, k1 := generated(t, 10)
	dir := filepath.Join(t.TempDir(), "search")
	var log logRecorder
	ix, _, err := Open(Config{Dir: dir, Logger: slog.New(&log)}, k1)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	waitPrepared(ix)
	zap := segment(t, dir)
	info, _ := os.Stat(zap)
	overwrite(t, zap, info.Size()/2, randomBytes(3, 16))
	writeArticle(t, content, 4, "zebra")
	k2 := load(t, content)
	if err := ix.Apply(context.Background(), k2, []string{articleID(4)}, nil); err != nil {
		t.Fatal(err)
	}
	if errs := log.errors(); len(errs) != 1 || !strings.Contains(errs[0], ".zap damaged") {
		t.Fatalf("errors logged: %q", errs)
	}
	if aside, _ := filepath.Glob(dir + ".damaged-*"); len(aside) != 1 {
		t.Errorf("damaged index not kept aside: %v", aside)
	}
	wantHits(t, ix, "zebra", articleID(4))
	if n := len(hitIDs(t, ix, "first")); n != 9 {
		t.Fatalf("first: %d hits", n)
	}
	if err := ix.Health(); err != nil {
		t.Fatal(err)
	}
}
