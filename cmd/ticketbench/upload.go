package main

// upload: C clients at once each file one ticket with A attachments of S
// bytes (POST /api/tickets, multipart), the bodies generated as they are
// sent so the tool itself holds none; the portal's peak memory (VmHWM) and
// resident memory before and after, and the answers' statuses.

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

func runUpload(args []string) error {
	fs := flag.NewFlagSet("upload", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "portal address (host:port)")
	clients := fs.Int("c", 6, "concurrent filings")
	files := fs.Int("a", 5, "attachments per filing")
	size := fs.Int("s", 10<<20-4096, "bytes per attachment")
	pid := fs.Int("pid", 0, "the portal's process id, for its memory (/proc/PID/status)")
	fs.Parse(args)
	if *pid == 0 {
		return fmt.Errorf("-pid is required")
	}
	before, err := procMemory(*pid)
	if err != nil {
		return err
	}
	start := time.Now()
	var wg sync.WaitGroup
	statuses := make([]string, *clients)
	for i := range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = uploadOne(*addr, i, *files, *size)
		}()
	}
	wg.Wait()
	took := time.Since(start)
	after, err := procMemory(*pid)
	if err != nil {
		return err
	}
	fmt.Printf("%d filings of %d × %.1f MB in %v\n", *clients, *files, float64(*size)/1e6, took.Round(time.Millisecond))
	fmt.Printf("answers: %s\n", strings.Join(statuses, ", "))
	fmt.Printf("portal VmHWM (peak RSS): %s → %s\n", before["VmHWM"], after["VmHWM"])
	fmt.Printf("portal VmRSS:            %s → %s\n", before["VmRSS"], after["VmRSS"])
	return nil
}

// uploadOne files one ticket and returns its status (and, when not 201,
// the start of the answer).
func uploadOne(addr string, n, files, size int) string {
	const boundary = "ticketbenchupload"
	var head bytes.Buffer
	for _, kv := range [][2]string{{"name", "Jana"}, {"company", "Acme"}, {"phone", "+420 601 555 010"},
		{"email", "jana@acme.example"}, {"subject", fmt.Sprintf("Upload %d", n)}, {"description", "Logs attached."}, {"severity", "3"}} {
		fmt.Fprintf(&head, "--%s\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", boundary, kv[0], kv[1])
	}
	readers := []io.Reader{&head}
	length := int64(head.Len())
	for f := range files {
		h := fmt.Sprintf("--%s\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"upload-%d-%d.log\"\r\nContent-Type: text/plain\r\n\r\n", boundary, n, f)
		readers = append(readers, strings.NewReader(h), &logLines{left: size, seed: n*10 + f}, strings.NewReader("\r\n"))
		length += int64(len(h) + size + 2)
	}
	tail := "--" + boundary + "--\r\n"
	readers = append(readers, strings.NewReader(tail))
	length += int64(len(tail))
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/tickets", io.MultiReader(readers...))
	if err != nil {
		return err.Error()
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 200))
	if res.StatusCode == http.StatusCreated {
		return "201"
	}
	return fmt.Sprintf("%d %s", res.StatusCode, bytes.TrimSpace(body))
}

// logLines yields left bytes of a plain-text log, different per seed (so
// the attachments are not stored once by their content hash).
type logLines struct {
	left, seed, line int
	pending          []byte
}

func (l *logLines) Read(p []byte) (int, error) {
	if l.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && l.left > 0 {
		if len(l.pending) == 0 {
			l.line++
			l.pending = fmt.Appendf(nil, "2026-11-25 10:00:%02d INFO worker %d processed job %d\n", l.line%60, l.seed, l.line)
		}
		k := copy(p[n:min(len(p), n+l.left)], l.pending)
		l.pending = l.pending[k:]
		n += k
		l.left -= k
	}
	return n, nil
}

// procMemory reads the memory lines of /proc/PID/status.
func procMemory(pid int) (map[string]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.HasPrefix(k, "Vm") {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out, nil
}
