package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	netmail "net/mail"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/orbitask/portal/internal/testlog"
)

// slowRelay is a real SMTP server (go-smtp) that takes its time over each
// mail (as a relay checking its mails does) and logs every mail it
// accepts, in order. onData, if set, runs once a mail is logged and
// before it is acknowledged.
type slowRelay struct {
	delay time.Duration

	mu     sync.Mutex
	log    [][]byte    // raw mails
	onData func(n int) // n: mails logged so far
}

func (r *slowRelay) NewSession(*smtp.Conn) (smtp.Session, error) { return slowSession{r}, nil }

// all reads the mails in the log, each afresh.
func (r *slowRelay) all() []*netmail.Message {
	r.mu.Lock()
	raws := append([][]byte(nil), r.log...)
	r.mu.Unlock()
	msgs := make([]*netmail.Message, len(raws))
	for i, raw := range raws {
		msgs[i], _ = netmail.ReadMessage(bytes.NewReader(raw)) // read once in Data
	}
	return msgs
}

type slowSession struct{ r *slowRelay }

func (slowSession) Reset()                               {}
func (slowSession) Logout() error                        { return nil }
func (slowSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s slowSession) Rcpt(string, *smtp.RcptOptions) error {
	time.Sleep(s.r.delay)
	return nil
}
func (s slowSession) Data(rd io.Reader) error {
	raw, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	if _, err := netmail.ReadMessage(bytes.NewReader(raw)); err != nil {
		return err
	}
	s.r.mu.Lock()
	s.r.log = append(s.r.log, raw)
	n, onData := len(s.r.log), s.r.onData
	s.r.mu.Unlock()
	if onData != nil {
		onData(n)
	}
	return nil
}

// portalProcess is `portal serve` (this test binary through TestMain) on
// a data directory of the test's choosing, so that a second one can take
// over the first's.
type portalProcess struct {
	cmd    *exec.Cmd
	addr   string
	logs   *testlog.Buffer
	exited chan struct{}
}

func startPortalOn(t *testing.T, data, content string, args ...string) *portalProcess {
	t.Helper()
	p := &portalProcess{logs: &testlog.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0", "--content", content, "--data", data}, args...)...)
	p.cmd.Env = append(os.Environ(), "PORTAL_TEST_RUN_MAIN=1")
	p.cmd.Stderr = p.logs
	// The portal's git children may hold its stderr a moment after a kill.
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() { p.cmd.Process.Kill(); <-p.exited })
	serving := regexp.MustCompile(`msg=serving url=http://(\S+)`)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := serving.FindStringSubmatch(p.logs.String()); m != nil {
			p.addr = m[1]
			return p
		}
		select {
		case <-p.exited:
			t.Fatalf("the portal exited before serving:\n%s", p.logs)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the portal is not serving after 30 s:\n%s", p.logs)
		}
	}
}

// killmailText is a received mail's text/plain part, transfer encoding
// undone.
func killmailText(t *testing.T, m *netmail.Message) string {
	t.Helper()
	decode := func(cte string, r io.Reader) string {
		if strings.EqualFold(cte, "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return decode(m.Header.Get("Content-Transfer-Encoding"), m.Body)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct == "text/plain" {
			return decode(p.Header.Get("Content-Transfer-Encoding"), p)
		}
	}
}

