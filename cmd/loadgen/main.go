// Command loadgen puts a running portal (or cmd/fts5serve, which answers
// the same GET /api/search) under search load for a fixed duration, on C
// keep-alive connections, and reports latency percentiles, errors and the
// rate achieved.
//
// Without -rate each client sends its next query as soon as the previous
// answer is read (closed loop: it measures capacity). With -rate the load
// is open loop: requests are due on a fixed schedule, rate per second from
// all clients together, whatever the server does, and a latency counts
// from when its request was due, not from when a client was free to send
// it; every request due before the end is sent, late if need be, so a
// server that stalls is not hidden by clients that waited for it
// (coordinated omission). Use enough clients (-c) that one answer's
// latency is small next to -c / -rate seconds.
//
// It speaks minimal HTTP/1.1 itself rather than using net/http: on a 2-core
// machine the client shares the CPU with the portal, and net/http's client
// cost about as much CPU per request as the portal's answer.
//
//	go run ./cmd/loadgen -url http://127.0.0.1:8080 -content /tmp/tldr/docs -c 50 -d 20s
//	go run ./cmd/loadgen -url http://127.0.0.1:8080 -queries ../shared/bench/covidfaq/queries.tsv \
//	    -rate 2000 -d 10s -gzip
package main

import (
	"flag"
	"fmt"
	"math/rand"
	"net/url"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/orbitask/portal/internal/benchquery"
	"github.com/orbitask/portal/internal/rawhttp"
	"github.com/orbitask/portal/kb"
)

// minCompressed is the smallest answer the portal compresses
// (httpkit.MinCompressSize); smaller ones are sent plain.
const minCompressed = 1024

// drainLimit is how long after the end requests still due are sent;
// those left then count as unsent.
const drainLimit = 10 * time.Second

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "base URL of the portal or fts5serve (http only)")
	content := flag.String("content", "", "content tree to draw queries from (titles and descriptions)")
	queries := flag.String("queries", "", "TSV file of queries (first column) to send instead of -content's")
	queryLang := flag.String("query-lang", "en", "language of the -queries file")
	clients := flag.Int("c", 50, "concurrent clients (connections)")
	dur := flag.Duration("d", 20*time.Second, "duration")
	warm := flag.Duration("warmup", 3*time.Second, "warm-up before measuring")
	nq := flag.Int("n", 5000, "distinct queries drawn from -content")
	zipf := flag.Float64("zipf", 0, "draw queries with a Zipf distribution of this exponent (> 1); 0 draws uniformly")
	withLang := flag.Bool("lang", true, "send each query with its language")
	rate := flag.Float64("rate", 0, "requests per second from all clients together (open loop); 0 sends as fast as answered")
	gz := flag.Bool("gzip", false, "send Accept-Encoding: gzip, and count an answer of 1 KiB or more that is not gzip as an error")
	label := flag.String("label", "", "with -row: the row's first column")
	row := flag.Bool("row", false, "print one Markdown table row instead of the report")
	seconds := flag.Bool("seconds", false, "also print the latencies of each second of the run (by when requests were due), e.g. to see the first seconds after a restart")
	flag.Parse()
	if (*content == "") == (*queries == "") {
		fmt.Fprintln(os.Stderr, "usage: loadgen (-content DIR | -queries FILE.tsv) [-url URL] [-c N] [-d DURATION] [-rate R] [-zipf S] [-gzip]")
		os.Exit(2)
	}
	u, err := url.Parse(*base)
	if err != nil || u.Scheme != "http" {
		fmt.Fprintln(os.Stderr, "loadgen: -url must be an http:// URL")
		os.Exit(2)
	}
	var qs []benchquery.Query
	if *queries != "" {
		texts, err := benchquery.ReadTSV(*queries)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		for _, t := range texts {
			qs = append(qs, benchquery.Query{Text: t, Lang: *queryLang})
		}
	} else {
		k, err := kb.Load(*content)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		qs = benchquery.Sample(k, *nq, 2)
	}
	header := "\r\nHost: " + u.Host + "\r\nUser-Agent: loadgen\r\n"
	if *gz {
		header += "Accept-Encoding: gzip\r\n"
	}
	reqs := make([][]byte, len(qs))
	for i, q := range qs {
		reqs[i] = []byte("GET " + searchPath(q, *withLang) + " HTTP/1.1" + header + "\r\n")
	}
	// The queries' source is garbage from here on; collecting it now keeps
	// the client's own GC from stalling requests while measuring.
	runtime.GC()
	lg := loadgen{host: u.Host, reqs: reqs, clients: *clients, zipf: *zipf, rate: *rate, gzip: *gz}
	lg.run(*warm) // warm-up, discarded
	r := lg.run(*dur)
	if len(r.lat) == 0 {
		fmt.Fprintf(os.Stderr, "loadgen: no successful requests (%d errors, %d unsent)\n", r.errs, r.unsent)
		os.Exit(1)
	}
	if *seconds && !*row {
		printSeconds(r)
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	pct := func(p float64) float64 { return float64(r.lat[int(float64(len(r.lat)-1)*p)].Microseconds()) / 1000 }
	achieved := float64(len(r.lat)) / r.elapsed.Seconds()
	offered := "closed loop"
	if *rate > 0 {
		offered = fmt.Sprintf("%.0f", *rate)
	}
	if *row {
		fmt.Printf("| %s | %s | %.0f | %d | %d | %.2f | %.2f | %.2f | %.2f |\n", *label, offered, achieved,
			len(r.lat), r.errs+r.unsent, pct(0.50), pct(0.90), pct(0.99), pct(1))
		return
	}
	dist := "uniform"
	if *zipf > 1 {
		dist = fmt.Sprintf("zipf s=%.2f", *zipf)
	}
	pace := "as fast as answered"
	if *rate > 0 {
		pace = fmt.Sprintf("open loop, offered %.0f req/s", *rate)
	}
	fmt.Printf("clients %d (%s), duration %s, distinct queries %d (%s), gzip %v\n", *clients, pace, r.elapsed.Round(time.Millisecond), len(reqs), dist, *gz)
	fmt.Printf("requests %d ok, %d errors (%d not gzip), %d unsent, %.0f req/s achieved\n", len(r.lat), r.errs, r.plain, r.unsent, achieved)
	fmt.Printf("latency ms: p50 %.2f, p90 %.2f, p99 %.2f, max %.2f\n", pct(0.50), pct(0.90), pct(0.99), pct(1))
	if *rate > 0 {
		fmt.Printf("sent late: at most %.2f ms after due", float64(r.maxLag.Microseconds())/1000)
		if r.maxLag > time.Duration(float64(*clients)/(*rate)*float64(time.Second)) {
			// Every client was busy: the lateness is in the latencies, but
			// more clients would send on time.
			fmt.Print(" (more than -c / -rate: the clients could not keep up; add some with -c)")
		}
		fmt.Println()
	}
}

