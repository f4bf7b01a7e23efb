package web

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/internal/testlog"
	"github.com/orbitask/portal/internal/testportal"
)

// startUpload opens a filing on a new connection announcing announce bytes
// of body and sends its first 16 KiB (past the 8 KiB the server reads
// before the handler runs), so that the handler takes its share of the
// budget; header are extra name/value pairs. The rest is the caller's to
// send, or not.
func startUpload(t *testing.T, host string, announce int, header ...string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var h strings.Builder
	for i := 0; i+1 < len(header); i += 2 {
		h.WriteString(header[i] + ": " + header[i+1] + "\r\n")
	}
	start := strings.TrimSuffix(handMadeFiling("Content-Disposition: form-data; name=\"attachments\"; filename=\"a.log\"\r\n\r\n"), "--XB--\r\n")
	body := start + strings.Repeat("INFO still uploading\n", (16<<10)/21)
	fmt.Fprintf(c, "POST /api/tickets HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=XB\r\nContent-Length: %d\r\n%s\r\n%s",
		host, announce, h.String(), body)
	return c
}

// answer reads the response on c, waiting up to 10 s.
func answer(t *testing.T, c net.Conn) (*http.Response, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(b)
}

// attachment is a multipart part of an attachment of n bytes.
func attachment(n int) string {
	return "Content-Disposition: form-data; name=\"attachments\"; filename=\"big.log\"\r\nContent-Type: text/plain\r\n\r\n" +
		strings.Repeat("x", n) + "\r\n"
}

// One client (an IPv6 /64) trickling uploads holds at most its share of
// the budget: its second upload waits, then gets 429 with Retry-After,
// while another client's filing that needs the rest of the budget goes
// through at once. Without the share the second upload would take that
// rest, and every other customer would get 503. Refusals are logged at
// WARN once a minute per client.
func TestOneClientCannotHoldTheUploadBudget(t *testing.T) {
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The default share is one filing at its largest of 128 MiB; here
	// 512 KiB of 1 MiB.
	p := newPortalWith(t, Config{UploadMemory: 1 << 20, UploadPerClient: 512 << 10, Logger: log},
		httpkit.Config{Logger: log, TrustedProxies: []string{"127.0.0.1"}})
	host := testportal.Serve(t, p.app)

	startUpload(t, host, 500<<10, "X-Forwarded-For", "2001:db8:1:2::a")
	time.Sleep(200 * time.Millisecond) // its handler has taken 500 KiB
	second := startUpload(t, host, 500<<10, "X-Forwarded-For", "2001:db8:1:2::b")
	third := startUpload(t, host, 500<<10, "X-Forwarded-For", "2001:db8:1:2:ffff::1")
	time.Sleep(200 * time.Millisecond) // both wait for the client's share

	status, body := postRaw(t, host, "/api/tickets", handMadeFiling(attachment(400<<10)), "X-Forwarded-For", "198.51.100.7")
	if status != 201 {
		t.Fatalf("another client's 400 KiB filing while one client trickles: %d %s", status, body)
	}
	for _, c := range []net.Conn{second, third} {
		res, body := answer(t, c)
		if res.StatusCode != 429 || res.Header.Get("Retry-After") != "5" || !strings.Contains(body, "still sending other uploads") {
			t.Errorf("the same /64's next upload: %d, Retry-After %q, %s; want 429", res.StatusCode, res.Header.Get("Retry-After"), body)
		}
	}
	s := logs.String()
	if n := strings.Count(s, `level=WARN msg="filing refused: client's upload share held"`); n != 1 {
		t.Errorf("%d warnings for two refusals of one client, want 1:\n%s", n, s)
	}
	if n := strings.Count(s, `level=DEBUG msg="filing refused: client's upload share held"`); n != 1 {
		t.Errorf("%d debug lines, want 1:\n%s", n, s)
	}
	if n := countTickets(t, p); n != 1 {
		t.Errorf("%d tickets, want 1", n)
	}
}

// paceTimeouts: a minimum rate of 8 KiB/s from the first second on (the
// default waits a minute), the other limits their defaults.
var paceTimeouts = httpkit.Timeouts{BodyMinRate: 8 << 10, BodyMinTime: time.Second}

