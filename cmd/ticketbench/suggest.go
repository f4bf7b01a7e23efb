package main

// suggest: N customers type ticket drafts at a fixed pace over the
// deflection WebSocket. Every keystroke sends the whole draft so far; the
// latency of a draft is the time from sending it to receiving the answer
// that echoes its query_id. The portal may skip a draft that a newer one
// replaced before it was searched: those are counted, not timed.

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

type suggestStats struct {
	lat                      []time.Duration
	trace                    []traceRow
	sent, answered, errored  int
	dials, dialErrs, dropped int
	firstErr                 string
}

func (s *suggestStats) add(o suggestStats) {
	s.lat = append(s.lat, o.lat...)
	s.trace = append(s.trace, o.trace...)
	s.sent += o.sent
	s.answered += o.answered
	s.errored += o.errored
	s.dials += o.dials
	s.dialErrs += o.dialErrs
	s.dropped += o.dropped
	if s.firstErr == "" {
		s.firstErr = o.firstErr
	}
}

type suggestRun struct {
	addr               string
	drafts             []draft
	n                  int
	interval           time.Duration
	start, from, until time.Time
	grace              time.Duration
	lang               string
	tracing            bool
}

// traceRow is one answered draft, for -trace.
type traceRow struct {
	drafter int
	chars   int64 // the draft's length: its query_id
	sent    time.Time
	lat     time.Duration
}

