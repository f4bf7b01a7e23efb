package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/orbitask/portal/app"
	"github.com/orbitask/portal/events"
	"github.com/orbitask/portal/httpkit"
	"github.com/orbitask/portal/internal/testclock"
	"github.com/orbitask/portal/internal/testportal"
)

const ticketJSON = `{"name":"Jana Novak","company":"Acme","phone":"+420 601 555 010","email":"jana@acme.example",
	"subject":"Cannot log in after upgrade","description":"Since the upgrade every login fails.","severity":1}`

// limitedPortal serves both sides on a real port behind a "proxy" on
// 127.0.0.1 (a trusted one), so that each test client is the address it
// puts in X-Forwarded-For, as a proxy would append it.
func limitedPortal(t *testing.T, limits httpkit.RateLimits) (base string, a *app.App) {
	t.Helper()
	content := t.TempDir()
	if err := os.MkdirAll(filepath.Join(content, "en"), 0o755); err != nil {
		t.Fatal(err)
	}
	article := "---\ntitle: Reset a forgotten password\n---\nFollow the e-mail to reset your password.\n"
	if err := os.WriteFile(filepath.Join(content, "en", "reset-password.md"), []byte(article), 0o644); err != nil {
		t.Fatal(err)
	}
	a = testportal.Open(t, content, LiveEncoders)
	srv, err := New(Config{TrustedProxies: []string{"127.0.0.1"}, RateLimits: limits}, a)
	if err != nil {
		t.Fatal(err)
	}
	return "http://" + testportal.Serve(t, srv), a
}

type answer struct {
	status     int
	retryAfter string
	body       string
}

// send makes one request as client (its X-Forwarded-For; "" for none),
// with header name/value pairs.
func send(t *testing.T, method, target, body, client string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Close = true // no idle connection to hold up the server's shutdown
	if client != "" {
		req.Header.Set("X-Forwarded-For", client)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return answer{}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header.Get("Retry-After"), string(b)}
}

// burst sends n requests at once and counts the answers by status; every
// 429 must carry Retry-After (whole seconds) and the API's JSON error.
func burst(t *testing.T, n int, req func(i int) answer) map[int]int {
	t.Helper()
	start := time.Now()
	var mu sync.Mutex
	count := map[int]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			a := req(i)
			mu.Lock()
			defer mu.Unlock()
			count[a.status]++
			if a.status == http.StatusTooManyRequests {
				if s, err := strconv.Atoi(a.retryAfter); err != nil || s < 1 {
					t.Errorf("429 with Retry-After %q", a.retryAfter)
				}
			}
		})
	}
	wg.Wait()
	if d := time.Since(start); d > time.Second {
		t.Logf("burst of %d took %s (a slow machine: the limits refill slowly enough not to matter)", n, d)
	}
	return count
}

