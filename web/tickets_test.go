package web

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/internal/testportal"
	"github.com/orbitask/portal/live"
	"github.com/orbitask/portal/ticketfeed"
	"github.com/orbitask/portal/tickets"
)

const validTicketJSON = `{"name":"Jana Novak","company":"Acme","phone":"+420 601 555 010","email":"jana@acme.example",
	"subject":"Cannot log in after upgrade","description":"Since the upgrade to 6.4.2 every login fails with Invalid credentials.",
	"severity":2,"deployment":"own-server","version":"6.4.2"}`

func (p *portal) postJSON(t *testing.T, target, body string, header ...string) (*http.Response, string) {
	t.Helper()
	return testportal.PostJSON(t, p.app, target, body, header...)
}

func countTickets(t *testing.T, p *portal) int {
	t.Helper()
	db, err := sql.Open("sqlite3", p.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM tickets`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func itoa(n int) string { return strconv.Itoa(n) }

func liveMessage(seq int64, data []byte) live.Message { return live.Message{Seq: seq, Data: data} }
func itoa64(n int64) string                           { return strconv.FormatInt(n, 10) }

func TestTicketAPI(t *testing.T) {
	p := newPortal(t, Config{})
	res, body := p.postJSON(t, "/api/tickets", validTicketJSON)
	wantStatus(t, res, 201)
	var filed struct {
		ID     int64  `json:"id"`
		Number int    `json:"number"`
		Token  string `json:"token"`
		Status string `json:"status"`
		URL    string `json:"url"`
	}
	if err := json.Unmarshal([]byte(body), &filed); err != nil {
		t.Fatal(err)
	}
	if filed.Number < 1001 || len(filed.Token) < 22 || filed.Status != "new" || !strings.HasPrefix(filed.URL, "/tickets/") {
		t.Fatalf("filed = %+v", filed)
	}

	res, body = p.get(t, "/api/tickets/"+itoa(filed.Number), "Authorization", "Bearer "+filed.Token)
	wantStatus(t, res, 200)
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"number", "status", "plan", "severity", "subject", "lang", "created_at", "sla_due", "call_required", "messages", "history"} {
		if _, ok := got[k]; !ok {
			t.Errorf("ticket lacks %q: %s", k, body)
		}
	}
	if got["plan"] != "basic" || got["call_required"] != true || got["lang"] != "en" {
		t.Errorf("plan/call_required/lang = %v %v %v", got["plan"], got["call_required"], got["lang"])
	}
	if _, err := time.Parse(time.RFC3339, got["sla_due"].(string)); err != nil {
		t.Errorf("sla_due not RFC 3339: %v", got["sla_due"])
	}

	for _, auth := range []string{"", "Bearer wrong", "Bearer " + filed.Token + "x"} {
		res, body := p.get(t, "/api/tickets/"+itoa(filed.Number), "Authorization", auth)
		wantStatus(t, res, 404)
		wantLacks(t, body, "Jana")
	}
	res, _ = p.get(t, "/api/tickets/99999", "Authorization", "Bearer "+filed.Token)
	wantStatus(t, res, 404)

	// Invalid: 422 naming every field, nothing stored.
	before := countTickets(t, p)
	res, body = p.postJSON(t, "/api/tickets", `{"name":"","email":"not-an-address","severity":7,"subject":"x","description":"y"}`)
	wantStatus(t, res, 422)
	var bad struct {
		Error  string            `json:"error"`
		Fields map[string]string `json:"fields"`
	}
	json.Unmarshal([]byte(body), &bad)
	for _, f := range []string{"name", "email", "severity", "phone", "company"} {
		if bad.Fields[f] == "" {
			t.Errorf("no message for %s: %s", f, body)
		}
	}
	if countTickets(t, p) != before {
		t.Error("an invalid ticket was stored")
	}

	// A customer reply.
	res, body = p.postJSON(t, "/api/tickets/"+itoa(filed.Number)+"/replies", `{"body":"Here is the log."}`, "Authorization", "Bearer "+filed.Token)
	wantStatus(t, res, 201)
	wantContains(t, body, `"kind":"reply"`)
}

func TestTicketFormAndPage(t *testing.T) {
	p := newPortal(t, Config{})
	form := url.Values{"name": {"Jana"}, "company": {"Acme"}, "phone": {"+420 601 555 010"}, "email": {"jana@acme.example"},
		"subject": {"<script>alert(1)</script> export fails"}, "description": {"The CSV export stops at 50%."}, "severity": {"3"}}
	req := httptest.NewRequest(http.MethodPost, "/tickets", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, _ := p.do(t, req)
	wantStatus(t, res, 303)
	loc := res.Header.Get("Location")
	if !strings.Contains(loc, "token=") || !strings.Contains(loc, "new=1") {
		t.Fatalf("Location = %q", loc)
	}
	res, body := p.get(t, loc)
	wantStatus(t, res, 200)
	wantContains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt; export fails", "The CSV export stops at 50%.")
	wantLacks(t, body, "<script>alert(1)")
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Error("the private ticket page may be cached")
	}
	wrong := strings.Replace(loc, "token=", "token=x", 1)
	res, _ = p.get(t, wrong)
	wantStatus(t, res, 404)

	// Invalid form: 422, the form again with the message, nothing stored.
	form.Set("email", "nope")
	req = httptest.NewRequest(http.MethodPost, "/tickets", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, body = p.do(t, req)
	wantStatus(t, res, 422)
	wantContains(t, body, "e-mail")
}

func TestDeflectAPI(t *testing.T) {
	p := newPortal(t, Config{})
	res, body := p.postJSON(t, "/api/deflect", `{"subject":"Forgot my password","body":"I cannot reset my password, please help","lang":"en"}`)
	wantStatus(t, res, 200)
	var out draftOut
	json.Unmarshal([]byte(body), &out)
	if out.Session == "" || len(out.Suggestions) == 0 || out.Suggestions[0].ID != "en/account/reset-password" {
		t.Fatalf("deflect = %s", body)
	}
	res, _ = p.postJSON(t, "/api/deflect/"+out.Session+"/opened", `{"article":"en/account/reset-password"}`)
	wantStatus(t, res, 200)
	res, _ = p.postJSON(t, "/api/deflect/"+out.Session+"/solved", `{"article":"en/account/reset-password"}`)
	wantStatus(t, res, 200)
	res, _ = p.postJSON(t, "/api/deflect", `{"session":"`+out.Session+`","subject":"again"}`)
	wantStatus(t, res, 409)
	res, _ = p.postJSON(t, "/api/deflect/nosuchsession/continued", `{}`)
	wantStatus(t, res, 404)
	res, _ = p.postJSON(t, "/api/deflect/"+out.Session+"/solved", `{"article":"en/nope"}`)
	wantStatus(t, res, 400)
	res, _ = p.postJSON(t, "/api/deflect", `not json`)
	wantStatus(t, res, 400)
	// A draft far larger than a ticket can be is refused before any work.
	res, _ = p.postJSON(t, "/api/deflect", `{"subject":"x","body":"`+strings.Repeat("a", maxDraftBody)+`"}`)
	wantStatus(t, res, 413)
}

// serve runs the app on a real port, for WebSocket clients.
func (p *portal) serve(t *testing.T) string {
	t.Helper()
	return testportal.Serve(t, p.app)
}

var dialWS = testportal.DialWS

func TestWebSocketUpgradeAndDeflection(t *testing.T) {
	p := newPortal(t, Config{})
	host := p.serve(t)
	conn, _, err := dialWS(t, host, "/api/deflect/ws", "http://"+host)
	if err != nil {
		t.Fatalf("upgrade through Fiber failed: %v", err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if err := conn.WriteJSON(draftIn{Type: "draft", Subject: "backup", Body: "how do I restore a backup", Lang: "en", QueryID: 1}); err != nil {
		t.Fatal(err)
	}
	var out draftOut
	if err := conn.ReadJSON(&out); err != nil {
		t.Fatal(err)
	}
	if out.Session == "" || out.QueryID != 1 || len(out.Suggestions) == 0 || out.Suggestions[0].ID != "en/backup" {
		t.Fatalf("suggestions = %+v", out)
	}
	// Another site's page may not open the socket.
	if _, res, err := dialWS(t, host, "/api/deflect/ws", "http://evil.example"); err == nil || res == nil || res.StatusCode != 403 {
		t.Errorf("foreign origin: err %v, status %v", err, res)
	}
}

func TestLiveTicketFeed(t *testing.T) {
	p := newPortal(t, Config{})
	host := p.serve(t)
	ctx := context.Background()
	tk, token := fileTestTicket(t, p)
	live := "/api/tickets/" + itoa(tk.Number) + "/live?token=" + url.QueryEscape(token)

	if _, res, err := dialWS(t, host, "/api/tickets/"+itoa(tk.Number)+"/live?token=wrong", ""); err == nil || res.StatusCode != 404 {
		t.Fatalf("wrong token: err %v, status %v", err, res)
	}
	conn, _, err := dialWS(t, host, live, "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var snap struct {
		Type   string            `json:"type"`
		Seq    int64             `json:"seq"`
		Ticket httpkit.APITicket `json:"ticket"`
	}
	if err := conn.ReadJSON(&snap); err != nil || snap.Type != "snapshot" || snap.Ticket.Status != "new" || snap.Seq == 0 {
		t.Fatalf("snapshot = %+v, %v", snap, err)
	}
	// A change made elsewhere (as `portal ticket status` does) arrives live.
	ev, err := p.svc.Tickets.SetStatus(ctx, tk.Number, tickets.StatusOpen, tickets.ActorCLI)
	if err != nil {
		t.Fatal(err)
	}
	var msg struct {
		Type  string           `json:"type"`
		Seq   int64            `json:"seq"`
		Event httpkit.APIEvent `json:"event"`
	}
	if err := conn.ReadJSON(&msg); err != nil || msg.Type != "event" || msg.Seq != ev.Seq || msg.Event.Status != "open" {
		t.Fatalf("live event = %+v, %v", msg, err)
	}
	if _, err := p.svc.Tickets.Reply(ctx, tk.Number, tickets.ActorSupport, "Could you send the log?"); err != nil {
		t.Fatal(err)
	}
	if err := conn.ReadJSON(&msg); err != nil || msg.Event.Kind != "reply" || msg.Seq <= ev.Seq || msg.Event.Message.Body != "Could you send the log?" {
		t.Fatalf("reply event = %+v, %v", msg, err)
	}
	conn.Close()

	// Reconnecting with after= gets what it missed with the snapshot.
	conn2, _, err := dialWS(t, host, live+"&after="+itoa64(snap.Seq), "")
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close()
	conn2.SetReadDeadline(time.Now().Add(5 * time.Second))
	var resumed struct {
		Type   string             `json:"type"`
		Seq    int64              `json:"seq"`
		Missed []httpkit.APIEvent `json:"missed"`
	}
	if err := conn2.ReadJSON(&resumed); err != nil || resumed.Type != "snapshot" || len(resumed.Missed) != 2 ||
		resumed.Missed[0].Kind != "status" || resumed.Missed[1].Kind != "reply" {
		t.Fatalf("resumed = %+v, %v", resumed, err)
	}
}

func TestLiveSlowWatcherIsDroppedOthersKeepUp(t *testing.T) {
	p := newPortal(t, Config{})
	host := p.serve(t)
	tk, token := fileTestTicket(t, p)
	path := "/api/tickets/" + itoa(tk.Number) + "/live?token=" + url.QueryEscape(token)
	slow, _, err := dialWS(t, host, path, "") // never reads after connecting
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fast, _, err := dialWS(t, host, path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	topic := ticketfeed.TicketTopic(tk.Number)
	deadline := time.Now().Add(5 * time.Second)
	for p.svc.Hub.Subscribers(topic) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	fast.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, _, err := fast.ReadMessage(); err != nil { // snapshot
		t.Fatal(err)
	}
	// Far more than socket buffers hold: the slow watcher's writes block,
	// its queue fills, and the hub drops it.
	const n = 600
	payload := strings.Repeat("x", 64<<10)
	got := make(chan int)
	var read atomic.Int64
	go func() {
		for read.Load() < n {
			if _, _, err := fast.ReadMessage(); err != nil {
				break
			}
			read.Add(1)
		}
		got <- int(read.Load())
	}()
	for i := 1; i <= n; i++ {
		// Keep within the fast watcher's reach (the hub drops anyone 64
		// behind, by design); the slow one falls behind regardless.
		for int64(i)-read.Load() > 32 && time.Now().Before(deadline.Add(20*time.Second)) {
			time.Sleep(time.Millisecond)
		}
		data, _ := json.Marshal(map[string]any{"type": "event", "seq": 1000 + i, "pad": payload})
		p.svc.Hub.Publish(topic, liveMessage(int64(1000+i), data))
	}
	if count := <-got; count != n {
		t.Fatalf("the fast watcher got %d of %d events", count, n)
	}
	for p.svc.Hub.Subscribers(topic) != 1 && time.Now().Before(deadline.Add(10*time.Second)) {
		time.Sleep(20 * time.Millisecond)
	}
	if s := p.svc.Hub.Subscribers(topic); s != 1 {
		t.Fatalf("subscribers = %d, want only the fast watcher left", s)
	}
}

func TestTicketMultipartWithAttachment(t *testing.T) {
	p := newPortal(t, Config{})
	var buf bytes.Buffer
	w := ticketForm(&buf)
	fw, _ := w.CreateFormFile("attachments", "production.log")
	fw.Write([]byte("2026-11-25 10:00:01 ERROR job 42 failed: timeout\n"))
	fw, _ = w.CreateFormFile("attachments", "../../etc/evil.exe")
	fw.Write([]byte("MZ\x90\x00 not a log"))
	w.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/tickets", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, body := p.do(t, req)
	wantStatus(t, res, 422) // the executable is refused, and with it the filing
	wantContains(t, body, `"attachments"`)

	buf.Reset()
	w = ticketForm(&buf)
	fw, _ = w.CreateFormFile("attachments", "production.log")
	fw.Write([]byte("2026-11-25 10:00:01 ERROR job 42 failed: timeout\n"))
	w.Close()
	req = httptest.NewRequest(http.MethodPost, "/api/tickets", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, body = p.do(t, req)
	wantStatus(t, res, 201)
	var filed struct {
		Number int    `json:"number"`
		Token  string `json:"token"`
	}
	json.Unmarshal([]byte(body), &filed)
	res, body = p.get(t, "/api/tickets/"+itoa(filed.Number), "Authorization", "Bearer "+filed.Token)
	wantStatus(t, res, 200)
	wantContains(t, body, `"attachments":[{"name":"production.log","size":49}]`)
}

func TestLargeAttachmentWithinTheAnnouncedLimit(t *testing.T) {
	p := newPortal(t, Config{})
	var buf bytes.Buffer
	w := ticketForm(&buf)
	fw, _ := w.CreateFormFile("attachments", "production.log")
	line := "2026-11-25 10:00:01 INFO job 42 still queued behind the import\n"
	fw.Write(bytes.Repeat([]byte(line), 8<<20/len(line))) // 8 MB: more than Fiber's default limit
	w.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/tickets", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, body := p.do(t, req)
	wantStatus(t, res, 201)
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Error("the answer carrying the token may be cached")
	}
	_ = body
}

func TestBlankReplyFromThePageNamesTheField(t *testing.T) {
	p := newPortal(t, Config{})
	tk, token := fileTestTicket(t, p)
	form := url.Values{"token": {token}, "body": {"   "}}
	req := httptest.NewRequest(http.MethodPost, "/tickets/"+itoa(tk.Number)+"/replies", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, body := p.do(t, req)
	wantStatus(t, res, 422)
	wantContains(t, body, `id="reply-error"`, "Your reply was not sent", `id="reply-form"`)
}

// fileTestTicket files a valid ticket directly in the store.
func fileTestTicket(t *testing.T, p *portal) (tickets.Ticket, string) {
	t.Helper()
	tk, token, err := p.svc.Tickets.File(context.Background(), tickets.NewTicket{Name: "Jana", Company: "Acme",
		Phone: "+420 601 555 010", Email: "jana@acme.example", Subject: "Export fails", Description: "The export stops.", Severity: 3})
	if err != nil {
		t.Fatal(err)
	}
	return tk, token
}

// ticketForm starts a multipart filing with every required field; the
// caller adds attachments and closes it.
func ticketForm(buf *bytes.Buffer) *multipart.Writer {
	w := multipart.NewWriter(buf)
	for k, v := range map[string]string{"name": "Jana", "company": "Acme", "phone": "+420 601 555 010", "email": "jana@acme.example",
		"subject": "Jobs stuck", "description": "Background jobs have been queued for an hour.", "severity": "3"} {
		w.WriteField(k, v)
	}
	return w
}

// TestAPIValidationCodes: a 422 keeps "fields" in English, as it always
// was, and adds "codes", one object per field with the code and its
// parameters; attachments list their files.
func TestAPIValidationCodes(t *testing.T) {
	p := newPortal(t, Config{})
	type answer struct {
		Error  string                    `json:"error"`
		Fields map[string]string         `json:"fields"`
		Codes  map[string]map[string]any `json:"codes"`
	}
	check := func(res *http.Response, body string, fields map[string]string, codes map[string]map[string]any) {
		t.Helper()
		wantStatus(t, res, 422)
		var got answer
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if got.Error != "some fields need attention" || !reflect.DeepEqual(got.Fields, fields) || !reflect.DeepEqual(got.Codes, codes) {
			t.Errorf("422 answer:\n%s\nwant fields %v\nand codes %v", body, fields, codes)
		}
	}

	var in map[string]any
	json.Unmarshal([]byte(validTicketJSON), &in)
	in["subject"], in["severity"] = strings.Repeat("x", 201), 7
	data, _ := json.Marshal(in)
	res, body := p.postJSON(t, "/api/tickets", string(data))
	check(res, body, map[string]string{"subject": "at most 200 characters", "severity": "must be 1, 2, 3 or 4"},
		map[string]map[string]any{"subject": {"code": "too_long", "max": 200.0}, "severity": {"code": "severity"}})

	// Hostile text: a right-to-left override in the subject, mailto
	// parameters in the e-mail (a Cc in the console's mailto: link).
	json.Unmarshal([]byte(validTicketJSON), &in)
	in["subject"], in["email"] = "invoice \u202egpj.exe", "a?cc=x%40evil.example&b=@example.com"
	data, _ = json.Marshal(in)
	res, body = p.postJSON(t, "/api/tickets", string(data))
	check(res, body, map[string]string{"subject": "contains invisible or direction-changing characters", "email": "not an e-mail address"},
		map[string]map[string]any{"subject": {"code": "format_characters"}, "email": {"code": "email"}})

	// Files the tickets package refuses: each with its name and code.
	var buf bytes.Buffer
	w := ticketForm(&buf)
	w.CreateFormFile("attachments", "empty.txt")
	fw, _ := w.CreateFormFile("attachments", "evil.exe")
	fw.Write([]byte("MZ\x90\x00 not a log"))
	w.Close()
	req := httptest.NewRequest(http.MethodPost, "/api/tickets", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, body = p.do(t, req)
	check(res, body,
		map[string]string{"attachments": "empty.txt: the file is empty; evil.exe: not an allowed type (text, log, JSON, ZIP, gzip, PNG, JPEG, GIF or PDF)"},
		map[string]map[string]any{"attachments": {"code": "files", "files": []any{
			map[string]any{"name": "empty.txt", "code": "file_empty"},
			map[string]any{"name": "evil.exe", "code": "file_type"},
		}}})

	// A file over the limit, refused by the web layer before it is read:
	// the same problem as the tickets package's.
	buf.Reset()
	w = ticketForm(&buf)
	fw, _ = w.CreateFormFile("attachments", "big.log")
	fw.Write(bytes.Repeat([]byte("0123456789abcdef"), tickets.MaxAttachmentSize/16+1))
	w.Close()
	req = httptest.NewRequest(http.MethodPost, "/api/tickets", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, body = p.do(t, req)
	check(res, body, map[string]string{"attachments": "big.log: larger than 10 MiB"},
		map[string]map[string]any{"attachments": {"code": "files", "files": []any{
			map[string]any{"name": "big.log", "code": "file_too_large", "max_mb": 10.0},
		}}})
}

// The customer's commitment follows the calendar's targets, in the page's
// language and number format.
func TestCommitmentFollowsTheCalendar(t *testing.T) {
	p := newPortal(t, Config{})
	if err := os.WriteFile(filepath.Join(p.svc.DataDir, "calendar.yaml"), []byte("targets:\n  basic: {working_hours: 7.5}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // calendar.yaml is looked at once a second
	tk, token := fileTestTicket(t, p)
	res, body := p.get(t, "/tickets/"+itoa(tk.Number)+"?lang=fr&token="+url.QueryEscape(token))
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "7,5 heures ouvrées", `data-sla-hours="7,5"`)
	res, body = p.get(t, "/tickets/"+itoa(tk.Number)+"?lang=en&token="+url.QueryEscape(token))
	wantStatus(t, res, http.StatusOK)
	wantContains(t, body, "within 7.5 working hours")
}
