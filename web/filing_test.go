package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/internal/rawhttp"
	"github.com/orbitask/portal/internal/testlog"
	"github.com/orbitask/portal/internal/testportal"
)

// handMadeFiling is a multipart filing written byte by byte: the required
// fields, then extra as given (raw part text, each ending in CRLF).
func handMadeFiling(extra ...string) string {
	var b strings.Builder
	for _, kv := range [][2]string{{"name", "Jana"}, {"company", "Acme"}, {"phone", "+420 601 555 010"},
		{"email", "jana@acme.example"}, {"subject", "Jobs stuck"}, {"description", "Jobs queued for an hour."}, {"severity", "3"}} {
		fmt.Fprintf(&b, "--XB\r\nContent-Disposition: form-data; name=%q\r\n\r\n%s\r\n", kv[0], kv[1])
	}
	for _, e := range extra {
		b.WriteString("--XB\r\n" + e)
	}
	b.WriteString("--XB--\r\n")
	return b.String()
}

// postRaw sends body as multipart (boundary XB) on a fresh connection and
// returns the status and the answer.
func postRaw(t *testing.T, host, target, body string, header ...string) (int, string) {
	t.Helper()
	conn, err := rawhttp.Dial(host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var h strings.Builder
	for i := 0; i+1 < len(header); i += 2 {
		h.WriteString(header[i] + ": " + header[i+1] + "\r\n")
	}
	req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=XB\r\nContent-Length: %d\r\n%s\r\n%s",
		target, host, len(body), h.String(), body)
	status, answer, err := conn.Do([]byte(req), 20*time.Second, true)
	if err != nil {
		t.Fatalf("POST %s: %v", target, err)
	}
	return status, string(answer)
}

