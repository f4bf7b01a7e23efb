package search

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/orbitask/portal/kb"
)

// logRecorder keeps what the index logs, to check that damage is reported
// as an error.
type logRecorder struct {
	mu   sync.Mutex
	recs []string // "LEVEL message key=value …"
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	s := rec.Level.String() + " " + rec.Message
	rec.Attrs(func(a slog.Attr) bool { s += " " + a.String(); return true })
	r.mu.Lock()
	r.recs = append(r.recs, s)
	r.mu.Unlock()
	return nil
}

// errors returns the records logged at ERROR.
func (r *logRecorder) errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.recs {
		if strings.HasPrefix(s, "ERROR ") {
			out = append(out, s)
		}
	}
	return out
}

func fixtureKB(t *testing.T) *kb.KB {
	t.Helper()
	k, err := kb.Load("testdata/content")
	if err != nil || len(k.Problems) > 0 {
		t.Fatalf("fixture: %v %v", err, k.Problems)
	}
	return k
}

// liveGen returns the index's one generation directory in dir.
func liveGen(t *testing.T, dir string) string {
	t.Helper()
	gens, _ := filepath.Glob(filepath.Join(dir, genPrefix+"*"))
	if len(gens) != 1 {
		t.Fatalf("generations: %v, want one", gens)
	}
	return gens[0]
}

// segment returns the path of the index's one segment file.
func segment(t *testing.T, dir string) string {
	t.Helper()
	zaps, _ := filepath.Glob(filepath.Join(liveGen(t, dir), indexName, "store", "*.zap"))
	if len(zaps) != 1 {
		t.Fatalf("segments: %v, want one", zaps)
	}
	return zaps[0]
}

func overwrite(t *testing.T, path string, at int64, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, at); err != nil {
		t.Fatal(err)
	}
}

func randomBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// storedIndex finds the table of stored documents' offsets in a zap v17
// segment (from its footer): Bleve reads it only when a query loads a hit,
// long after the index was opened.
func storedIndex(t *testing.T, zap string) (offset, size int64) {
	t.Helper()
	b, err := os.ReadFile(zap)
	if err != nil {
		t.Fatal(err)
	}
	n := len(b)
	if v := binary.BigEndian.Uint32(b[n-8 : n-4]); v != 17 {
		t.Fatalf("zap version %d: this test reads the footer of version 17; update storedIndex", v)
	}
	return int64(binary.BigEndian.Uint64(b[n-28 : n-20])), 8 * int64(binary.BigEndian.Uint64(b[n-36:n-28]))
}

// resum records the index's current files as built, as if the damage had
// happened before the build finished: only Bleve and the check can find it.
func resum(t *testing.T, dir string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(liveGen(t, dir), metaName))
	if err != nil {
		t.Fatal(err)
	}
	var m meta
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.Files, err = sumFiles(filepath.Join(liveGen(t, dir), indexName)); err != nil {
		t.Fatal(err)
	}
	if err := writeMeta(filepath.Join(liveGen(t, dir), metaName), m); err != nil {
		t.Fatal(err)
	}
}

// wantCorrect checks that the index answers as the fixture's index must,
// every counted hit returned.
func wantCorrect(t *testing.T, ix *Index) {
	t.Helper()
	for _, c := range []struct{ text, want string }{
		{"forgotten password", "en/reset-password"},
		{"restoring backups", "en/backup"},
		{"receipts", "en/invoices"},
		{"slow pages", "en/slow"},
	} {
		r, err := ix.Search(context.Background(), Query{Text: c.text, Lang: "en", Limit: MaxLimit})
		if err != nil {
			t.Fatalf("%q: %v", c.text, err)
		}
		if len(r.Hits) == 0 || r.Hits[0].Article.ID != c.want || int(r.Total) != len(r.Hits) {
			t.Fatalf("%q: total %d, hits %v, want %s first", c.text, r.Total, ids(r), c.want)
		}
	}
	if err := ix.Health(); err != nil {
		t.Fatalf("health: %v", err)
	}
}

