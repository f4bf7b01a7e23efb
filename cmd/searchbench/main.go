// Command searchbench measures the portal's search in process, without its
// result cache, on a content tree and a file of real questions, and in the
// same run the SQLite FTS5 peer on the same articles and questions (build
// with -tags sqlite_fts5; without the tag the peer is left out and the
// output says so).
//
// Each question is run -passes times (after one unmeasured pass) on two
// paths: search (search.Query{Text, Lang, Limit: 10}, as /api/search) and
// drafting (search.DraftQuery over the drafts file, as /api/deflect). It
// prints, per path and engine, the latency percentiles of single queries,
// and the throughput of one goroutine and of GOMAXPROCS goroutines.
//
//	mkdir -p /tmp/tldr && tar xzf ../shared/bench/tldr-corpus.tar.gz -C /tmp/tldr   # once
//	go run -tags sqlite_fts5 ./cmd/searchbench -content /tmp/tldr/docs/en \
//	    -queries ../shared/bench/covidfaq/queries.tsv -drafts ../shared/bench/covidfaq/drafts.tsv
//
// -cpuprofile FILE profiles the portal's measured passes only (the peer's
// run after it), for `go tool pprof FILE`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orbitask/portal/internal/benchquery"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/search"
)

// draftLimit is how many suggestions a draft gets (web's maxSuggestions).
const draftLimit = 5

func main() {
	content := flag.String("content", "/tmp/tldr/docs/en", "content tree to index")
	queries := flag.String("queries", "../shared/bench/covidfaq/queries.tsv", "search questions: TSV, first column")
	drafts := flag.String("drafts", "../shared/bench/covidfaq/drafts.tsv", "ticket drafts: TSV, first column (\"\" skips the drafting path)")
	lang := flag.String("lang", "en", "language of the questions")
	passes := flag.Int("passes", 5, "measured passes over the questions")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the portal's measured passes to this file")
	peerSnippets := flag.Bool("peer-snippets", true, "the FTS5 peer makes a snippet per hit, as the portal does")
	flag.Parse()
	if *passes < 1 {
		fmt.Fprintln(os.Stderr, "searchbench: -passes must be 1 or more")
		os.Exit(2)
	}
	if err := run(*content, *queries, *drafts, *lang, *passes, *cpuprofile, *peerSnippets); err != nil {
		fmt.Fprintln(os.Stderr, "searchbench:", err)
		os.Exit(1)
	}
}

// engine answers one question on one path.
type engine struct {
	name   string
	search func(ctx context.Context, text string) error
}

// path is a set of questions and the engines that answer them.
type path struct {
	name    string
	texts   []string
	engines []engine
}

func run(content, queriesFile, draftsFile, lang string, passes int, cpuprofile string, peerSnippets bool) error {
	if _, err := os.Stat(content); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such content tree (the tldr pages: mkdir -p /tmp/tldr && tar xzf ../shared/bench/tldr-corpus.tar.gz -C /tmp/tldr)", content)
	}
	k, err := kb.Load(content)
	if err != nil {
		return err
	}
	if len(k.Problems) > 0 {
		slog.Warn("content problems", "count", len(k.Problems), "first", k.Problems[0].String())
	}
	dir, err := os.MkdirTemp("", "searchbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	t0 := time.Now()
	ix, _, err := search.Open(search.Config{Dir: dir, CacheSize: -1}, k)
	if err != nil {
		return err
	}
	defer ix.Close()
	fmt.Printf("content %s: %d articles, portal index built in %s\n", content, len(k.Articles), time.Since(t0).Round(time.Millisecond))

	qs, err := benchquery.ReadTSV(queriesFile)
	if err != nil {
		return err
	}
	paths := []*path{{name: "search", texts: qs, engines: []engine{{"portal (Bleve)", func(ctx context.Context, text string) error {
		_, err := ix.Search(ctx, search.Query{Text: text, Lang: lang, Limit: 10})
		return err
	}}}}}
	if draftsFile != "" {
		ds, err := benchquery.ReadTSV(draftsFile)
		if err != nil {
			return err
		}
		paths = append(paths, &path{name: "draft", texts: ds, engines: []engine{{"portal (Bleve)", func(ctx context.Context, text string) error {
			_, err := ix.Search(ctx, search.DraftQuery(text, lang, draftLimit))
			return err
		}}}})
	}
	closePeer, note, err := addPeer(k, lang, peerSnippets, paths)
	if err != nil {
		return err
	}
	defer closePeer()

	fmt.Printf("GOMAXPROCS %d, %d measured passes after one unmeasured, result cache off\n", runtime.GOMAXPROCS(0), passes)
	if note != "" {
		fmt.Println(note)
	}
	fmt.Println()
	fmt.Println("| path | engine | questions | median ms | p90 ms | p99 ms | max ms | mean ms | q/s 1 goroutine | q/s GOMAXPROCS goroutines |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	// The portal's engines run first, all under the profile if asked for.
	var stopProfile func()
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
		defer func() {
			if stopProfile != nil {
				stopProfile()
			}
		}()
	}
	rows := map[*path][]string{}
	for i := 0; i < 2; i++ { // 0: the portal, 1: the peer
		if i == 1 && stopProfile != nil {
			stopProfile()
			stopProfile = nil
		}
		for _, p := range paths {
			if i >= len(p.engines) {
				continue
			}
			row, err := measure(p, p.engines[i], passes)
			if err != nil {
				return err
			}
			rows[p] = append(rows[p], row)
			fmt.Fprintln(os.Stderr, "done:", p.name, p.engines[i].name)
		}
	}
	// Grouped by path, engines side by side.
	for _, p := range paths {
		for _, r := range rows[p] {
			fmt.Println(r)
		}
	}
	return nil
}

// measure runs every question of p on e: one pass unmeasured, then passes
// timed one at a time, then passes spread over GOMAXPROCS goroutines.
func measure(p *path, e engine, passes int) (string, error) {
	ctx := context.Background()
	for _, t := range p.texts {
		if err := e.search(ctx, t); err != nil {
			return "", fmt.Errorf("%s %s: %q: %w", p.name, e.name, t, err)
		}
	}
	lat := make([]time.Duration, 0, passes*len(p.texts))
	start := time.Now()
	for i := 0; i < passes; i++ {
		for _, t := range p.texts {
			t0 := time.Now()
			if err := e.search(ctx, t); err != nil {
				return "", fmt.Errorf("%s %s: %q: %w", p.name, e.name, t, err)
			}
			lat = append(lat, time.Since(t0))
		}
	}
	serial := float64(len(lat)) / time.Since(start).Seconds()

	total := passes * len(p.texts)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start = time.Now()
	for g := 0; g < runtime.GOMAXPROCS(0); g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := int(next.Add(1)) - 1
				if n >= total {
					return
				}
				if err := e.search(ctx, p.texts[n%len(p.texts)]); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return "", fmt.Errorf("%s %s (parallel): %w", p.name, e.name, firstErr)
	}
	parallel := float64(total) / time.Since(start).Seconds()

	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	ms := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
	pct := func(q float64) float64 { return ms(lat[int(float64(len(lat)-1)*q)]) }
	return fmt.Sprintf("| %s | %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f | %.0f | %.0f |",
		p.name, e.name, len(p.texts), pct(0.5), pct(0.9), pct(0.99), pct(1), ms(sum)/float64(len(lat)), serial, parallel), nil
}