// An upload that keeps coming but below the minimum rate (a byte every
// 200 ms, under the idle limit) is cut when it falls behind, answered 408
// and logged once at WARN; the budget it held is free at once for the
// next customer.
func TestTricklingFilingIsCutAndItsBudgetFreed(t *testing.T) {
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	p := newPortalWith(t, Config{UploadMemory: 1 << 20, Logger: log}, httpkit.Config{Logger: log, Timeouts: paceTimeouts})
	host := testportal.Serve(t, p.app)

	slow := startUpload(t, host, 1<<20, "X-Request-Note", "holds the whole budget")
	go func() {
		for {
			time.Sleep(200 * time.Millisecond)
			if _, err := slow.Write([]byte("x")); err != nil {
				return
			}
		}
	}()
	res, body := answer(t, slow)
	if res.StatusCode != 408 || body != `{"error":"the request did not arrive in time"}` {
		t.Fatalf("a trickling upload: %d %s, want 408", res.StatusCode, body)
	}
	// Nearly the whole budget, at once: no wait, no 503.
	if status, body := postRaw(t, host, "/api/tickets", handMadeFiling(attachment(900<<10))); status != 201 {
		t.Fatalf("a filing after the trickle was cut: %d %s", status, body)
	}
	s := logs.String()
	if n := strings.Count(s, `level=WARN msg="request cut: body too slow"`); n != 1 {
		t.Errorf("%d warnings for the cut, want 1:\n%s", n, s)
	}
	if strings.Contains(s, "filing refused") || strings.Contains(s, "level=ERROR") {
		t.Errorf("the cut logged twice, or as an error:\n%s", s)
	}
}

// A customer on a slow uplink (240 kbit/s, 30 KB/s: the 600 KB
// took 20 s) still files: here 120 KB at 30 KB/s for 4 s, four times the
// test's minimum time, at nearly four times the minimum rate.
func TestSlowUplinkFilingFiles(t *testing.T) {
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	p := newPortalWith(t, Config{Logger: log}, httpkit.Config{Logger: log, Timeouts: paceTimeouts})
	host := testportal.Serve(t, p.app)

	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := handMadeFiling(attachment(120_000))
	fmt.Fprintf(c, "POST /api/tickets HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=XB\r\nContent-Length: %d\r\n\r\n", host, len(body))
	// 3,000 bytes every 100 ms, on a schedule: a writer woken late by a
	// loaded machine catches up rather than lowering the average.
	start := time.Now()
	for i := 0; len(body) > 0; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * 100 * time.Millisecond)))
		n := min(3000, len(body))
		if _, err := io.WriteString(c, body[:n]); err != nil {
			t.Fatalf("writing the body: %v", err)
		}
		body = body[n:]
	}
	if res, answer := answer(t, c); res.StatusCode != 201 {
		t.Fatalf("a filing at 30 KB/s: %d %s", res.StatusCode, answer)
	}
	if s := logs.String(); strings.Contains(s, "request cut") {
		t.Errorf("a filing above the minimum rate was cut:\n%s", s)
	}
}

// A multipart filing that stops sending mid-body is cut at the idle limit
// and answered 408 (not 400 "multipart body": the read timeout is kept in
// the error), on the API and on the form, with one WARN from the cut.
func TestStalledMultipartFilingAnswers408(t *testing.T) {
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	// The idle limit 7 times the tests' usual gaps, as in httpkit's tests.
	p := newPortalWith(t, Config{Logger: log}, httpkit.Config{Logger: log, Timeouts: httpkit.Timeouts{BodyIdle: 700 * time.Millisecond}})
	host := testportal.Serve(t, p.app)

	stalled := startUpload(t, host, 64<<10)
	res, body := answer(t, stalled)
	if res.StatusCode != 408 || body != `{"error":"the request did not arrive in time"}` {
		t.Fatalf("a stalled multipart filing: %d %s, want 408", res.StatusCode, body)
	}
	s := logs.String()
	if n := strings.Count(s, `level=WARN msg="request cut: body stalled"`); n != 1 {
		t.Errorf("%d warnings for the cut, want 1:\n%s", n, s)
	}
	if strings.Contains(s, "filing refused") || strings.Contains(s, "level=ERROR") {
		t.Errorf("the cut logged twice, or as an error:\n%s", s)
	}

	// The form: the same status, with the form again.
	c, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	form := strings.TrimSuffix(handMadeFiling(attachment(16<<10)), "--XB--\r\n")
	fmt.Fprintf(c, "POST /tickets HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=XB\r\nContent-Length: %d\r\n\r\n%s",
		host, len(form)+(64<<10), form)
	if res, body := answer(t, c); res.StatusCode != 408 || !strings.Contains(body, `value="Jobs stuck"`) {
		t.Errorf("the stalled form: %d, want 408 and the form again", res.StatusCode)
	}
	if n := countTickets(t, p); n != 0 {
		t.Errorf("%d tickets from cut filings", n)
	}
}

// A filing larger than the whole budget (--upload-memory below one
// filing's largest) is refused with 413 at once, rather than allocated
// in full while charged the budget's size.
func TestFilingLargerThanTheBudgetIs413(t *testing.T) {
	p := newPortal(t, Config{UploadMemory: 1 << 20})
	host := testportal.Serve(t, p.app)
	status, body := postRaw(t, host, "/api/tickets", handMadeFiling(attachment(2<<20)))
	if status != 413 || body != fmt.Sprintf(`{"error":"at most %d bytes"}`, 1<<20) {
		t.Fatalf("a 2 MiB filing on a 1 MiB budget: %d %s, want 413", status, body)
	}
	if status, body := postRaw(t, host, "/api/tickets", handMadeFiling(attachment(900<<10))); status != 201 {
		t.Fatalf("a filing within the budget: %d %s", status, body)
	}
}