// TestOpenRepairsDamagedIndex damages a built index in many ways between
// two starts: the second start never panics, finds the damage, says what it
// was, keeps the damaged index aside, and answers correctly from a new one.
func TestOpenRepairsDamagedIndex(t *testing.T) {
	k := fixtureKB(t)
	type damage func(t *testing.T, dir string)
	cases := []struct {
		name   string
		damage damage
		reason string // in OpenStats.Reason
	}{
		{"missing segment", func(t *testing.T, dir string) {
			if err := os.Remove(segment(t, dir)); err != nil {
				t.Fatal(err)
			}
		}, ".zap missing"},
		{"truncated segment", func(t *testing.T, dir string) {
			zap := segment(t, dir)
			info, _ := os.Stat(zap)
			if err := os.Truncate(zap, info.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, ".zap damaged: checksum mismatch"},
		{"damaged root", func(t *testing.T, dir string) {
			overwrite(t, filepath.Join(liveGen(t, dir), indexName, "store", "root.bolt"), 4096, randomBytes(1, 64))
		}, "store/root.bolt damaged"},
		{"damaged metadata", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(liveGen(t, dir), metaName), []byte(`{"mapping_version":`), 0o644)
		}, "index metadata unreadable"},
		// Damage that the checksums do not see (it came before they were
		// taken): Bleve itself or the check must find it.
		{"segment footer, checksums agree", func(t *testing.T, dir string) {
			zap := segment(t, dir)
			info, _ := os.Stat(zap)
			overwrite(t, zap, info.Size()-36, []byte(strings.Repeat("\xff", 24)))
			resum(t, dir)
		}, "index unreadable"},
		{"stored ids, checksums agree", func(t *testing.T, dir string) {
			zap := segment(t, dir)
			off, n := storedIndex(t, zap)
			overwrite(t, zap, off, []byte(strings.Repeat("\xff", int(n))))
			resum(t, dir)
		}, "check panicked"},
	}
	// Random bytes in the middle of the segment, at several places.
	for seed := int64(1); seed <= 6; seed++ {
		cases = append(cases, struct {
			name   string
			damage damage
			reason string
		}{fmt.Sprintf("random bytes %d", seed), func(t *testing.T, dir string) {
			zap := segment(t, dir)
			info, _ := os.Stat(zap)
			rng := rand.New(rand.NewSource(seed))
			at := info.Size()/8 + rng.Int63n(info.Size()*3/4)
			overwrite(t, zap, at, randomBytes(seed, 1+rng.Intn(64)))
		}, ".zap damaged: checksum mismatch"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "search")
			ix, _, err := Open(Config{Dir: dir}, k)
			if err != nil {
				t.Fatal(err)
			}
			ix.Close()
			c.damage(t, dir)

			var log logRecorder
			ix, st, err := Open(Config{Dir: dir, Logger: slog.New(&log)}, k)
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			defer ix.Close()
			if !st.Rebuilt || !st.Damaged || !strings.Contains(st.Reason, c.reason) {
				t.Fatalf("rebuilt=%v damaged=%v reason=%q, want one naming %q", st.Rebuilt, st.Damaged, st.Reason, c.reason)
			}
			if errs := log.errors(); len(errs) != 1 || !strings.Contains(errs[0], c.reason) {
				t.Errorf("errors logged: %q", errs)
			}
			if _, err := os.Stat(filepath.Join(st.DamagedDir, indexName)); st.DamagedDir == "" || err != nil {
				t.Errorf("damaged index not kept aside (%q): %v", st.DamagedDir, err)
			}
			wantCorrect(t, ix)
			ix.Close()
			// The new index is sound: the next start reuses it.
			ix, st, err = Open(Config{Dir: dir}, k)
			if err != nil || st.Rebuilt {
				t.Fatalf("start after repair: rebuilt=%v (%s), %v", st.Rebuilt, st.Reason, err)
			}
			wantCorrect(t, ix)
		})
	}
}

// TestStaleIndexIsNotDamage: a missing index, or one built without
// checksums (by an older portal), is rebuilt quietly in place.
func TestStaleIndexIsNotDamage(t *testing.T) {
	k := fixtureKB(t)
	dir := filepath.Join(t.TempDir(), "search")
	ix, _, err := Open(Config{Dir: dir}, k)
	if err != nil {
		t.Fatal(err)
	}
	ix.Close()
	raw, _ := os.ReadFile(filepath.Join(liveGen(t, dir), metaName))
	var m meta
	json.Unmarshal(raw, &m)
	m.Files = nil
	writeMeta(filepath.Join(liveGen(t, dir), metaName), m)
	var log logRecorder
	ix, st, err := Open(Config{Dir: dir, Logger: slog.New(&log)}, k)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if !st.Rebuilt || st.Damaged || st.Reason != "index built without checksums" || len(log.errors()) > 0 {
		t.Fatalf("stats %+v, errors %q", st, log.errors())
	}
	if aside, _ := filepath.Glob(dir + ".damaged-*"); len(aside) > 0 {
		t.Errorf("stale index moved aside: %v", aside)
	}
	wantCorrect(t, ix)
}

// TestDamagedIndexesKept: only the newest two damaged indexes are kept.
func TestDamagedIndexesKept(t *testing.T) {
	k := fixtureKB(t)
	dir := filepath.Join(t.TempDir(), "search")
	var asides []string
	for i := 0; i < 4; i++ {
		ix, st, err := Open(Config{Dir: dir}, k)
		if err != nil {
			t.Fatal(err)
		}
		ix.Close()
		if st.Damaged {
			asides = append(asides, st.DamagedDir)
		}
		os.Remove(segment(t, dir))
	}
	got, _ := filepath.Glob(dir + ".damaged-*")
	if len(asides) != 3 || len(got) != 2 || got[0] != asides[1] || got[1] != asides[2] {
		t.Fatalf("kept %v of %v", got, asides)
	}
}

