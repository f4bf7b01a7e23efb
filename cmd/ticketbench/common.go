package main

// What the three modes share: latency summaries, CPU and memory readings
// from /proc, the file-descriptor limit, draft texts and a minimal HTTP/1.1
// client.

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/orbitask/portal/internal/rawhttp"
	"github.com/orbitask/portal/kb"
)

// wsDialError explains a WebSocket the portal refused with 429: it caps
// the sockets of one client address (200 by default), and every
// connection of this tool comes from one.
func wsDialError(res *http.Response, err error) error {
	if res != nil && res.StatusCode == http.StatusTooManyRequests {
		return fmt.Errorf("%w (429: the portal caps WebSockets per client address; start it with --max-sockets-per-client 0)", err)
	}
	return err
}

// latencies summarises durations as "p50 …, p90 …, p99 …, max … ms". It
// sorts lat.
func latencies(lat []time.Duration) string {
	if len(lat) == 0 {
		return "no samples"
	}
	slices.Sort(lat)
	return fmt.Sprintf("p50 %s, p90 %s, p99 %s, max %s ms",
		ms(pct(lat, 0.50)), ms(pct(lat, 0.90)), ms(pct(lat, 0.99)), ms(lat[len(lat)-1]))
}

// pct is the p-quantile of sorted durations (nearest rank below).
func pct(sorted []time.Duration, p float64) time.Duration {
	return sorted[int(float64(len(sorted)-1)*p)]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 2, 64)
}

// clockTick is USER_HZ, the unit of utime and stime in /proc/PID/stat: 100
// on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// procCPU returns the CPU time (user + system) process pid has used.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// procRSS returns the resident set size of process pid in bytes (VmRSS).
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/status: VmRSS: %w", pid, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
}

// selfCPU returns the CPU time this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineCPU returns the CPU time all processes on the machine have used
// (the "cpu" line of /proc/stat, without idle and iowait) and the time
// the hypervisor gave to other guests (steal).
func machineCPU() (busy, steal time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	var v [8]int64
	for i := range v {
		v[i], _ = strconv.ParseInt(f[i+1], 10, 64)
	}
	return time.Duration(v[0]+v[1]+v[2]+v[5]+v[6]) * clockTick, time.Duration(v[7]) * clockTick
}

// cpuMeter measures the CPU the portal (if pid > 0), this process and the
// whole machine use between start and stop, so that a run disturbed by other
// work on the machine shows it.
type cpuMeter struct {
	pid            int
	wall           time.Time
	portal, self   time.Duration
	machine, steal time.Duration
	portalErr      error
}

func startCPU(pid int) *cpuMeter {
	m := &cpuMeter{pid: pid, wall: time.Now(), self: selfCPU()}
	m.machine, m.steal = machineCPU()
	if pid > 0 {
		m.portal, m.portalErr = procCPU(pid)
	}
	return m
}

// stop describes the CPU used since start, in cores (1.00 = one core busy).
func (m *cpuMeter) stop() string {
	wall := time.Since(m.wall).Seconds()
	selfUse := (selfCPU() - m.self).Seconds() / wall
	machine, steal := machineCPU()
	machineUse, stealUse := (machine-m.machine).Seconds()/wall, (steal-m.steal).Seconds()/wall
	self := fmt.Sprintf("ticketbench %.2f cores", selfUse)
	if m.pid <= 0 {
		return fmt.Sprintf("%s; machine %.2f cores busy, steal %.2f; portal not measured (no -pid)", self, machineUse, stealUse)
	}
	now, err := procCPU(m.pid)
	if err = errors.Join(m.portalErr, err); err != nil {
		return self + "; portal: " + err.Error()
	}
	portalUse := (now - m.portal).Seconds() / wall
	return fmt.Sprintf("portal %.2f cores, %s, everything else %.2f, steal %.2f (of %d)",
		portalUse, self, max(0, machineUse-portalUse-selfUse), stealUse, runtime.NumCPU())
}

// raiseNoFile raises this process's limit of open files to n (both limits;
// raising the hard limit needs root) or, failing that, the soft limit to the
// hard one. It returns the limit in force.
func raiseNoFile(n uint64) uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur >= n {
		return lim.Cur
	}
	want := syscall.Rlimit{Cur: n, Max: max(n, lim.Max)}
	if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
		return n
	}
	lim.Cur = lim.Max
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	return lim.Cur
}

// draft is the text of one ticket a customer writes.
type draft struct {
	Subject, Body, Lang string
}

// loadDrafts reads drafts from a TSV file (the draft is column 1; its
// subject is left empty, the customer types everything in the description)
// or, if tsv is "", makes them from the titles and descriptions of the
// articles in lang of a content tree ("" = every language).
func loadDrafts(tsv, content, lang string) ([]draft, error) {
	switch {
	case tsv != "":
		f, err := os.Open(tsv)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r := csv.NewReader(f)
		r.Comma, r.LazyQuotes, r.FieldsPerRecord = '\t', true, -1
		var out []draft
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", tsv, err)
			}
			if text := strings.TrimSpace(rec[0]); text != "" {
				out = append(out, draft{Body: text, Lang: lang})
			}
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: no drafts", tsv)
		}
		return out, nil
	case content != "":
		k, err := kb.Load(content)
		if err != nil {
			return nil, err
		}
		openers := []string{"Hello,", "Hi support,", "Good morning,", "Dear team,", "Hi there!"}
		closers := []string{"How do I do that? Thanks,", "Can you help? Regards,", "What am I missing? Thank you,", "Is there a guide? Best,"}
		names := []string{"Jana", "Pierre", "Anna", "Tom", "Eva", "Lukas"}
		var out []draft
		for i, a := range k.Articles {
			if lang != "" && a.Lang != lang || a.Description == "" {
				continue
			}
			body := fmt.Sprintf("%s I need to work with %s. %s %s %s", openers[i%len(openers)], a.Title,
				strings.TrimSpace(a.Description), closers[i%len(closers)], names[i%len(names)])
			out = append(out, draft{Subject: "Question about " + a.Title, Body: body, Lang: a.Lang})
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("%s: no articles in language %q", content, lang)
		}
		return out, nil
	}
	return nil, errors.New("give -drafts TSV or -content DIR")
}

// dbPath is the portal's database in a data directory.
func dbPath(data string) string { return filepath.Join(data, "portal.db") }

// httpConn is one keep-alive connection that posts JSON.
type httpConn struct {
	*rawhttp.Conn
	host string
	req  []byte
}

func dialHTTP(host string) (*httpConn, error) {
	c, err := rawhttp.Dial(host)
	if err != nil {
		return nil, err
	}
	return &httpConn{Conn: c, host: host}, nil
}

func (h *httpConn) close() { h.Close() }

// postJSON sends body to path and returns the status and the response body,
// which is valid until the next call.
func (h *httpConn) postJSON(path string, body []byte) (int, []byte, error) {
	h.req = append(h.req[:0], "POST "...)
	h.req = append(h.req, path...)
	h.req = append(h.req, " HTTP/1.1\r\nHost: "...)
	h.req = append(h.req, h.host...)
	h.req = append(h.req, "\r\nUser-Agent: ticketbench\r\nContent-Type: application/json\r\nContent-Length: "...)
	h.req = strconv.AppendInt(h.req, int64(len(body)), 10)
	h.req = append(h.req, "\r\n\r\n"...)
	h.req = append(h.req, body...)
	return h.Do(h.req, 30*time.Second, true)
}
