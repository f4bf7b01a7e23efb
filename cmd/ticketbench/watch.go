package main

// watch: one ticket, W WebSocket watchers of its live feed, K status changes
// made from another process (this one: the tickets package on the same
// database, which is what `portal ticket status` does, or that command
// itself with -via cli). Per change: the time until the last watcher had
// it; over all deliveries: p50/p99; and the portal's RSS per connection.

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/url"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/orbitask/portal/sqlitedb"
	"github.com/orbitask/portal/tickets"
)

type arrival struct {
	seq int64
	at  time.Time
}

type watcher struct {
	conn     *websocket.Conn
	arrivals []arrival // written by the watcher's reader only
	done     chan struct{}
	closeErr error
}

func runWatch(args []string) error {
	fs := flag.NewFlagSet("watch", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "portal address (host:port)")
	data := fs.String("data", "", "the portal's data directory (the changes are made in DATA/portal.db)")
	w := fs.Int("w", 10000, "concurrent watchers, one WebSocket each")
	k := fs.Int("k", 20, "status changes (open, waiting, open, …)")
	gap := fs.Duration("gap", 500*time.Millisecond, "pause after a change has reached every watcher (plus up to 100 ms at random, so changes fall anywhere in the portal's poll interval)")
	via := fs.String("via", "store", "how to change the status: store (tickets package in this process) or cli (run -portal ticket status …)")
	portalBin := fs.String("portal", "", "with -via cli: the portal binary (go build -o /tmp/portal ./cmd/portal)")
	parallel := fs.Int("dial", 100, "connections opened at once")
	srcIPs := fs.Int("src-ips", 1, "spread connections over this many loopback source addresses (127.0.0.1, .2, …) when one address runs out of ephemeral ports")
	pid := fs.Int("pid", 0, "the portal's process id, for RSS and CPU")
	fs.Parse(args)
	if *data == "" {
		return fmt.Errorf("-data is required")
	}
	if *via == "cli" && *portalBin == "" {
		return fmt.Errorf("-via cli needs -portal BINARY")
	}
	limit := raiseNoFile(uint64(*w) + 1024)
	if limit < uint64(*w)+100 {
		return fmt.Errorf("open-file limit is %d, below %d watchers: run as root or raise the hard limit (ulimit -Hn)", limit, *w)
	}

	// The ticket to watch.
	hc, err := dialHTTP(*addr)
	if err != nil {
		return err
	}
	status, resp, err := hc.postJSON("/api/tickets", []byte(`{"name":"Jana Novák","company":"Acme Ltd","phone":"+420 601 555 010",
		"email":"jana@acme.example","subject":"Export to CSV stops at 10,000 rows","description":"Since the upgrade to 4.2 the export stops after 10,000 rows without an error.","severity":2,"lang":"en"}`))
	hc.close()
	if err != nil || status != 201 {
		return fmt.Errorf("filing the watched ticket: %d %s %v", status, resp, err)
	}
	var filed struct {
		Number int    `json:"number"`
		Token  string `json:"token"`
	}
	if err := json.Unmarshal(resp, &filed); err != nil {
		return err
	}
	var store *tickets.Store
	if *via == "store" {
		db, err := sqlitedb.Open(dbPath(*data))
		if err != nil {
			return err
		}
		defer db.Close()
		if store, err = tickets.Open(tickets.Config{DB: db, DataDir: *data}); err != nil {
			return err
		}
	}
	time.Sleep(time.Second) // let the portal settle after the filing
	rssBefore, rssErr := int64(0), error(nil)
	if *pid > 0 {
		rssBefore, rssErr = procRSS(*pid)
	}

	// Open the watchers; each is ready when its snapshot has arrived.
	liveURL := fmt.Sprintf("ws://%s/api/tickets/%d/live?token=%s", *addr, filed.Number, url.QueryEscape(filed.Token))
	watchers := make([]*watcher, *w)
	var received atomic.Int64 // events (not snapshots) received by all watchers
	var openErrs atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, *parallel)
	var wg sync.WaitGroup
	openStart := time.Now()
	openCPU := startCPU(*pid)
	for i := range watchers {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			wt, err := openWatcher(liveURL, i%*srcIPs, &received)
			if err != nil {
				openErrs.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
				return
			}
			watchers[i] = wt
		}(i)
	}
	wg.Wait()
	openTook := time.Since(openStart)
	openCPUUse := openCPU.stop()
	open := 0
	for _, wt := range watchers {
		if wt != nil {
			open++
		}
	}
	fmt.Printf("ticket #%d; watchers %d requested, %d open with their snapshot in %s (%.0f/s; %s), %d failed\n",
		filed.Number, *w, open, openTook.Round(time.Millisecond), float64(open)/openTook.Seconds(), openCPUUse, openErrs.Load())
	if s, ok := firstErr.Load().(string); ok {
		fmt.Printf("first failure: %s\n", s)
	}
	if open == 0 {
		return fmt.Errorf("no watcher connected")
	}
	// Keep this process's collector out of the deliveries: collect now, and
	// not again until the changes are done (they allocate little).
	runtime.GC()
	gcPercent := debug.SetGCPercent(-1)
	time.Sleep(2 * time.Second)
	var rssOpen int64
	if *pid > 0 && rssErr == nil {
		rssOpen, rssErr = procRSS(*pid)
	}

	// The changes.
	type change struct {
		seq int64
		at  time.Time
	}
	var changes []change
	rng := rand.New(rand.NewSource(1))
	ctx := context.Background()
	cliSeq := regexp.MustCompile(`\(event (\d+)\)`)
	changeCPU := startCPU(*pid)
	for i := 0; i < *k; i++ {
		st := tickets.StatusOpen
		if i%2 == 1 {
			st = tickets.StatusWaiting
		}
		want := received.Load() + int64(open)
		var c change
		if store != nil {
			ev, err := store.SetStatus(ctx, filed.Number, st, tickets.ActorCLI)
			if err != nil {
				return fmt.Errorf("change %d: %w", i+1, err)
			}
			c = change{ev.Seq, ev.At} // ev.At is taken inside the transaction, just before the commit
		} else {
			at := time.Now() // includes the command's start-up: an upper bound
			out, err := exec.Command(*portalBin, "ticket", "status", strconv.Itoa(filed.Number), string(st), "--data", *data).CombinedOutput()
			if err != nil {
				return fmt.Errorf("change %d: %v: %s", i+1, err, out)
			}
			m := cliSeq.FindSubmatch(out)
			if m == nil {
				return fmt.Errorf("change %d: no event number in %q", i+1, out)
			}
			seq, _ := strconv.ParseInt(string(m[1]), 10, 64)
			c = change{seq, at}
		}
		changes = append(changes, c)
		for giveUp := time.Now().Add(5 * time.Second); received.Load() < want && time.Now().Before(giveUp); {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(*gap + time.Duration(rng.Int63n(int64(100*time.Millisecond))))
	}
	changeCPUUse := changeCPU.stop()
	debug.SetGCPercent(gcPercent)
	var rssAfter int64
	if *pid > 0 && rssErr == nil {
		rssAfter, rssErr = procRSS(*pid)
	}

	// Close every watcher, then read what they saw.
	for _, wt := range watchers {
		if wt != nil {
			wt.conn.Close()
		}
	}
	bySeq := map[int64]int{}
	for i, c := range changes {
		bySeq[c.seq] = i
	}
	perChange := make([][]time.Duration, len(changes))
	var all []time.Duration
	unexpected := 0
	for _, wt := range watchers {
		if wt == nil {
			continue
		}
		<-wt.done
		for _, a := range wt.arrivals {
			i, ok := bySeq[a.seq]
			if !ok {
				unexpected++
				continue
			}
			d := a.at.Sub(changes[i].at)
			perChange[i] = append(perChange[i], d)
			all = append(all, d)
		}
	}
	fmt.Printf("changes %d via %s, %s apart (+0–100 ms); cpu while changing: %s\n", len(changes), *via, *gap, changeCPUUse)
	var firstTimes, lastTimes []time.Duration
	missing := 0
	fmt.Print("time until the last watcher had the change, ms:")
	for i, ds := range perChange {
		missing += open - len(ds)
		if len(ds) == 0 {
			fmt.Printf(" [%d: none]", i+1)
			continue
		}
		l := slices.Max(ds)
		lastTimes = append(lastTimes, l)
		firstTimes = append(firstTimes, slices.Min(ds))
		fmt.Printf(" %s", ms(l))
		if len(ds) < open {
			fmt.Printf("(%d/%d)", len(ds), open)
		}
	}
	fmt.Println()
	fmt.Printf("first watcher per change, ms: %s\n", latencies(firstTimes))
	fmt.Printf("last watcher per change, ms: %s\n", latencies(lastTimes))
	fmt.Printf("all deliveries (%d of %d expected, %d missing, %d unexpected), ms: %s\n",
		len(all), open*len(changes), missing, unexpected, latencies(all))
	if *pid > 0 {
		if rssErr != nil {
			fmt.Printf("portal RSS: %v\n", rssErr)
		} else {
			fmt.Printf("portal RSS: %.1f MB before the watchers, %.1f MB with %d open (%.1f KB per connection), %.1f MB after the changes\n",
				mb(rssBefore), mb(rssOpen), open, float64(rssOpen-rssBefore)/1024/float64(open), mb(rssAfter))
		}
	}
	return nil
}

