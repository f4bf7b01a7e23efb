package main

// file: C clients POST /api/tickets for D seconds, then the tickets table is
// counted to check that every acknowledged (201) filing is in the database.

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3" // read-only count of the portal's tickets

	"github.com/orbitask/portal/langtag"
)

func runFile(args []string) error {
	fs := flag.NewFlagSet("file", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "portal address (host:port)")
	data := fs.String("data", "", "the portal's data directory, for the count check (DATA/portal.db, opened read-only)")
	clients := fs.Int("c", 16, "concurrent clients, each on its own keep-alive connection")
	dur := fs.Duration("d", 20*time.Second, "measured duration")
	warm := fs.Duration("warmup", 3*time.Second, "filing before measuring (counted in the database check, not in the figures)")
	rate := fs.Float64("rate", 0, "filings per second from all clients together; 0 sends as fast as answered")
	tsv := fs.String("drafts", "", "TSV file whose column 1 are ticket texts")
	content := fs.String("content", "", "content tree whose titles and descriptions make the ticket texts (without -drafts)")
	lang := fs.String("lang", "", "language of the texts taken from -content (\"\" = all)")
	pid := fs.Int("pid", 0, "the portal's process id, to measure its CPU")
	fs.Parse(args)
	if *data == "" {
		return fmt.Errorf("-data is required (the count check reads DATA/portal.db)")
	}
	drafts, err := loadDrafts(*tsv, *content, *lang)
	if err != nil {
		return err
	}
	bodies, err := ticketBodies(drafts, 4000, 1)
	if err != nil {
		return err
	}
	db, err := sql.Open("sqlite3", "file:"+dbPath(*data)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	before, err := countTickets(db)
	if err != nil {
		return fmt.Errorf("count before: %w", err)
	}

	start := time.Now()
	measureFrom := start.Add(*warm)
	deadline := measureFrom.Add(*dur)
	var (
		mu       sync.Mutex
		lat      []time.Duration
		numbers  []int
		measured atomic.Int64 // 201s completed in the measured window
		errs     atomic.Int64
		other    atomic.Int64 // answers other than 201
		firstBad atomic.Value
	)
	var cpu *cpuMeter
	cpuReady := make(chan struct{})
	go func() {
		time.Sleep(time.Until(measureFrom))
		cpu = startCPU(*pid)
		close(cpuReady)
	}()
	var wg sync.WaitGroup
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(int64(c) + 1))
			var interval time.Duration
			if *rate > 0 {
				interval = time.Duration(float64(*clients) / *rate * float64(time.Second))
			}
			due := start.Add(time.Duration(c) * interval / time.Duration(*clients))
			var myLat []time.Duration
			var myNums []int
			var conn *httpConn
			for time.Now().Before(deadline) {
				if conn == nil {
					var err error
					if conn, err = dialHTTP(*addr); err != nil {
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
					t, due = due, due.Add(interval)
				}
				status, resp, err := conn.postJSON("/api/tickets", bodies[rng.Intn(len(bodies))])
				done := time.Now()
				if err != nil {
					errs.Add(1)
					conn.close()
					conn = nil
					continue
				}
				if status != 201 {
					other.Add(1)
					firstBad.CompareAndSwap(nil, fmt.Sprintf("%d %s", status, resp))
					continue
				}
				n, ok := ticketNumberIn(resp)
				if !ok {
					other.Add(1)
					firstBad.CompareAndSwap(nil, fmt.Sprintf("201 without a number: %s", resp))
					continue
				}
				myNums = append(myNums, n)
				if !t.Before(measureFrom) && !done.After(deadline) {
					myLat = append(myLat, done.Sub(t))
					measured.Add(1)
				}
			}
			if conn != nil {
				conn.close()
			}
			mu.Lock()
			lat = append(lat, myLat...)
			numbers = append(numbers, myNums...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	<-cpuReady
	cpuUse := cpu.stop()

	after, err := countTickets(db)
	if err != nil {
		return fmt.Errorf("count after: %w", err)
	}
	stored, err := storedNumbers(db)
	if err != nil {
		return err
	}
	missing := 0
	seen := map[int]bool{}
	dup := 0
	for _, n := range numbers {
		if !stored[n] {
			missing++
		}
		if seen[n] {
			dup++
		}
		seen[n] = true
	}

	pace := "as fast as answered"
	if *rate > 0 {
		pace = fmt.Sprintf("offered %.0f/s", *rate)
	}
	fmt.Printf("clients %d (%s), measured %s after %s warm-up, %d distinct ticket bodies\n", *clients, pace, *dur, *warm, len(bodies))
	fmt.Printf("filed (201) in the measured window: %d = %.0f tickets/s; other answers %d, connection errors %d\n",
		measured.Load(), float64(measured.Load())/dur.Seconds(), other.Load(), errs.Load())
	if s, ok := firstBad.Load().(string); ok {
		fmt.Printf("first non-201 answer: %.300s\n", s)
		if strings.HasPrefix(s, "429 ") {
			fmt.Println("(the portal's per-client rate limits: start it with --rate-limits off for this benchmark)")
		}
	}
	fmt.Printf("latency ms (201s): %s\n", latencies(lat))
	fmt.Printf("cpu during the window: %s\n", cpuUse)
	verdict := "OK"
	if after-before != int64(len(numbers)) || missing > 0 || dup > 0 {
		verdict = "MISMATCH"
	}
	fmt.Printf("database: %d tickets before, %d after (+%d); 201s acknowledged in the whole run %d; acknowledged numbers missing from the table %d, duplicated %d: %s\n",
		before, after, after-before, len(numbers), missing, dup, verdict)
	return nil
}

func countTickets(db *sql.DB) (int64, error) {
	var n int64
	err := db.QueryRow(`SELECT count(*) FROM tickets`).Scan(&n)
	return n, err
}

func storedNumbers(db *sql.DB) (map[int]bool, error) {
	rows, err := db.Query(`SELECT number FROM tickets`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var n int
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[n] = true
	}
	return out, rows.Err()
}

// ticketNumberIn finds "number":N in a 201 answer without decoding it all.
func ticketNumberIn(resp []byte) (int, bool) {
	i := bytes.Index(resp, []byte(`"number":`))
	if i < 0 {
		return 0, false
	}
	rest := resp[i+len(`"number":`):]
	j := 0
	for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(string(rest[:j]))
	return n, err == nil && n > 0
}

// ticketBodies makes n valid, varied POST /api/tickets bodies from drafts.
func ticketBodies(drafts []draft, n int, seed int64) ([][]byte, error) {
	rng := rand.New(rand.NewSource(seed))
	first := []string{"Jana", "Pierre", "Anna", "Tomáš", "Eva", "Lukas", "Sophie", "Martin", "Claire", "Jonas", "Petra", "Marc"}
	last := []string{"Novák", "Dubois", "Schmidt", "Martin", "Svoboda", "Weber", "Bernard", "Dvořák", "Keller", "Laurent"}
	companies := []string{"Acme Ltd", "Globex", "Initech", "Umbrella s.r.o.", "Stark Industries", "Wayne Enterprises", "Hooli GmbH", "Vandelay SA"}
	envs := []string{"", "Ubuntu 22.04, PostgreSQL 15, 4 GB RAM", "Windows Server 2022, IIS 10", "Kubernetes 1.29 on AWS, 3 nodes", ""}
	errorsTxt := []string{"", "", "ERROR: connection refused (code 111)", "java.lang.OutOfMemoryError: Java heap space", "HTTP 502 Bad Gateway"}
	deployments := []string{"", "cloud", "own-server", "other"}
	langs := append([]string{"", ""}, langtag.Official()...) // a third left to detection
	out := make([][]byte, n)
	for i := range out {
		d := drafts[rng.Intn(len(drafts))]
		f, l, co := first[rng.Intn(len(first))], last[rng.Intn(len(last))], companies[rng.Intn(len(companies))]
		subject := d.Subject
		if subject == "" {
			subject = firstWords(d.Body, 8)
		}
		lang := langs[rng.Intn(len(langs))]
		if lang == "" {
			lang = d.Lang // "" lets the portal detect it
		}
		domain := strings.ToLower(strings.NewReplacer(" ", "", ".", "", "Umbrellasro", "umbrella").Replace(co)) + ".example"
		body, err := json.Marshal(map[string]any{
			"name": f + " " + l, "company": co,
			"phone":   fmt.Sprintf("+420 6%02d %03d %03d", rng.Intn(100), rng.Intn(1000), rng.Intn(1000)),
			"email":   asciiOnly(f) + "." + asciiOnly(l) + "@" + asciiOnly(domain),
			"subject": subject, "description": d.Body, "severity": 1 + rng.Intn(4),
			"version":     fmt.Sprintf("4.%d.%d", rng.Intn(10), rng.Intn(20)),
			"deployment":  deployments[rng.Intn(len(deployments))],
			"environment": envs[rng.Intn(len(envs))], "error_messages": errorsTxt[rng.Intn(len(errorsTxt))],
			"lang": lang,
		})
		if err != nil {
			return nil, err
		}
		out[i] = body
	}
	return out, nil
}

func firstWords(s string, n int) string {
	w := strings.Fields(s)
	return strings.Join(w[:min(n, len(w))], " ")
}

// asciiOnly drops what is not a lower-case ASCII letter, digit, dot or hyphen.
func asciiOnly(s string) string {
	s = strings.NewReplacer("á", "a", "č", "c", "ř", "r", "é", "e", "š", "s", "ž", "z", "ý", "y", "í", "i").Replace(strings.ToLower(s))
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return -1
	}, s)
}
