package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/orbitask/portal/sqlitedb"
)

// These tests drive sendDue by hand on a fake clock, so that hours of
// outage pass in a second with the default backoff and MaxAttempts. They
// are the worst case for a mail's attempts: Run never tries more often
// than here (it also pauses while the relay is unreachable).

// fakeClock is SenderConfig.Now, moved by the test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// deadAddr is a loopback address where nothing listens (yet).
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// outageSender is a Sender with the default backoff and MaxAttempts, on a
// fresh database, with n mails queued, and the relay at addr down.
func outageSender(t *testing.T, addr string, n int) (*Sender, *sqlitedb.DB, *fakeClock) {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := &fakeClock{t: time.Now().Add(time.Second)} // Enqueue stamps mails with the real time
	s, err := NewSender(db, SenderConfig{SMTPURL: "smtp://" + addr + "?tls=none", From: "support@portal.test",
		Timeout: 2 * time.Second, Now: clock.now}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if s.cfg.Backoff != DefaultBackoff || s.cfg.MaxBackoff != DefaultMaxBackoff || s.cfg.MaxAttempts != DefaultMaxAttempts {
		t.Fatalf("not the defaults: %+v", s.cfg)
	}
	err = db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
		for i := range n {
			if _, err := Enqueue(tx, Message{Ticket: int64(1001 + i), Kind: "filed", Lang: "en", To: "customer@example.test",
				Subject: "Ticket", Text: "Your ticket: " + SecretMark, Secret: "https://help.example/tickets/1001?token=t"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, db, clock
}

// tryAllDue attempts every due mail once, batch after batch, as a sender
// that never pauses would.
func tryAllDue(t *testing.T, s *Sender, n int) {
	t.Helper()
	for range n/s.cfg.Batch + 1 {
		full, err := s.sendDue(context.Background())
		if err != nil && !errors.Is(err, errRelayDown) {
			t.Fatal(err)
		}
		if !full && err == nil {
			return
		}
	}
}

// TestOneHourOutageLosesNothing: with the defaults (30 s doubling to an
// hour, 10 attempts), a relay refusing connections for an hour costs each
// mail 7 attempts at most, none fails for good, and when the relay is back
// every mail is delivered once, with its secret, and the secret is then
// forgotten.
func TestOneHourOutageLosesNothing(t *testing.T) {
	const n = 2*DefaultBatch + 5 // more than two batches
	addr := deadAddr(t)
	s, db, clock := outageSender(t, addr, n)
	start := clock.now()
	// A second is finer than the sender ever looks (Poll, and the pauses
	// while the relay is down).
	for clock.now().Sub(start) < time.Hour {
		tryAllDue(t, s, n)
		clock.add(time.Second)
	}
	var queued, maxAttempts, minAttempts int
	if err := db.QueryRow(`SELECT count(*), max(attempts), min(attempts) FROM mail_outbox WHERE state = 'queued'`).
		Scan(&queued, &maxAttempts, &minAttempts); err != nil {
		t.Fatal(err)
	}
	t.Logf("after an hour of outage: %d mails queued, %d–%d attempts each (fail for good at %d)", queued, minAttempts, maxAttempts, DefaultMaxAttempts)
	if queued != n {
		t.Fatalf("%d of %d mails still queued after an hour of outage", queued, n)
	}
	// 0, 30 s, 1.5, 3.5, 7.5, 15.5 and 31.5 min; the next at 63.5 min.
	if maxAttempts != 7 || minAttempts != 7 {
		t.Errorf("attempts in an hour %d–%d, want 7 for every mail", minAttempts, maxAttempts)
	}
	if f, err := s.Failed(context.Background()); err != nil || len(f) != 0 {
		t.Fatalf("failed for good during the outage: %v %v", f, err)
	}

	// The relay comes back on the same address; mails are due again by
	// 63.5 min at the latest.
	got := startCaptureAt(t, addr)
	for range 300 { // 5 min
		tryAllDue(t, s, n)
		clock.add(time.Second)
	}
	msgs := got.all()
	ids := map[string]int{}
	for _, m := range msgs {
		ids[m.Header.Get("Message-ID")]++
		var body []byte
		if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body, _ = io.ReadAll(quotedprintable.NewReader(m.Body))
		} else {
			body, _ = io.ReadAll(m.Body)
		}
		if !bytes.Contains(body, []byte("tickets/1001?token=t")) {
			t.Errorf("a mail without its link: %s", body)
		}
	}
	if len(msgs) != n || len(ids) != n {
		t.Errorf("delivered %d mails, %d distinct; want %d", len(msgs), len(ids), n)
	}
	var left int
	if err := db.QueryRow(`SELECT count(*) FROM mail_outbox WHERE state != 'sent' OR secret IS NOT NULL`).Scan(&left); err != nil || left != 0 {
		t.Errorf("%d mails not sent or still holding their secret (%v)", left, err)
	}
}

// TestOutageSurvivedForThreeHours: how long a continuous outage a mail
// survives with the defaults before it fails for good (the tenth attempt,
// at 3 h 3 min 30 s), and that it then shows for operators with the reason.
func TestOutageSurvivedForThreeHours(t *testing.T) {
	s, _, clock := outageSender(t, deadAddr(t), 1)
	start := clock.now()
	var failedAt time.Duration
	for clock.now().Sub(start) < 5*time.Hour {
		tryAllDue(t, s, 1)
		f, err := s.Failed(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(f) > 0 {
			failedAt = clock.now().Sub(start)
			if f[0].Attempts != DefaultMaxAttempts || f[0].LastError == "" {
				t.Errorf("failure %+v", f[0])
			}
			break
		}
		clock.add(time.Second)
	}
	t.Logf("a mail fails for good after %v of continuous outage", failedAt)
	// 30 s + 1 + 2 + 4 + 8 + 16 + 32 min + 1 h + 1 h = 3 h 3 min 30 s.
	if want := 3*time.Hour + 3*time.Minute + 30*time.Second; failedAt < want || failedAt > want+2*time.Second {
		t.Errorf("failed for good after %v of outage, want %v", failedAt, want)
	}
}

// capture is a go-smtp server keeping what it accepts.
type capture struct {
	mu   sync.Mutex
	msgs []*netmail.Message
}

func startCaptureAt(t *testing.T, addr string) *capture {
	t.Helper()
	c := &capture{}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return captureSession{c}, nil }))
	srv.Domain = "relay.test"
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return c
}

func (c *capture) all() []*netmail.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*netmail.Message(nil), c.msgs...)
}

type captureSession struct{ c *capture }

func (captureSession) Reset()                               {}
func (captureSession) Logout() error                        { return nil }
func (captureSession) Mail(string, *smtp.MailOptions) error { return nil }
func (captureSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s captureSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	s.c.mu.Lock()
	s.c.msgs = append(s.c.msgs, m)
	s.c.mu.Unlock()
	return nil
}