func mb(b int64) float64 { return float64(b) / (1 << 20) }

var watchDialer = websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 4 << 10, WriteBufferSize: 512}

// openWatcher connects (from 127.0.0.(src+1)), waits for the snapshot and
// starts the reader that timestamps every later message.
func openWatcher(liveURL string, src int, received *atomic.Int64) (*watcher, error) {
	d := watchDialer
	if src > 0 {
		local := &net.TCPAddr{IP: net.IPv4(127, 0, byte(src/254), byte(src%254+1))}
		nd := net.Dialer{LocalAddr: local, Timeout: 30 * time.Second}
		d.NetDialContext = nd.DialContext
	}
	conn, res, err := d.Dial(liveURL, nil)
	if err != nil {
		return nil, wsDialError(res, err)
	}
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, snap, err := conn.ReadMessage()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if !bytes.Contains(snap, []byte(`"type":"snapshot"`)) {
		conn.Close()
		return nil, fmt.Errorf("first message is not a snapshot: %.200s", snap)
	}
	conn.SetReadDeadline(time.Time{})
	wt := &watcher{conn: conn, done: make(chan struct{})}
	go func() {
		defer close(wt.done)
		// Only the start of an event is read ({"type":"event","seq":N,…}):
		// decoding whole messages would cost this process CPU that the
		// portal, on the same cores, needs for the fan-out.
		buf := make([]byte, 64)
		for {
			_, rd, err := conn.NextReader()
			if err != nil {
				wt.closeErr = err
				return
			}
			n, err := io.ReadFull(rd, buf)
			now := time.Now()
			if err == nil {
				_, err = io.Copy(io.Discard, rd)
			} else if err == io.ErrUnexpectedEOF {
				err = nil
			}
			if err != nil {
				wt.closeErr = err
				return
			}
			if seq, ok := eventSeq(buf[:n]); ok {
				wt.arrivals = append(wt.arrivals, arrival{seq, now})
				received.Add(1)
			}
		}
	}()
	return wt, nil
}

// eventSeq reads N from the start of an event message, {"type":"event","seq":N,….
func eventSeq(b []byte) (int64, bool) {
	const prefix = `{"type":"event","seq":`
	if !bytes.HasPrefix(b, []byte(prefix)) {
		return 0, false
	}
	b = b[len(prefix):]
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	seq, err := strconv.ParseInt(string(b[:i]), 10, 64)
	return seq, err == nil && i < len(b)
}