// TestQueryPanicRecovered damages the index under a running Index: Bleve
// reads a segment's table of stored documents only when a query loads its
// hits, and panics on garbage there. The panic is a query error, logged at
// ERROR with the query, and a rebuild in the background repairs the index.
// (Real damage: no test hook.)
func TestQueryPanicRecovered(t *testing.T) {
	k := fixtureKB(t)
	dir := filepath.Join(t.TempDir(), "search")
	var log logRecorder
	ix, _, err := Open(Config{Dir: dir, Logger: slog.New(&log)}, k)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	waitPrepared(ix)
	zap := segment(t, dir)
	off, n := storedIndex(t, zap)
	overwrite(t, zap, off, []byte(strings.Repeat("\xff", int(n))))

	_, err = ix.Search(context.Background(), Query{Text: "forgotten password", Lang: "en"})
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "panic") {
		t.Fatalf("search on a damaged index: %v", err)
	}
	errs := log.errors()
	if len(errs) == 0 || !strings.Contains(errs[0], "query panicked") || !strings.Contains(errs[0], "query=forgotten password lang=en") {
		t.Fatalf("errors logged: %q", errs)
	}
	ix.repair.wg.Wait()
	if aside, _ := filepath.Glob(dir + ".damaged-*"); len(aside) != 1 {
		t.Errorf("damaged index not kept aside: %v", aside)
	}
	wantCorrect(t, ix)
	// The repaired index is what the next start finds, and reuses.
	ix.Close()
	ix, st, err := Open(Config{Dir: dir}, k)
	if err != nil || st.Rebuilt {
		t.Fatalf("start after repair: rebuilt=%v (%s), %v", st.Rebuilt, st.Reason, err)
	}
	wantCorrect(t, ix)
}

// TestHealthFindsDamage: a file changed under a running index makes Health
// fail with the reason (and start a repair) until the index is rebuilt.
func TestHealthFindsDamage(t *testing.T) {
	k := fixtureKB(t)
	dir := filepath.Join(t.TempDir(), "search")
	ix, _, err := Open(Config{Dir: dir}, k)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Health(); err != nil {
		t.Fatalf("health of a new index: %v", err)
	}
	waitPrepared(ix)
	zap := segment(t, dir)
	info, _ := os.Stat(zap)
	overwrite(t, zap, info.Size()/2, randomBytes(7, 16))
	ix.health.at = ix.health.at.Add(-healthTTL) // as if a few seconds had passed
	if err := ix.Health(); err == nil || !strings.Contains(err.Error(), ".zap damaged") {
		t.Fatalf("health of a damaged index: %v", err)
	}
	ix.repair.wg.Wait()
	wantCorrect(t, ix)
}

// TestHitUnknownToKnowledgeBase: an index that returns an article the
// knowledge base lacks (here: the index of a larger knowledge base) answers
// with the valid hits, counts only those, logs the inconsistency and
// repairs itself.
func TestHitUnknownToKnowledgeBase(t *testing.T) {
	content := t.TempDir()
	for _, name := range []string{"one", "two", "three"} {
		p := filepath.Join(content, "en", name+".md")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("---\ntitle: Invoice "+name+"\n---\nAbout invoices, part "+name+".\n"), 0o644)
	}
	k3, _ := kb.Load(content)
	os.Remove(filepath.Join(content, "en", "two.md"))
	k2, _ := kb.Load(content)

	var log logRecorder
	ix, _, err := Open(Config{Dir: filepath.Join(t.TempDir(), "search"), Logger: slog.New(&log)}, k3)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	ix.cur.Load().kb = k2 // the index now disagrees with its knowledge base

	r := top(t, ix, Query{Text: "invoice", Lang: "en"})
	if r.Total != 2 || len(r.Hits) != 2 {
		t.Fatalf("total %d, hits %v", r.Total, ids(r))
	}
	errs := log.errors()
	if len(errs) == 0 || !strings.Contains(errs[0], "unknown to the knowledge base") || !strings.Contains(errs[0], "en/two") {
		t.Fatalf("errors logged: %q", errs)
	}
	ix.repair.wg.Wait()
	if err := ix.Health(); err != nil {
		t.Fatalf("health after repair: %v", err)
	}
	r = top(t, ix, Query{Text: "invoice", Lang: "en"})
	if r.Total != 2 || len(r.Hits) != 2 || len(log.errors()) != len(errs) {
		t.Fatalf("after repair: total %d, hits %v, errors %q", r.Total, ids(r), log.errors())
	}
}

// waitPrepared waits until the live pair's vocabularies are read, so that a
// test damaging the index's files knows what reads them.
func waitPrepared(ix *Index) {
	s := ix.acquire()
	defer s.release()
	<-s.prepared
}