// searchPath is the /api/search request for q.
func searchPath(q benchquery.Query, withLang bool) string {
	v := url.Values{"q": {q.Text}, "limit": {"10"}}
	if withLang {
		v.Set("lang", q.Lang)
	}
	return "/api/search?" + strings.ReplaceAll(v.Encode(), "+", "%20")
}

type loadgen struct {
	host    string
	reqs    [][]byte
	clients int
	zipf    float64
	rate    float64
	gzip    bool
}

type result struct {
	lat            []time.Duration
	second         []int // of each latency: the second of the run it was due (sent, without a rate) in
	errs, unsent   int64
	plain          int64 // answers of minCompressed or more not gzip, with -gzip (counted in errs)
	elapsed        time.Duration
	maxLag         time.Duration // with a rate: the longest a request was sent after it was due
	mu             sync.Mutex
	errsA, unsentA atomic.Int64
	plainA         atomic.Int64
}

// run sends requests for d and returns what it measured.
func (lg *loadgen) run(d time.Duration) *result {
	r := &result{}
	start := time.Now()
	deadline := start.Add(d)
	var interval time.Duration
	if lg.rate > 0 {
		interval = time.Duration(float64(lg.clients) / lg.rate * float64(time.Second))
	}
	var wg sync.WaitGroup
	for c := 0; c < lg.clients; c++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			pick := func() int { return rng.Intn(len(lg.reqs)) }
			if lg.zipf > 1 {
				z := rand.NewZipf(rng, lg.zipf, 1, uint64(len(lg.reqs)-1))
				pick = func() int { return int(z.Uint64()) }
			}
			// Clients start spread over one interval, not all at once.
			due := start.Add(time.Duration(seed-1) * interval / time.Duration(lg.clients))
			var mine []time.Duration
			var secs []int
			var lag time.Duration
			var conn *rawhttp.Conn
			for {
				t := time.Now()
				if interval > 0 {
					// Every request due before the deadline is sent, however
					// late, unless the server is hopelessly behind.
					if !due.Before(deadline) {
						break
					}
					if t.Sub(deadline) > drainLimit {
						r.unsentA.Add(int64(deadline.Sub(due)/interval) + 1)
						break
					}
					if wait := due.Sub(t); wait > 0 {
						time.Sleep(wait)
					}
					lag = max(lag, time.Since(due))
					t = due
					due = due.Add(interval)
				} else if !t.Before(deadline) {
					break
				}
				if conn == nil {
					var err error
					if conn, err = rawhttp.Dial(lg.host); err != nil {
						r.errsA.Add(1)
						if interval == 0 {
							time.Sleep(10 * time.Millisecond)
						}
						continue
					}
				}
				status, body, err := conn.Do(lg.reqs[pick()], 10*time.Second, lg.gzip)
				if err != nil {
					r.errsA.Add(1)
					conn.Close()
					conn = nil
					continue
				}
				if status != 200 {
					r.errsA.Add(1)
					continue
				}
				if lg.gzip && len(body) >= minCompressed && conn.Encoding != "gzip" {
					r.plainA.Add(1)
					r.errsA.Add(1)
					continue
				}
				mine = append(mine, time.Since(t))
				secs = append(secs, int(t.Sub(start)/time.Second))
			}
			if conn != nil {
				conn.Close()
			}
			r.mu.Lock()
			r.lat = append(r.lat, mine...)
			r.second = append(r.second, secs...)
			r.maxLag = max(r.maxLag, lag)
			r.mu.Unlock()
		}(int64(c) + 1)
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	r.errs, r.unsent, r.plain = r.errsA.Load(), r.unsentA.Load(), r.plainA.Load()
	return r
}

// printSeconds prints the latency percentiles of each second of the run.
func printSeconds(r *result) {
	var bySecond [][]time.Duration
	for i, d := range r.lat {
		for len(bySecond) <= r.second[i] {
			bySecond = append(bySecond, nil)
		}
		bySecond[r.second[i]] = append(bySecond[r.second[i]], d)
	}
	fmt.Println("| second | requests | p50 ms | p99 ms | max ms |")
	fmt.Println("|---|---|---|---|---|")
	for i, lat := range bySecond {
		if len(lat) == 0 {
			continue
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)].Microseconds()) / 1000 }
		fmt.Printf("| %d | %d | %.2f | %.2f | %.2f |\n", i+1, len(lat), pct(0.5), pct(0.99), pct(1))
	}
	fmt.Println()
}
