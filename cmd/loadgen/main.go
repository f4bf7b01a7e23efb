// Command loadgen puts a running portal under search load: C concurrent
// clients, each sending its next query as soon as the previous answer is
// read, for a fixed duration. It reports throughput and latency percentiles.
//
//	go run ./cmd/loadgen -url http://127.0.0.1:8080 -content /tmp/tldr/docs -c 50 -d 20s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orbitask/portal/kb"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "portal base URL")
	content := flag.String("content", "", "content tree to draw queries from (titles and descriptions)")
	clients := flag.Int("c", 50, "concurrent clients")
	dur := flag.Duration("d", 20*time.Second, "duration")
	warm := flag.Duration("warmup", 3*time.Second, "warm-up before measuring")
	nq := flag.Int("queries", 5000, "distinct queries")
	withLang := flag.Bool("lang", true, "send each query with its article's language")
	flag.Parse()
	if *content == "" {
		fmt.Fprintln(os.Stderr, "usage: loadgen -content DIR [-url URL] [-c N] [-d DURATION]")
		os.Exit(2)
	}
	k, err := kb.Load(*content)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	paths := makePaths(k, *nq, *withLang)
	tr := &http.Transport{MaxIdleConnsPerHost: *clients, MaxConnsPerHost: *clients}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	run(client, *base, paths, *clients, *warm) // warm-up, discarded
	lat, errs, elapsed := run(client, *base, paths, *clients, *dur)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) == 0 {
		fmt.Fprintf(os.Stderr, "loadgen: no successful requests (%d errors)\n", errs)
		os.Exit(1)
	}
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
	fmt.Printf("clients %d, duration %s, distinct queries %d\n", *clients, elapsed.Round(time.Millisecond), len(paths))
	fmt.Printf("requests %d ok, %d errors, %.0f req/s\n", len(lat), errs, float64(len(lat))/elapsed.Seconds())
	fmt.Printf("latency ms: p50 %.2f, p90 %.2f, p99 %.2f, max %.2f\n", pct(0.50), pct(0.90), pct(0.99), pct(1))
}

func run(client *http.Client, base string, paths []string, clients int, d time.Duration) ([]time.Duration, int64, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var errs int64
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	var next atomic.Int64
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for ctx.Err() == nil {
				p := paths[int(next.Add(1))%len(paths)]
				t := time.Now()
				resp, err := client.Get(base + p)
				if err != nil {
					if ctx.Err() == nil {
						atomic.AddInt64(&errs, 1)
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					atomic.AddInt64(&errs, 1)
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all, errs, time.Since(start)
}

// makePaths builds /api/search requests from two or three words of random
// articles' titles and descriptions.
func makePaths(k *kb.KB, n int, withLang bool) []string {
	rng := rand.New(rand.NewSource(2))
	var out []string
	for len(out) < n && len(k.Articles) > 0 {
		a := k.Articles[rng.Intn(len(k.Articles))]
		words := strings.Fields(a.Description + " " + a.Title)
		if len(words) < 2 {
			continue
		}
		w := 2 + rng.Intn(2)
		s := rng.Intn(max(1, len(words)-w))
		v := url.Values{"q": {strings.Join(words[s:min(len(words), s+w)], " ")}, "limit": {"10"}}
		if withLang {
			v.Set("lang", a.Lang)
		}
		out = append(out, "/api/search?"+v.Encode())
	}
	return out
}