// Hand-made multipart bodies the form could never send are refused whole,
// with the API's JSON (or the form again, with a message), a warning in the
// log, and nothing stored; a correct one still files.
func TestMultipartEdgeCasesRefuseTheFiling(t *testing.T) {
	logs := &testlog.Buffer{}
	p := newPortal(t, Config{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	host := testportal.Serve(t, p.app)

	var many []string
	for i := range 1001 {
		many = append(many, fmt.Sprintf("Content-Disposition: form-data; name=\"x%d\"\r\n\r\nv\r\n", i))
	}
	status, body := postRaw(t, host, "/api/tickets", handMadeFiling(many...))
	if status != 400 || body != `{"error":"more than 64 parts"}` {
		t.Errorf("1,008 parts: %d %s", status, body)
	}
	if !strings.Contains(logs.String(), `level=WARN msg="filing refused: body"`) || !strings.Contains(logs.String(), "more than 64 parts") {
		t.Errorf("no warning for 1,008 parts:\n%s", logs.String())
	}

	for _, c := range []struct{ name, part, want string }{
		{"unterminated quote", "Content-Disposition: form-data; name=\"attachments\"; filename=\"a.log\r\nContent-Type: text/plain\r\n\r\nERROR x\r\n",
			`{"error":"part 8: no form-data Content-Disposition with a name that parses"}`},
		{"header line without a colon", "Content-Disposition: form-data; name=\"attachments\"; filename=\"a.log\"\r\nthis is not a header\r\n\r\nERROR x\r\n",
			`{"error":"part 8: malformed MIME header: missing colon: \"this is not a header\""}`},
		{"no Content-Disposition", "Content-Type: text/plain\r\n\r\nERROR x\r\n",
			`{"error":"part 8: no form-data Content-Disposition with a name that parses"}`},
	} {
		status, body := postRaw(t, host, "/api/tickets", handMadeFiling(c.part))
		if status != 400 || body != c.want {
			t.Errorf("%s: %d %s, want 400 %s", c.name, status, body, c.want)
		}
	}
	// The form: the page again, saying so, with what was typed.
	status, body = postRaw(t, host, "/tickets", handMadeFiling("Content-Disposition: form-data; name=\"attachments\"; filename=\"a.log\r\n\r\nx\r\n"))
	if status != 400 {
		t.Errorf("form with a broken part: status %d", status)
	}
	wantContains(t, body, "The form arrived damaged and nothing was filed.", `value="Jobs stuck"`)
	if n := countTickets(t, p); n != 0 {
		t.Fatalf("%d tickets stored from refused bodies", n)
	}

	// The same hand-made body, correct, files with its attachment.
	status, body = postRaw(t, host, "/api/tickets", handMadeFiling(
		"Content-Disposition: form-data; name=\"attachments\"; filename=\"a.log\"\r\nContent-Type: text/plain\r\n\r\nERROR job 42 failed\r\n"))
	if status != 201 {
		t.Fatalf("a correct hand-made filing: %d %s", status, body)
	}
	var filed struct {
		Number int    `json:"number"`
		Token  string `json:"token"`
	}
	json.Unmarshal([]byte(body), &filed)
	_, body = p.get(t, "/api/tickets/"+itoa(filed.Number), "Authorization", "Bearer "+filed.Token)
	wantContains(t, body, `"attachments":[{"name":"a.log","size":19}]`)
}

// The upload budget: a filing that finds it held by others waits, then is
// answered 503 with Retry-After, and nothing is stored; once the memory is
// given back, filings go through.
func TestUploadBudgetSpentAnswers503(t *testing.T) {
	logs := &testlog.Buffer{}
	p := newPortal(t, Config{UploadMemory: 1 << 20, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	host := testportal.Serve(t, p.app)

	// A slow upload announces 1 MiB and sends 16 KiB of it (past the 8 KiB
	// the server reads before the handler): it holds the whole budget.
	slow, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	start := strings.TrimSuffix(handMadeFiling("Content-Disposition: form-data; name=\"attachments\"; filename=\"a.log\"\r\n\r\n"), "--XB--\r\n")
	fmt.Fprintf(slow, "POST /api/tickets HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=XB\r\nContent-Length: %d\r\n\r\n%s%s",
		host, 1<<20, start, strings.Repeat("INFO still uploading\n", (16<<10)/21))
	time.Sleep(200 * time.Millisecond) // the handler has taken its share

	started := time.Now()
	status, body := postRaw(t, host, "/api/tickets", handMadeFiling())
	if status != 503 || !strings.Contains(body, "busy receiving other uploads") {
		t.Fatalf("while the budget is held: %d %s", status, body)
	}
	if waited := time.Since(started); waited < uploadWait {
		t.Errorf("answered after %v, want a wait of %v first", waited, uploadWait)
	}
	if !strings.Contains(logs.String(), "upload budget spent") {
		t.Error("no warning for the spent budget")
	}
	req := httptest.NewRequest(http.MethodPost, "/api/tickets", strings.NewReader(handMadeFiling()))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=XB")
	slowDone := make(chan struct{})
	go func() { // the 503 through Fiber's test path too, for its header
		defer close(slowDone)
		res, _ := testportal.Do(t, p.app, req)
		if res.StatusCode != 503 || res.Header.Get("Retry-After") != "5" {
			t.Errorf("503: status %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
		}
	}()
	<-slowDone
	slow.Close() // the slow upload gives up: its share comes back
	time.Sleep(200 * time.Millisecond)
	if status, body := postRaw(t, host, "/api/tickets", handMadeFiling()); status != 201 {
		t.Fatalf("after the slow upload ended: %d %s", status, body)
	}
	if n := countTickets(t, p); n != 1 {
		t.Fatalf("%d tickets stored, want 1", n)
	}
}

// Filings refused 503 while they are still sending their attachments get
// the whole answer, not a connection reset: twenty at once, each from Go's
// client sending 40 MiB from a goroutine while it waits.
func TestBusyFilingsGetTheirAnswerWhileSending(t *testing.T) {
	// 20 filings from one address: more than the filing limit's burst.
	// The budget holds one 40 MiB filing, not two: a larger one would be
	// refused 413 at once, without the wait.
	p := newPortal(t, Config{UploadMemory: 48 << 20, RateLimits: httpkit.RateLimits{Off: true}})
	host := testportal.Serve(t, p.app)
	slow, err := net.Dial("tcp", host) // holds a third of the budget, as in TestUploadBudgetSpentAnswers503
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	start := strings.TrimSuffix(handMadeFiling("Content-Disposition: form-data; name=\"attachments\"; filename=\"a.log\"\r\n\r\n"), "--XB--\r\n")
	fmt.Fprintf(slow, "POST /api/tickets HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=XB\r\nContent-Length: %d\r\n\r\n%s%s",
		host, 16<<20, start, strings.Repeat("INFO still uploading\n", (16<<10)/21))
	time.Sleep(200 * time.Millisecond)

	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	var wg sync.WaitGroup
	var mu sync.Mutex
	lost := 0
	for i := range 20 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, "http://"+host+"/api/tickets", io.LimitReader(zeros{}, 40<<20))
			req.ContentLength = 40 << 20
			req.Header.Set("Content-Type", "multipart/form-data; boundary=XB")
			res, err := client.Do(req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(res.Body)
				res.Body.Close()
			}
			if err != nil || res.StatusCode != 503 || !strings.Contains(string(body), `{"error":"busy receiving other uploads`) {
				mu.Lock()
				lost++
				mu.Unlock()
				t.Errorf("filing %d: %v %.100s", i, err, body)
			}
		})
	}
	wg.Wait()
	if lost > 0 {
		t.Logf("%d of 20 filings lost their answer", lost)
	}
}

// zeros is an endless body.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// POST /api/tickets with an Idempotency-Key: a repeat gets the first
// ticket, with its number and link; duplicates sent at once file one;
// the key with another filing is refused.
func TestIdempotentFilingOverTheAPI(t *testing.T) {
	// More filings from one address than the filing limit's burst.
	p := newPortal(t, Config{RateLimits: httpkit.RateLimits{Off: true}})
	key := "4f1c2d7e-retry-me-9b3a"
	file := func(body string) (*http.Response, string) {
		return p.postJSON(t, "/api/tickets", body, "Idempotency-Key", key)
	}
	res, first := file(validTicketJSON)
	wantStatus(t, res, 201)
	res, again := file(validTicketJSON)
	wantStatus(t, res, 201)
	if again != first {
		t.Fatalf("repeat answered %s, want the first answer %s", again, first)
	}

	key = "concurrent-duplicates-0001"
	var wg sync.WaitGroup
	answers := make([]string, 8)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, body := file(validTicketJSON)
			if res.StatusCode != 201 {
				t.Errorf("duplicate %d: %d %s", i, res.StatusCode, body)
			}
			answers[i] = body
		}()
	}
	wg.Wait()
	for i := range answers {
		if answers[i] != answers[0] {
			t.Fatalf("duplicates answered differently:\n%s\n%s", answers[0], answers[i])
		}
	}
	if n := countTickets(t, p); n != 2 {
		t.Fatalf("%d tickets stored, want 2 (one per key)", n)
	}

	res, body := file(strings.Replace(validTicketJSON, "Cannot log in", "Cannot log out", 1))
	wantStatus(t, res, 422)
	wantContains(t, body, `{"error":"Idempotency-Key: already used for a different ticket; send a new key"}`)
	res, body = p.postJSON(t, "/api/tickets", validTicketJSON, "Idempotency-Key", "short")
	wantStatus(t, res, 422)
	wantContains(t, body, `"idempotency_key":"must be 16 to 255 visible ASCII characters"`)
	if n := countTickets(t, p); n != 2 {
		t.Fatalf("%d tickets stored, want 2", n)
	}
}

