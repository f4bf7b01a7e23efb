package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/tickets"
)

// relayLog is a real SMTP server (go-smtp) that logs every mail it
// accepts, with its envelope recipient, in order.
type relayLog struct {
	mu      sync.Mutex
	entries []relayEntry
}

type relayEntry struct {
	rcpt string
	msg  *netmail.Message
	raw  []byte
}

func (l *relayLog) NewSession(*smtp.Conn) (smtp.Session, error) { return &relayLogSession{l: l}, nil }

func (l *relayLog) all() []relayEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]relayEntry(nil), l.entries...)
}

type relayLogSession struct {
	l    *relayLog
	rcpt string
}

func (*relayLogSession) Reset()                               {}
func (*relayLogSession) Logout() error                        { return nil }
func (*relayLogSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *relayLogSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpt = to
	return nil
}
func (s *relayLogSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	s.l.mu.Lock()
	s.l.entries = append(s.l.entries, relayEntry{rcpt: s.rcpt, msg: m, raw: raw})
	s.l.mu.Unlock()
	return nil
}

// startRelayLogAt starts a relayLog on addr (a port reserved earlier).
func startRelayLogAt(t *testing.T, addr string) *relayLog {
	t.Helper()
	l := &relayLog{}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(l)
	srv.Domain = "relay.test"
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return l
}

// mailText is a received mail's text: its text/plain part (or whole body),
// transfer encoding undone.
func mailText(t *testing.T, m *netmail.Message) string {
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

// TestRelayDownDuring1000Filings: 1,000 tickets are filed at once while
// nothing listens at the relay's address; the mails wait in the outbox,
// none fails. Then the relay comes up: every "filed" mail arrives within
// seconds, exactly once, to its ticket's address, with its ticket's number
// and a working private link; the outbox is left with nothing pending and
// no ticket's link.
func TestRelayDownDuring1000Filings(t *testing.T) {
	const n, clients = 1000, 16
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // down: connections are refused
	a, err := Open(Config{Data: t.TempDir(), Content: content(t), FeedInterval: time.Hour, HashMemoryKiB: 64, HashTime: 1,
		Mail: mail.SenderConfig{SMTPURL: "smtp://" + addr + "?tls=none", From: "Orbitask Support <support@help.example>",
			// The defaults' schedule scaled down (30 s → 20 ms); attempts
			// raised so that a slow machine's outage fails nothing (the
			// defaults' hour is TestOneHourOutageLosesNothing in mail).
			Backoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, MaxAttempts: 1000, Timeout: 2 * time.Second},
		PublicURL: "https://help.example/"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.RunMail()
	ctx := context.Background()

	type filed struct {
		email, token string
	}
	var mu sync.Mutex
	byNumber := map[int]filed{}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < n; i += clients {
				email := fmt.Sprintf("customer%04d@acme%d.example", i, i%7)
				tk, token, err := a.Tickets.File(ctx, tickets.NewTicket{Name: "Customer " + strconv.Itoa(i), Company: "Acme",
					Phone: "+420 601 555 010", Email: email, Subject: fmt.Sprintf("Export stops, case %d", i),
					Description: "The export stops at 10,000 rows.", Severity: 1 + i%4, Lang: "en"})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				byNumber[tk.Number] = filed{email, token}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("filed %d tickets in %v with the relay down", len(byNumber), time.Since(start))
	if len(byNumber) != n {
		t.Fatalf("%d tickets filed, want %d", len(byNumber), n)
	}
	// Let the sender try and fail for a while.
	time.Sleep(500 * time.Millisecond)
	var queued, tried, notQueued int
	if err := a.DB.QueryRow(`SELECT count(*) FILTER (WHERE state = 'queued'), count(*) FILTER (WHERE attempts > 0),
		count(*) FILTER (WHERE state != 'queued') FROM mail_outbox`).Scan(&queued, &tried, &notQueued); err != nil {
		t.Fatal(err)
	}
	t.Logf("relay down: %d mails queued, %d of them tried already", queued, tried)
	if queued != n || notQueued != 0 || tried == 0 {
		t.Fatalf("relay down: %d queued, %d tried, %d sent or failed; want %d queued, some tried, none other", queued, tried, notQueued, n)
	}

	up := time.Now()
	relay := startRelayLogAt(t, addr)
	var got []relayEntry
	for deadline := up.Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got = relay.all()
		if len(got) >= n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d mails arrived within 30 s of the relay's return", len(got), n)
		}
	}
	t.Logf("all %d mails arrived %v after the relay came up", n, time.Since(up))
	// Nothing more comes (no mail twice), and the outbox is done.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		pending, err := a.Mail.Pending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d mails still pending", pending)
		}
	}
	time.Sleep(300 * time.Millisecond)
	got = relay.all()
	if len(got) != n {
		t.Errorf("the relay's log has %d mails, want %d (none twice)", len(got), n)
	}

	linkRE := regexp.MustCompile(`https://help\.example/tickets/(\d+)\?token=([A-Za-z0-9_-]+)`)
	seenID := map[string]int{}
	seenTicket := map[int]int{}
	for _, e := range got {
		id := e.msg.Header.Get("Message-ID")
		seenID[id]++
		text := mailText(t, e.msg)
		m := linkRE.FindStringSubmatch(text)
		if m == nil {
			t.Errorf("%s: no private link in:\n%s", id, text)
			continue
		}
		number, _ := strconv.Atoi(m[1])
		seenTicket[number]++
		want, ok := byNumber[number]
		if !ok {
			t.Errorf("%s: a link to ticket %d, which was not filed here", id, number)
			continue
		}
		if !strings.HasPrefix(id, "<ticket-"+m[1]+".filed.") {
			t.Errorf("Message-ID %s for ticket %d", id, number)
		}
		if e.rcpt != want.email || !strings.Contains(e.msg.Header.Get("To"), want.email) {
			t.Errorf("ticket %d's mail went to %q (To %q), want %s", number, e.rcpt, e.msg.Header.Get("To"), want.email)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(e.msg.Header.Get("Subject"))
		if !strings.Contains(subject, m[1]) {
			t.Errorf("ticket %d's mail has the subject %q", number, subject)
		}
		if m[2] != want.token {
			t.Errorf("ticket %d's mail links with another token than the filing's", number)
		}
		if _, err := a.Tickets.Get(ctx, number, m[2]); err != nil {
			t.Errorf("ticket %d: the mailed link does not open it: %v", number, err)
		}
	}
	if len(seenID) != n {
		t.Errorf("%d distinct Message-IDs, want %d", len(seenID), n)
	}
	for id, c := range seenID {
		if c != 1 {
			t.Errorf("%s is %d times in the relay's log", id, c)
		}
	}
	if len(seenTicket) != n {
		t.Errorf("mails for %d distinct tickets, want %d", len(seenTicket), n)
	}
	var sent, secrets int
	if err := a.DB.QueryRow(`SELECT count(*) FILTER (WHERE state = 'sent'), count(secret) FROM mail_outbox`).Scan(&sent, &secrets); err != nil {
		t.Fatal(err)
	}
	if sent != n || secrets != 0 {
		t.Errorf("outbox: %d sent (want %d), %d still holding a ticket's link (want 0)", sent, n, secrets)
	}
	if f, err := a.Mail.Failed(ctx); err != nil || len(f) != 0 {
		t.Errorf("failed for good: %d %v", len(f), err)
	}
}