// TestKill9MidSendLosesNoMail: 300 tickets are filed over HTTP with a slow
// relay; the portal is killed with SIGKILL while it sends their mails, at
// the worst moment — the relay has taken a mail and not yet said so — and
// started again on the same data directory. Every ticket's mail arrives;
// twice in the relay's log are only the one the crash interrupted and
// those delivered but not yet recorded as sent, each with the same
// Message-ID both times; every mail, before and after the crash, carries
// its ticket's private link (the link waits in the outbox until its mail
// is sent, crash or not).
func TestKill9MidSendLosesNoMail(t *testing.T) {
	const n, clients = 300, 8
	relay := &slowRelay{delay: 20 * time.Millisecond}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(relay)
	srv.Domain = "relay.test"
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	data, content := t.TempDir(), tinyContent(t)
	args := []string{"--rate-limits", "off", "--smtp-url", "smtp://" + ln.Addr().String() + "?tls=none",
		"--mail-from", "Orbitask Support <support@help.test>", "--public-url", "https://help.test"}
	first := startPortalOn(t, data, content, args...)

	// File the tickets, as fast as the portal answers.
	tokens := map[int]string{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < n; i += clients {
				body := fmt.Sprintf(`{"name":"Customer %d","company":"Acme","phone":"+420 601 555 010","email":"c%d@acme.example",
					"subject":"Export stops, case %d","description":"The export stops at 10,000 rows.","severity":3,"lang":"en"}`, i, i, i)
				res, err := http.Post("http://"+first.addr+"/api/tickets", "application/json", strings.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				var filed struct {
					Number int    `json:"number"`
					Token  string `json:"token"`
				}
				err = json.NewDecoder(res.Body).Decode(&filed)
				res.Body.Close()
				if err != nil || res.StatusCode != http.StatusCreated {
					errs <- fmt.Errorf("filing %d: %d %v", i, res.StatusCode, err)
					return
				}
				mu.Lock()
				tokens[filed.Number] = filed.Token
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(tokens) != n {
		t.Fatalf("%d tickets filed, want %d", len(tokens), n)
	}
	// Kill it 20 mails on, once every filing has been answered.
	killed := make(chan time.Time, 1)
	relay.mu.Lock()
	killAt := len(relay.log) + 20
	relay.onData = func(logged int) {
		if logged == killAt {
			// The mail is in the relay's log; its 250 never reaches the
			// portal.
			first.cmd.Process.Kill() // SIGKILL
			<-first.exited
			killed <- time.Now()
		}
	}
	relay.mu.Unlock()
	if killAt > n {
		t.Fatalf("%d of %d mails were sent while filing: nothing left to kill the portal in", killAt-20, n)
	}
	var killedAt time.Time
	select {
	case killedAt = <-killed:
	case <-time.After(30 * time.Second):
		t.Fatalf("%d mails in the relay's log after 30 s; the kill was to come at %d:\n%s", len(relay.all()), killAt, first.logs)
	}
	atKill := len(relay.all())
	t.Logf("killed with %d of %d mails in the relay's log", atKill, n)

	second := startPortalOn(t, data, content, args...)
	t.Logf("restarted %v after the kill", time.Since(killedAt).Round(time.Millisecond))
	linkRE := regexp.MustCompile(`https://help\.test/tickets/(\d+)\?token=([A-Za-z0-9_%.~-]+)`)
	ids := map[int]map[string]int{} // ticket → Message-ID → times in the log
	var got []*netmail.Message
	for deadline := time.Now().Add(30 * time.Second); len(ids) < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("mails of %d of %d tickets arrived within 30 s of the restart:\n%s", len(ids), n, second.logs)
		}
		got = relay.all()
		ids = map[int]map[string]int{}
		for _, m := range got {
			if l := linkRE.FindStringSubmatch(killmailText(t, m)); l != nil {
				number, _ := strconv.Atoi(l[1])
				if ids[number] == nil {
					ids[number] = map[string]int{}
				}
				ids[number][m.Header.Get("Message-ID")]++
			}
		}
	}
	time.Sleep(500 * time.Millisecond) // anything further would be a duplicate
	got = relay.all()
	duplicates := 0
	for _, m := range got {
		id := m.Header.Get("Message-ID")
		text := killmailText(t, m)
		l := linkRE.FindStringSubmatch(text)
		if l == nil {
			t.Errorf("%s: a mail without its private link:\n%s", id, text)
			continue
		}
		number, _ := strconv.Atoi(l[1])
		token, err := url.QueryUnescape(l[2])
		if err != nil || token != tokens[number] {
			t.Errorf("%s: ticket %d's link has another token than the filing's", id, number)
		}
		if !strings.HasPrefix(id, "<ticket-"+l[1]+".filed.") {
			t.Errorf("ticket %d's mail has the Message-ID %s", number, id)
		}
	}
	for number := range tokens {
		switch byID := ids[number]; {
		case len(byID) == 0:
			t.Errorf("ticket %d: no mail", number)
		case len(byID) > 1:
			t.Errorf("ticket %d: mails with %d different Message-IDs: %v", number, len(byID), byID)
		default:
			for id, times := range byID {
				if times > 1 {
					duplicates += times - 1
					t.Logf("sent twice, as the crash allows: %s (%d times)", id, times)
				}
			}
		}
	}
	t.Logf("%d mails in the relay's log for %d tickets: %d duplicates", len(got), n, duplicates)
	// Only the mails delivered and not yet recorded when the portal died
	// may go twice: the sender records deliveries once per batch and at
	// least every 0.2 s (mail's recordEvery), so with this relay at most
	// 0.2 s / delay of them, and the interrupted one.
	if most := int(200*time.Millisecond/relay.delay) + 1; duplicates < 1 || duplicates > most || len(got) != n+duplicates {
		t.Errorf("%d duplicates, %d mails in the log; want 1 to %d (those not yet recorded), and no other", duplicates, len(got), most)
	}
}