var formKey = regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`)

// The ticket form carries a key of its own: sent twice (a reload after a
// lost answer) it files one ticket and leads to it both times; edited and
// sent again under the spent key, it is shown again with a new key, and
// that files the edit.
func TestTicketFormIsIdempotent(t *testing.T) {
	p := newPortal(t, Config{})
	res, page := p.get(t, "/tickets/new")
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Error("the form, with its key, may be cached")
	}
	m := formKey.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the form has no idempotency key")
	}
	_, other := p.get(t, "/tickets/new")
	if formKey.FindStringSubmatch(other)[1] == m[1] {
		t.Fatal("two renderings of the form share a key")
	}
	form := url.Values{"name": {"Jana"}, "company": {"Acme"}, "phone": {"+420 601 555 010"}, "email": {"jana@acme.example"},
		"subject": {"Export fails"}, "description": {"The CSV export stops at 50%."}, "severity": {"3"}, "idempotency_key": {m[1]}}
	send := func() (*http.Response, string) {
		var buf bytes.Buffer
		w := multipartFrom(&buf, form)
		req := httptest.NewRequest(http.MethodPost, "/tickets", &buf)
		req.Header.Set("Content-Type", w)
		return p.do(t, req)
	}
	res, _ = send()
	wantStatus(t, res, 303)
	loc := res.Header.Get("Location")
	res, _ = send()
	wantStatus(t, res, 303)
	if res.Header.Get("Location") != loc {
		t.Fatalf("the repeat leads to %q, the first to %q", res.Header.Get("Location"), loc)
	}
	if n := countTickets(t, p); n != 1 {
		t.Fatalf("%d tickets stored, want 1", n)
	}

	form.Set("description", "The CSV export stops at 50%, and the PDF one too.")
	res, page = send()
	wantStatus(t, res, 422)
	wantContains(t, page, "This form has already filed a ticket with other content", "the PDF one too")
	fresh := formKey.FindStringSubmatch(page)
	if fresh == nil || fresh[1] == m[1] {
		t.Fatal("the form shown again has no new key")
	}
	form.Set("idempotency_key", fresh[1])
	res, _ = send()
	wantStatus(t, res, 303)
	if n := countTickets(t, p); n != 2 {
		t.Fatalf("%d tickets stored, want 2", n)
	}
}

// multipartFrom writes values as a multipart form and returns its
// Content-Type.
func multipartFrom(buf *bytes.Buffer, values url.Values) string {
	w := multipart.NewWriter(buf)
	for k, vs := range values {
		for _, v := range vs {
			w.WriteField(k, v)
		}
	}
	w.Close()
	return w.FormDataContentType()
}
