// Command loadgen puts a running portal under search load: C concurrent
// clients, each on its own keep-alive connection, sending its next query as
// soon as the previous answer is read (or, with -rate, on a fixed schedule),
// for a fixed duration. It reports throughput and latency percentiles.
//
// It speaks minimal HTTP/1.1 itself rather than using net/http: on a 2-core
// machine the client shares the CPU with the portal, and net/http's client
// cost about as much CPU per request as the portal's answer.
//
//	go run ./cmd/loadgen -url http://127.0.0.1:8080 -content /tmp/tldr/docs -c 50 -d 20s
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orbitask/portal/internal/benchquery"
	"github.com/orbitask/portal/internal/rawhttp"
	"github.com/orbitask/portal/kb"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "portal base URL (http only)")
	content := flag.String("content", "", "content tree to draw queries from (titles and descriptions)")
	clients := flag.Int("c", 50, "concurrent clients")
	dur := flag.Duration("d", 20*time.Second, "duration")
	warm := flag.Duration("warmup", 3*time.Second, "warm-up before measuring")
	nq := flag.Int("queries", 5000, "distinct queries")
	zipf := flag.Float64("zipf", 0, "draw queries with a Zipf distribution of this exponent (> 1); 0 draws uniformly")
	withLang := flag.Bool("lang", true, "send each query with its article's language")
	rate := flag.Float64("rate", 0, "requests per second from all clients together; 0 sends as fast as answered")
	flag.Parse()
	if *content == "" {
		fmt.Fprintln(os.Stderr, "usage: loadgen -content DIR [-url URL] [-c N] [-d DURATION] [-rate R] [-zipf S]")
		os.Exit(2)
	}
	u, err := url.Parse(*base)
	if err != nil || u.Scheme != "http" {
		fmt.Fprintln(os.Stderr, "loadgen: -url must be an http:// URL")
		os.Exit(2)
	}
	k, err := kb.Load(*content)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	paths := makePaths(k, *nq, *withLang)
	reqs := make([][]byte, len(paths))
	for i, p := range paths {
		reqs[i] = []byte("GET " + p + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: loadgen\r\n\r\n")
	}
	// The knowledge base is garbage from here on; collecting it now keeps
	// the client's own GC from stalling requests while measuring.
	runtime.GC()
	run(u.Host, reqs, *clients, *warm, *zipf, *rate) // warm-up, discarded
	lat, errs, elapsed := run(u.Host, reqs, *clients, *dur, *zipf, *rate)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if len(lat) == 0 {
		fmt.Fprintf(os.Stderr, "loadgen: no successful requests (%d errors)\n", errs)
		os.Exit(1)
	}
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
	dist := "uniform"
	if *zipf > 1 {
		dist = fmt.Sprintf("zipf s=%.2f", *zipf)
	}
	pace := "as fast as answered"
	if *rate > 0 {
		pace = fmt.Sprintf("offered %.0f req/s", *rate)
	}
	fmt.Printf("clients %d (%s), duration %s, distinct queries %d (%s)\n", *clients, pace, elapsed.Round(time.Millisecond), len(paths), dist)
	fmt.Printf("requests %d ok, %d errors, %.0f req/s\n", len(lat), errs, float64(len(lat))/elapsed.Seconds())
	fmt.Printf("latency ms: p50 %.2f, p90 %.2f, p99 %.2f, max %.2f\n", pct(0.50), pct(0.90), pct(0.99), pct(1))
}

// run sends requests for d. With rate > 0 the clients together send rate
// requests per second on a fixed schedule, and a latency counts from when a
// request was due, so a stalled server is not hidden by clients that wait
// for it (coordinated omission); with rate 0 each client sends as fast as
// it is answered.
func run(host string, reqs [][]byte, clients int, d time.Duration, zipf, rate float64) ([]time.Duration, int64, time.Duration) {
	deadline := time.Now().Add(d)
	var errs atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			var interval time.Duration
			if rate > 0 {
				interval = time.Duration(float64(clients) / rate * float64(time.Second))
			}
			// Clients start spread over one interval, not all at once.
			due := start.Add(time.Duration(seed-1) * interval / time.Duration(clients))
			rng := rand.New(rand.NewSource(seed))
			pick := func() int { return rng.Intn(len(reqs)) }
			if zipf > 1 {
				z := rand.NewZipf(rng, zipf, 1, uint64(len(reqs)-1))
				pick = func() int { return int(z.Uint64()) }
			}
			var mine []time.Duration
			var conn *rawhttp.Conn
			for time.Now().Before(deadline) {
				if conn == nil {
					var err error
					if conn, err = rawhttp.Dial(host); err != nil {
						errs.Add(1)
						time.Sleep(10 * time.Millisecond)
						continue
					}
				}
				t := time.Now()
				if interval > 0 {
					if wait := time.Until(due); wait > 0 {
						time.Sleep(wait)
					}
					t = due
					due = due.Add(interval)
				}
				status, _, err := conn.Do(reqs[pick()], 10*time.Second, false)
				if err != nil {
					errs.Add(1)
					conn.Close()
					conn = nil
					continue
				}
				if status != 200 {
					errs.Add(1)
					continue
				}
				mine = append(mine, time.Since(t))
			}
			if conn != nil {
				conn.Close()
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}(int64(c) + 1)
	}
	wg.Wait()
	return all, errs.Load(), time.Since(start)
}

// makePaths builds /api/search requests from benchmark queries.
func makePaths(k *kb.KB, n int, withLang bool) []string {
	var out []string
	for _, q := range benchquery.Sample(k, n, 2) {
		v := url.Values{"q": {q.Text}, "limit": {"10"}}
		if withLang {
			v.Set("lang", q.Lang)
		}
		out = append(out, "/api/search?"+v.Encode())
	}
	return out
}
