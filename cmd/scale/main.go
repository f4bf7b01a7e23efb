// Command scale measures the portal's search at scale on a content tree
// (e.g. the 38k-page tldr corpus): cold start (parse and index), restart with
// unchanged content in a fresh process, index size, memory, and in-process
// query latency.
//
//	go run ./cmd/scale -content /tmp/tldr/docs -data /tmp/scale-data
package main

import (
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/orbitask/portal/internal/benchquery"
	"github.com/orbitask/portal/kb"
	"github.com/orbitask/portal/search"
)

func main() {
	content := flag.String("content", "", "content tree to index")
	data := flag.String("data", "", "data directory (emptied first)")
	queries := flag.Int("queries", 2000, "queries to time")
	restart := flag.Bool("restart", false, "internal: measure a restart on an existing data directory")
	flag.Parse()
	if *content == "" || *data == "" {
		fmt.Fprintln(os.Stderr, "usage: scale -content DIR -data DIR [-queries N]")
		os.Exit(2)
	}
	run := cold
	if *restart {
		run = warm
	}
	if err := run(*content, *data, *queries); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

// cold starts from an empty data directory, as a first start does, then
// measures a restart in a new process, as an operator's restart is.
func cold(content, data string, n int) error {
	if err := os.RemoveAll(data); err != nil {
		return err
	}
	fmt.Printf("machine: %d CPUs (GOMAXPROCS %d), %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	t0 := time.Now()
	k, _, err := kb.LoadCached(content, filepath.Join(data, "kb.snapshot"))
	if err != nil {
		return err
	}
	if err := k.WriteSnapshot(filepath.Join(data, "kb.snapshot")); err != nil {
		return err
	}
	load := time.Since(t0)
	fmt.Printf("articles: %d in %d languages, %d problems\n", len(k.Articles), len(k.Languages()), len(k.Problems))
	t1 := time.Now()
	ix, st, err := search.Open(search.Config{Dir: filepath.Join(data, "search")}, k)
	if err != nil {
		return err
	}
	build := time.Since(t1)
	ix.Close()
	fmt.Printf("cold start: parse %.2fs + index build %.2fs = %.2fs (rebuilt=%v)\n", load.Seconds(), build.Seconds(), (load + build).Seconds(), st.Rebuilt)
	fmt.Printf("peak RSS while building: %s\n", peakRSS())

	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-restart", "-content", content, "-data", data, "-queries", fmt.Sprint(n))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

func warm(content, data string, n int) error {
	t0 := time.Now()
	k, cached, err := kb.LoadCached(content, filepath.Join(data, "kb.snapshot"))
	if err != nil {
		return err
	}
	// No result cache: every query below is measured searching.
	ix, st, err := search.Open(search.Config{Dir: filepath.Join(data, "search"), CacheSize: -1}, k)
	if err != nil {
		return err
	}
	defer ix.Close()
	fmt.Printf("restart, unchanged content, new process: %.2fs (snapshot used=%v, index rebuilt=%v)\n", time.Since(t0).Seconds(), cached, st.Rebuilt)

	qs := benchquery.Sample(k, n, 1)
	ctx := context.Background()
	for _, mode := range []struct {
		name string
		q    func(string, string) search.Query
	}{
		{"keywords, lang given", func(text, lang string) search.Query { return search.Query{Text: text, Lang: lang, Limit: 10} }},
		{"as-you-type prefix, lang given", func(text, lang string) search.Query {
			return search.Query{Text: text[:max(2, len(text)*2/3)], Lang: lang, Limit: 6, Prefix: true}
		}},
		{"keywords, all languages", func(text, lang string) search.Query { return search.Query{Text: text, Limit: 10} }},
	} {
		for _, q := range qs[:min(200, len(qs))] { // warm-up
			ix.Search(ctx, mode.q(q.Text, q.Lang))
		}
		var lat []time.Duration
		var hits int
		for _, q := range qs {
			s := time.Now()
			r, err := ix.Search(ctx, mode.q(q.Text, q.Lang))
			lat = append(lat, time.Since(s))
			if err == nil && len(r.Hits) > 0 {
				hits++
			}
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		fmt.Printf("query latency (%s, %d queries, %d with hits): median %.3f ms, p99 %.3f ms\n",
			mode.name, len(lat), hits, ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]))
	}
	// Measured last: segments merged away during the build are deleted in
	// the background after the index is opened again.
	fmt.Printf("data size on disk: index %.1f MB, snapshot %.1f MB\n",
		float64(dirSize(filepath.Join(data, "search")))/1e6, float64(dirSize(filepath.Join(data, "kb.snapshot")))/1e6)
	fmt.Printf("peak RSS of the serving process: %s\n", peakRSS())
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

func peakRSS() string {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "unknown"
}