func runSuggest(args []string) error {
	fs := flag.NewFlagSet("suggest", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "portal address (host:port)")
	n := fs.Int("n", 200, "concurrent drafters, each on its own WebSocket")
	keys := fs.Float64("keys", 5, "keystrokes per second per drafter (one draft message each)")
	dur := fs.Duration("d", 30*time.Second, "measured duration")
	warm := fs.Duration("warmup", 5*time.Second, "typing before measuring")
	tsv := fs.String("drafts", "", "TSV file whose column 1 are ticket drafts (e.g. ../shared/bench/covidfaq/drafts.tsv)")
	content := fs.String("content", "", "content tree whose titles and descriptions make the drafts (without -drafts)")
	lang := fs.String("lang", "en", "lang sent with every draft; also the language of the -content articles used")
	pid := fs.Int("pid", 0, "the portal's process id, to measure its CPU")
	seed := fs.Int64("seed", 1, "shuffles which drafter types which draft")
	trace := fs.String("trace", "", "write every answered draft (drafter, characters, ms since the window began, latency ms) to this file")
	fs.Parse(args)
	drafts, err := loadDrafts(*tsv, *content, *lang)
	if err != nil {
		return err
	}
	rand.New(rand.NewSource(*seed)).Shuffle(len(drafts), func(i, j int) { drafts[i], drafts[j] = drafts[j], drafts[i] })
	raiseNoFile(uint64(*n) + 1024)

	r := &suggestRun{addr: *addr, drafts: drafts, n: *n, interval: time.Duration(float64(time.Second) / *keys),
		start: time.Now(), grace: time.Second, lang: *lang, tracing: *trace != ""}
	r.from = r.start.Add(*warm)
	r.until = r.from.Add(*dur)
	cpuDone := make(chan string, 1)
	go func() {
		time.Sleep(time.Until(r.from))
		m := startCPU(*pid)
		time.Sleep(time.Until(r.until))
		cpuDone <- m.stop()
	}()

	var mu sync.Mutex
	var total suggestStats
	var wg sync.WaitGroup
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			st := r.drafter(i)
			mu.Lock()
			total.add(st)
			mu.Unlock()
		}(i)
	}
	wg.Wait()

	chars := 0
	for _, d := range drafts {
		chars += len([]rune(d.Body))
	}
	fmt.Printf("drafters %d at %.1f keystrokes/s (offered %.0f drafts/s), measured %s after %s warm-up; %d drafts, mean %d characters, lang %q\n",
		*n, *keys, float64(*n)**keys, *dur, *warm, len(drafts), chars/len(drafts), *lang)
	fmt.Printf("drafts sent %d (%.0f/s); answered %d, skipped by the portal (superseded) %d, errors %d; connections %d (failed %d, dropped %d)\n",
		total.sent, float64(total.sent)/dur.Seconds(), total.answered, total.sent-total.answered-total.errored, total.errored,
		total.dials, total.dialErrs, total.dropped)
	if total.firstErr != "" {
		fmt.Printf("first error: %.300s\n", total.firstErr)
		if strings.Contains(total.firstErr, `"status":429`) {
			fmt.Println("(the portal's per-client rate limits: start it with --rate-limits off for this benchmark)")
		}
	}
	fmt.Printf("latency ms (answered): %s\n", latencies(total.lat))
	fmt.Printf("cpu during the window: %s\n", <-cpuDone)
	if *trace != "" {
		slices.SortFunc(total.trace, func(a, b traceRow) int { return a.sent.Compare(b.sent) })
		var b strings.Builder
		for _, t := range total.trace {
			fmt.Fprintf(&b, "%d\t%d\t%.1f\t%s\n", t.drafter, t.chars, float64(t.sent.Sub(r.from).Microseconds())/1000, ms(t.lat))
		}
		if err := os.WriteFile(*trace, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// drafter types drafts i, i+n, i+2n, … each on a new connection (a new
// ticket form, so a new deflection session) until the run ends.
func (r *suggestRun) drafter(i int) suggestStats {
	var st suggestStats
	next := r.start.Add(time.Duration(i) * r.interval / time.Duration(r.n))
	rng := rand.New(rand.NewSource(int64(i) + 1))
	for j := 0; next.Before(r.until); j++ {
		d := r.drafts[(i+j*r.n)%len(r.drafts)]
		from := 1
		if j == 0 { // customers are at every point of their drafts, not all at the start
			from = 1 + rng.Intn(len([]rune(d.Body)))
		}
		r.typeDraft(i, d, from, &next, &st)
		for next.Before(time.Now()) { // the customer pauses while the last answer arrives
			next = next.Add(r.interval)
		}
	}
	return st
}

type draftMsg struct {
	Type    string `json:"type"`
	Subject string `json:"subject"`
	Body    string `json:"body"`
	Lang    string `json:"lang"`
	QueryID int64  `json:"query_id"`
}

type answerMsg struct {
	Type    string `json:"type"`
	QueryID int64  `json:"query_id"`
	Error   string `json:"error"`
}

var wsDialer = websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 8 << 10, WriteBufferSize: 4 << 10}

// typeDraft sends d one keystroke more at a time, from its first from
// characters on, each at *next, and times the answers.
func (r *suggestRun) typeDraft(drafter int, d draft, from int, next *time.Time, st *suggestStats) {
	if wait := time.Until(*next); wait > 0 {
		time.Sleep(wait)
	}
	st.dials++
	conn, res, err := wsDialer.Dial("ws://"+r.addr+"/api/deflect/ws", nil)
	if err != nil {
		st.dialErrs++
		if st.firstErr == "" {
			st.firstErr = "dial: " + wsDialError(res, err).Error()
		}
		*next = next.Add(r.interval)
		return
	}
	runes := []rune(d.Body)
	sentAt := make([]atomic.Int64, len(runes)+1) // by query_id: UnixNano when sent
	var lastAnswered atomic.Int64
	readerDone := make(chan suggestStats, 1)
	go func() {
		var rs suggestStats
		defer func() { readerDone <- rs }()
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			now := time.Now()
			var a answerMsg
			if err := json.Unmarshal(data, &a); err != nil || a.QueryID <= 0 || a.QueryID >= int64(len(sentAt)) {
				rs.errored++
				if rs.firstErr == "" {
					rs.firstErr = fmt.Sprintf("unexpected answer %.200s", data)
				}
				continue
			}
			lastAnswered.Store(a.QueryID)
			t := time.Unix(0, sentAt[a.QueryID].Load())
			if t.Before(r.from) || !t.Before(r.until) {
				continue // warm-up, or sent after the window
			}
			if a.Type != "suggestions" {
				rs.errored++
				if rs.firstErr == "" {
					rs.firstErr = strings.TrimSpace(string(data))
				}
				continue
			}
			rs.answered++
			rs.lat = append(rs.lat, now.Sub(t))
			if r.tracing {
				rs.trace = append(rs.trace, traceRow{drafter, a.QueryID, t, now.Sub(t)})
			}
		}
	}()

	var last int64
	for k := from; k <= len(runes) && next.Before(r.until); k++ {
		if wait := time.Until(*next); wait > 0 {
			time.Sleep(wait)
		}
		msg, _ := json.Marshal(draftMsg{Type: "draft", Subject: d.Subject, Body: string(runes[:k]), Lang: r.lang, QueryID: int64(k)})
		now := time.Now()
		sentAt[k].Store(now.UnixNano())
		conn.SetWriteDeadline(now.Add(10 * time.Second))
		if err := conn.WriteMessage(websocket.TextMessage, msg); err != nil {
			st.dropped++
			break
		}
		if !now.Before(r.from) && now.Before(r.until) {
			st.sent++
		}
		last = int64(k)
		*next = next.Add(r.interval)
	}
	// Wait for the answer to the last draft sent (or give up after grace).
	for giveUp := time.Now().Add(r.grace); lastAnswered.Load() < last && time.Now().Before(giveUp); {
		time.Sleep(5 * time.Millisecond)
	}
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	conn.Close()
	st.add(<-readerDone)
}