func storedTickets(t *testing.T, a *app.App) int {
	t.Helper()
	var n int
	if err := a.DB.QueryRow(`SELECT count(*) FROM tickets`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// One client's burst of 60 filings within a second is refused beyond the
// default burst (429 with Retry-After, nothing stored); another address is
// not affected; spoofed left-most X-Forwarded-For entries do not make a
// new client; the form gets the error page.
func TestFilingBurstLimited(t *testing.T) {
	base, a := limitedPortal(t, httpkit.RateLimits{})
	def := httpkit.DefaultRateLimits().Filing.Burst
	got := burst(t, 60, func(int) answer {
		return send(t, "POST", base+"/api/tickets", ticketJSON, "203.0.113.5", "Content-Type", "application/json")
	})
	if got[201] > def || got[429] < 60-def || got[201]+got[429] != 60 {
		t.Fatalf("60 filings: %v, want at most %d filed and the rest 429", got, def)
	}
	if n := storedTickets(t, a); n != got[201] {
		t.Errorf("%d tickets stored, %d acknowledged", n, got[201])
	}
	res := send(t, "POST", base+"/api/tickets", ticketJSON, "203.0.113.5", "Content-Type", "application/json")
	if res.status != 429 || res.body != `{"error":"`+httpkit.MsgRateLimited+`"}` {
		t.Errorf("API answer over the limit: %d %s", res.status, res.body)
	}
	// The proxy appends the real client to whatever the client sent.
	for i := range 20 {
		spoof := "10.9.8." + strconv.Itoa(i) + ", 203.0.113.5"
		if res := send(t, "POST", base+"/api/tickets", ticketJSON, spoof, "Content-Type", "application/json"); res.status != 429 {
			t.Fatalf("spoofed X-Forwarded-For %q: status %d, want 429", spoof, res.status)
		}
	}
	form := url.Values{"name": {"Jana"}, "company": {"Acme"}, "phone": {"+420 601 555 010"}, "email": {"jana@acme.example"},
		"subject": {"Jobs stuck"}, "description": {"Jobs wait."}, "severity": {"3"}}.Encode()
	res = send(t, "POST", base+"/tickets", form, "203.0.113.5", "Content-Type", "application/x-www-form-urlencoded")
	if res.status != 429 || res.retryAfter == "" || !strings.Contains(res.body, "<html") || !strings.Contains(res.body, "Please wait a minute and try again.") {
		t.Errorf("form over the limit: %d, Retry-After %q:\n%.400s", res.status, res.retryAfter, res.body)
	}
	if res := send(t, "POST", base+"/api/tickets", ticketJSON, "203.0.113.6", "Content-Type", "application/json"); res.status != 201 {
		t.Errorf("another address: status %d, want 201", res.status)
	}
}

// A customer's replies are limited too, per address; the ticket page's
// own reading is not.
func TestReplyBurstLimited(t *testing.T) {
	base, _ := limitedPortal(t, httpkit.RateLimits{})
	res := send(t, "POST", base+"/api/tickets", ticketJSON, "203.0.113.5", "Content-Type", "application/json")
	var filed struct {
		Number int
		Token  string
	}
	if err := json.Unmarshal([]byte(res.body), &filed); err != nil || filed.Number == 0 {
		t.Fatalf("filing: %d %s", res.status, res.body)
	}
	target := base + "/api/tickets/" + strconv.Itoa(filed.Number) + "/replies"
	got := burst(t, 60, func(i int) answer {
		return send(t, "POST", target, `{"body":"More details, part `+strconv.Itoa(i)+`"}`, "203.0.113.5",
			"Content-Type", "application/json", "Authorization", "Bearer "+filed.Token)
	})
	def := httpkit.DefaultRateLimits().Reply.Burst
	if got[201] > def || got[429] < 60-def {
		t.Fatalf("60 replies: %v, want at most %d accepted and the rest 429", got, def)
	}
	if res := send(t, "GET", base+"/api/tickets/"+strconv.Itoa(filed.Number), "", "203.0.113.5", "Authorization", "Bearer "+filed.Token); res.status != 200 {
		t.Errorf("reading the ticket: status %d", res.status)
	}
}

// New deflection sessions are limited, over POST and the WebSocket alike;
// drafts within an existing session and searches are not.
func TestNewSessionBurstLimited(t *testing.T) {
	base, _ := limitedPortal(t, httpkit.RateLimits{})
	def := httpkit.DefaultRateLimits().NewSession.Burst
	got := burst(t, 60, func(int) answer {
		return send(t, "POST", base+"/api/deflect", `{"subject":"password reset"}`, "203.0.113.5", "Content-Type", "application/json")
	})
	if got[200] > def || got[429] < 60-def {
		t.Fatalf("60 new sessions: %v, want at most %d and the rest 429", got, def)
	}

	// Another customer drafts: 200 updates of one session in a burst, and
	// 200 searches, all answered.
	res := send(t, "POST", base+"/api/deflect", `{"subject":"pass"}`, "203.0.113.6", "Content-Type", "application/json")
	var out struct{ Session string }
	if err := json.Unmarshal([]byte(res.body), &out); err != nil || out.Session == "" {
		t.Fatalf("new session: %d %s", res.status, res.body)
	}
	got = burst(t, 200, func(i int) answer {
		return send(t, "POST", base+"/api/deflect", `{"session":"`+out.Session+`","subject":"password reset `+strconv.Itoa(i)+`"}`,
			"203.0.113.6", "Content-Type", "application/json")
	})
	if got[200] != 200 {
		t.Errorf("200 drafts in one session: %v, want all 200", got)
	}
	got = burst(t, 200, func(i int) answer {
		return send(t, "GET", base+"/api/search?q=password"+strconv.Itoa(i%7), "", "203.0.113.5")
	})
	if got[200] != 200 {
		t.Errorf("200 searches from the limited address: %v, want all 200", got)
	}

	// The WebSocket: a draft starting a session from the limited address
	// gets a 429 error message with retry_after; a draft in a session
	// gets suggestions.
	host := strings.TrimPrefix(base, "http://")
	h := http.Header{"X-Forwarded-For": {"203.0.113.5"}}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	conn, _, err := d.Dial("ws://"+host+"/api/deflect/ws", h)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var msg map[string]any
	conn.WriteJSON(map[string]any{"type": "draft", "subject": "password", "query_id": 1})
	if err := conn.ReadJSON(&msg); err != nil {
		t.Fatal(err)
	}
	if msg["type"] != "error" || msg["status"] != float64(429) || msg["retry_after"] == nil {
		t.Errorf("new session over the socket, over the limit: %v", msg)
	}
	conn.WriteJSON(map[string]any{"type": "draft", "session": out.Session, "subject": "password", "query_id": 2})
	msg = nil
	if err := conn.ReadJSON(&msg); err != nil {
		t.Fatal(err)
	}
	if msg["type"] != "suggestions" || msg["session"] != out.Session {
		t.Errorf("draft in a session over the socket: %v", msg)
	}
}

// Vote stuffing: 12 cookie-less votes (each would once have been a new
// voter) from one address and browser count once; a vote from someone
// who never opened the article is refused and not counted.
func TestVoteStuffing(t *testing.T) {
	base, a := limitedPortal(t, httpkit.RateLimits{})
	const article = "/kb/en/reset-password"
	const ua = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
	if res := send(t, "GET", base+article, "", "203.0.113.5", "User-Agent", ua); res.status != 200 {
		t.Fatalf("article: %d", res.status)
	}
	var statuses []int
	for i := range 12 {
		cookie := "orbitask_voter=" + strings.Repeat(strconv.Itoa(i%10), 32)
		res := send(t, "POST", base+article+"/vote", "helpful=yes", "203.0.113.5",
			"Content-Type", "application/x-www-form-urlencoded", "Accept", "application/json", "User-Agent", ua, "Cookie", cookie)
		statuses = append(statuses, res.status)
	}
	if statuses[0] != 200 {
		t.Fatalf("first vote: %v", statuses)
	}
	if yes, no, err := a.Events.VoteCounts(t.Context(), "en/reset-password"); err != nil || yes != 1 || no != 0 {
		t.Errorf("12 votes from one visitor (%v): %d yes, %d no, %v; want 1 yes", statuses, yes, no, err)
	}
	res := send(t, "POST", base+article+"/vote", "helpful=yes", "203.0.113.7",
		"Content-Type", "application/x-www-form-urlencoded", "Accept", "application/json", "User-Agent", ua)
	if res.status != 403 || !strings.Contains(res.body, "open the article") {
		t.Errorf("vote without a view: %d %s, want 403", res.status, res.body)
	}
	if yes, _, _ := a.Events.VoteCounts(t.Context(), "en/reset-password"); yes != 1 {
		t.Errorf("after a vote without a view: %d yes, want 1", yes)
	}
}

// viewAndVote opens the article as client with browser ua, then votes as
// the page's script does (JSON).
func viewAndVote(t *testing.T, base, article, client, ua, helpful string) answer {
	t.Helper()
	if res := send(t, "GET", base+article, "", client, "User-Agent", ua); res.status != 200 {
		t.Fatalf("article as %s: %d", client, res.status)
	}
	return send(t, "POST", base+article+"/vote", "helpful="+helpful, client,
		"Content-Type", "application/x-www-form-urlencoded", "Accept", "application/json", "User-Agent", ua)
}

func yesNo(t *testing.T, a *app.App) (yes, no int) {
	t.Helper()
	yes, no, err := a.Events.VoteCounts(t.Context(), "en/reset-password")
	if err != nil {
		t.Fatal(err)
	}
	return yes, no
}

// Vote stuffing with browsers: 12 readings and votes from one address,
// each with another User-Agent (each a visitor of its own), count
// events.VotersPerAddress; the others are answered 409 "not_counted" (or
// 429 by the vote limit), nothing of them stored, and the form thanks the
// reader all the same. IPv6 addresses in one /64 are one address: one
// visitor with one browser, capped alike with several. Another address,
// or another /64, still counts, and "most helpful" counts what is counted.
func TestVoteStuffingWithUserAgents(t *testing.T) {
	base, a := limitedPortal(t, httpkit.RateLimits{})
	const article = "/kb/en/reset-password"
	const capped = events.VotersPerAddress
	statuses := map[int]int{}
	for i := range 12 {
		res := viewAndVote(t, base, article, "203.0.113.5", "Mozilla/5.0 Firefox/"+strconv.Itoa(100+i)+".0", "yes")
		statuses[res.status]++
		if res.status == 409 && !strings.Contains(res.body, `"status":"not_counted"`) {
			t.Errorf("vote not counted: %s", res.body)
		}
	}
	if statuses[200] != capped || statuses[409]+statuses[429] != 12-capped || statuses[409] == 0 {
		t.Errorf("12 browsers at one address: %v, want %d counted (200), the rest 409 or 429", statuses, capped)
	}
	if yes, no := yesNo(t, a); yes != capped || no != 0 {
		t.Errorf("after 12 browsers at one address: %d yes, %d no; want %d yes", yes, no, capped)
	}
	var history int
	if err := a.DB.QueryRow(`SELECT count(*) FROM events WHERE kind = 'vote'`).Scan(&history); err != nil || history != capped {
		t.Errorf("%d vote events (%v), want %d: nothing of a vote not counted is stored", history, err, capped)
	}

	// IPv6: the addresses of one /64 are one address. One browser is one
	// visitor, reading at one address and voting at another.
	const ua = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
	for i := 1; i <= 4; i++ {
		if res := send(t, "GET", base+article, "", "2001:db8:5:6::"+strconv.Itoa(i), "User-Agent", ua); res.status != 200 {
			t.Fatalf("article: %d", res.status)
		}
		res := send(t, "POST", base+article+"/vote", "helpful=yes", "2001:db8:5:6:ffff::"+strconv.Itoa(i),
			"Content-Type", "application/x-www-form-urlencoded", "Accept", "application/json", "User-Agent", ua)
		if res.status != 200 {
			t.Errorf("vote %d from one /64: %d %s, want 200 (replacing the first)", i, res.status, res.body)
		}
	}
	if yes, _ := yesNo(t, a); yes != capped+1 {
		t.Errorf("one browser at 4 addresses of one /64: %d yes in all, want %d", yes, capped+1)
	}
	// Browsers of their own at addresses of their own in the /64: capped.
	statuses = map[int]int{}
	for i := range 5 {
		res := viewAndVote(t, base, article, "2001:db8:5:6:"+strconv.Itoa(i+1)+"::1", "Chrome/"+strconv.Itoa(130+i), "yes")
		statuses[res.status]++
	}
	if statuses[200] != capped-1 || statuses[409] != 5-(capped-1) {
		t.Errorf("5 more browsers in the /64: %v, want %d counted, the rest 409", statuses, capped-1)
	}
	if yes, _ := yesNo(t, a); yes != 2*capped {
		t.Errorf("after the /64: %d yes, want %d", yes, 2*capped)
	}

	// A reader of a capped /64 using the form (no script) is thanked as
	// everyone is; the vote is not counted.
	res := send(t, "GET", base+article, "", "2001:db8:5:6::99", "User-Agent", "Safari/17")
	if res.status != 200 {
		t.Fatalf("article: %d", res.status)
	}
	req, err := http.NewRequest("POST", base+article+"/vote", strings.NewReader("helpful=no"))
	if err != nil {
		t.Fatal(err)
	}
	req.Close = true
	req.Header.Set("X-Forwarded-For", "2001:db8:5:6::99")
	req.Header.Set("User-Agent", "Safari/17")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	form.Body.Close()
	// A "No" leads to the thanks that asks what was missing, as for everyone.
	if loc := form.Header.Get("Location"); form.StatusCode != http.StatusSeeOther || loc != article+"?voted=no#feedback" {
		t.Errorf("form vote not counted: %d to %q, want 303 to the thanks", form.StatusCode, loc)
	}
	if yes, no := yesNo(t, a); yes != 2*capped || no != 0 {
		t.Errorf("after the form: %d yes, %d no; want %d, 0", yes, no, 2*capped)
	}

	// Another address, and another /64, still count.
	for _, client := range []string{"203.0.113.6", "2001:db8:5:7::1"} {
		if res := viewAndVote(t, base, article, client, "Mozilla/5.0 Firefox/100.0", "yes"); res.status != 200 {
			t.Errorf("vote from %s: %d %s, want 200", client, res.status, res.body)
		}
	}
	best, err := a.Events.MostHelpful(t.Context(), []string{"en/reset-password"}, 5)
	if err != nil || len(best) != 1 || best[0].Yes != 2*capped+2 || best[0].No != 0 {
		t.Errorf("most helpful = %+v, %v; want en/reset-password with %d yes", best, err, 2*capped+2)
	}
}

// Crossing midnight: a reader's vote just after it replaces the one made
// just before (under yesterday's visitor id), so it counts once, and
// yesterday's voters from an address still count against its cap; another
// address is not affected.
func TestVoteAcrossMidnight(t *testing.T) {
	base, a := limitedPortal(t, httpkit.RateLimits{})
	const article = "/kb/en/reset-password"
	clock := testclock.New(time.Date(2030, 3, 1, 23, 50, 0, 0, time.UTC))
	a.Events.SetClock(clock.Now)
	ua := func(i int) string { return "Mozilla/5.0 Firefox/" + strconv.Itoa(100+i) + ".0" }
	for i := range events.VotersPerAddress {
		if res := viewAndVote(t, base, article, "203.0.113.20", ua(i), "yes"); res.status != 200 {
			t.Fatalf("vote %d before midnight: %d %s", i, res.status, res.body)
		}
	}

	clock.Set(time.Date(2030, 3, 2, 0, 10, 0, 0, time.UTC))
	// The first reader thinks again, without opening the article again.
	res := send(t, "POST", base+article+"/vote", "helpful=no", "203.0.113.20",
		"Content-Type", "application/x-www-form-urlencoded", "Accept", "application/json", "User-Agent", ua(0))
	if res.status != 200 {
		t.Fatalf("vote after midnight: %d %s", res.status, res.body)
	}
	if yes, no := yesNo(t, a); yes != events.VotersPerAddress-1 || no != 1 {
		t.Errorf("after midnight: %d yes, %d no; want %d yes, 1 no (yesterday's vote replaced)", yes, no, events.VotersPerAddress-1)
	}
	if res := viewAndVote(t, base, article, "203.0.113.20", ua(events.VotersPerAddress), "yes"); res.status != 409 {
		t.Errorf("a new browser after midnight at an address with %d voters yesterday: %d %s, want 409",
			events.VotersPerAddress, res.status, res.body)
	}
	if res := viewAndVote(t, base, article, "203.0.113.21", ua(0), "yes"); res.status != 200 {
		t.Errorf("another address after midnight: %d %s, want 200", res.status, res.body)
	}
	if yes, no := yesNo(t, a); yes != events.VotersPerAddress || no != 1 {
		t.Errorf("in the end: %d yes, %d no; want %d yes, 1 no", yes, no, events.VotersPerAddress)
	}
}

// Sign-in attempts are limited per address before any password is
// checked, and so are agent API calls with a bad token.
func TestSignInBurstLimited(t *testing.T) {
	base, _ := limitedPortal(t, httpkit.RateLimits{})
	def := httpkit.DefaultRateLimits().SignIn.Burst
	form := url.Values{"email": {"agent@orbitask.example"}, "password": {"guess"}, "csrf": {"x"}}.Encode()
	got := burst(t, 60, func(int) answer {
		return send(t, "POST", base+"/agent/login", form, "203.0.113.5",
			"Content-Type", "application/x-www-form-urlencoded", "Cookie", "portal_login=x")
	})
	if got[429] < 60-def || got[429] == 60 {
		t.Fatalf("60 sign-ins: %v, want at most %d answered and the rest 429", got, def)
	}
	res := send(t, "POST", base+"/agent/login", form, "203.0.113.5", "Content-Type", "application/x-www-form-urlencoded")
	if res.status != 429 || !strings.Contains(res.body, "Too many sign-in attempts") {
		t.Errorf("sign-in over the limit: %d:\n%.300s", res.status, res.body)
	}
	got = burst(t, 40, func(int) answer {
		return send(t, "GET", base+"/api/agent/queue", "", "203.0.113.6", "Authorization", "Bearer not-a-token")
	})
	if got[401] > def || got[429] < 40-def {
		t.Errorf("40 bad tokens: %v, want at most %d 401 and the rest 429", got, def)
	}
}

// --rate-limits off lets a load test's burst through.
func TestRateLimitsOff(t *testing.T) {
	base, a := limitedPortal(t, httpkit.RateLimits{Off: true})
	got := burst(t, 60, func(int) answer {
		return send(t, "POST", base+"/api/tickets", ticketJSON, "", "Content-Type", "application/json")
	})
	if got[201] != 60 {
		t.Errorf("60 filings with limits off: %v, want all 201", got)
	}
	if n := storedTickets(t, a); n != 60 {
		t.Errorf("%d tickets stored, want 60", n)
	}
}
