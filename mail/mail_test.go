package mail_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"mime"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/orbitask/portal/mail"
	"github.com/orbitask/portal/sqlitedb"
)

func openDB(t *testing.T) *sqlitedb.DB {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fast is a configuration for tests: quick retries and polling.
func fast(url string) mail.SenderConfig {
	return mail.SenderConfig{
		SMTPURL:    url,
		From:       "Orbitask Support <support@portal.test>",
		Backoff:    20 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond,
		Poll:       time.Minute, // so that a prompt delivery proves the commit woke the sender
		Timeout:    2 * time.Second,
	}
}

func newSender(t *testing.T, db *sqlitedb.DB, cfg mail.SenderConfig) *mail.Sender {
	t.Helper()
	s, err := mail.NewSender(db, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run runs s until the test ends (or stop is called).
func run(t *testing.T, s *mail.Sender) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	}
	t.Cleanup(stop)
	return stop
}

func enqueue(t *testing.T, db *sqlitedb.DB, m mail.Message) int64 {
	t.Helper()
	var id int64
	err := db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
		var err error
		id, err = mail.Enqueue(tx, m)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func simple(n int) mail.Message {
	return mail.Message{
		Ticket:        int64(1000 + n),
		Kind:          "filed",
		Lang:          "en",
		To:            "customer@example.test",
		Subject:       "Ticket " + string(rune('A'+n)),
		Text:          "Hello",
		AutoSubmitted: true,
	}
}

func TestRolledBackEnqueueSendsNothing(t *testing.T) {
	db := openDB(t)
	r := startRelay(t)
	s := newSender(t, db, fast(r.url()))
	run(t, s)
	undo := errors.New("undo")
	err := db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
		if _, err := mail.Enqueue(tx, simple(1)); err != nil {
			return err
		}
		return undo
	})
	if !errors.Is(err, undo) {
		t.Fatalf("Write: %v", err)
	}
	// A committed mail after it proves the sender looked.
	enqueue(t, db, simple(2))
	r.waitFor(1, 2*time.Second)
	time.Sleep(100 * time.Millisecond)
	got := r.mails()
	if len(got) != 1 || got[0].msg.Header.Get("Subject") != "Ticket C" {
		t.Fatalf("relay got %d mails (%v), want only the committed one", len(got), got)
	}
	if n, err := s.Pending(context.Background()); err != nil || n != 0 {
		t.Errorf("Pending = %d, %v; want 0", n, err)
	}
}

func TestCommittedMailArrivesWithHeadersAndParts(t *testing.T) {
	db := openDB(t)
	r := startRelay(t)
	s := newSender(t, db, fast(r.url()))
	run(t, s)
	time.Sleep(50 * time.Millisecond) // Run is waiting
	m := mail.Message{
		MessageID:     "<ticket-1001.reply-7.3f9a@portal.test>",
		Ticket:        1001,
		Kind:          "reply",
		Lang:          "cs",
		To:            "Jana Nováková <jana@example.test>",
		Subject:       "Žádost č. 1001",
		Text:          "Dobrý den,\nodpověď na vaši žádost.",
		HTML:          "<p>Dobrý den,</p><p>odpověď na vaši <b>žádost</b>.</p>",
		InReplyTo:     "<ticket-1001.filed.aa11@portal.test>",
		References:    "<ticket-1001.filed.aa11@portal.test>  <ticket-1001.reply-6.bb22@portal.test>",
		AutoSubmitted: true,
		Headers:       map[string]string{"X-Portal-Ticket": "1001"},
	}
	start := time.Now()
	enqueue(t, db, m)
	got := r.waitFor(1, time.Second)
	t.Logf("delivered %v after the commit", time.Since(start))
	h := got[0].msg.Header
	checks := map[string]string{
		"Message-ID":      "<ticket-1001.reply-7.3f9a@portal.test>",
		"Auto-Submitted":  "auto-generated",
		"In-Reply-To":     "<ticket-1001.filed.aa11@portal.test>",
		"References":      "<ticket-1001.filed.aa11@portal.test> <ticket-1001.reply-6.bb22@portal.test>",
		"X-Portal-Ticket": "1001",
		"Mime-Version":    "1.0",
	}
	for k, want := range checks {
		if v := h.Get(k); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != "Žádost č. 1001" {
		t.Errorf("Subject %q decodes to %q, %v", h.Get("Subject"), subject, err)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "jana@example.test" || to[0].Name != "Jana Nováková" {
		t.Errorf("To = %q (%v, %v)", h.Get("To"), to, err)
	}
	if from, err := h.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "support@portal.test" {
		t.Errorf("From = %q (%v)", h.Get("From"), err)
	}
	if d, err := h.Date(); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date = %q (%v)", h.Get("Date"), err)
	}
	if got[0].to != "jana@example.test" || got[0].from != "support@portal.test" {
		t.Errorf("envelope %s → %s", got[0].from, got[0].to)
	}
	mt, text, html := parts(t, got[0].msg)
	if mt != "multipart/alternative" {
		t.Errorf("Content-Type %s, want multipart/alternative", mt)
	}
	if text != m.Text {
		t.Errorf("text part %q, want %q", text, m.Text)
	}
	if html != m.HTML {
		t.Errorf("html part %q, want %q", html, m.HTML)
	}
	if n, err := s.Pending(context.Background()); err != nil || n != 0 {
		t.Errorf("Pending = %d, %v; want 0", n, err)
	}
}

func TestTextOnlyMailAndGeneratedMessageID(t *testing.T) {
	db := openDB(t)
	r := startRelay(t)
	run(t, newSender(t, db, fast(r.url())))
	m := simple(0)
	m.AutoSubmitted = false
	enqueue(t, db, m)
	got := r.waitFor(1, time.Second)
	h := got[0].msg.Header
	if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.Contains(id, "@") {
		t.Errorf("Message-ID %q", id)
	}
	if v := h.Get("Auto-Submitted"); v != "" {
		t.Errorf("Auto-Submitted %q on a mail that did not ask for it", v)
	}
	mt, text, _ := parts(t, got[0].msg)
	if mt != "text/plain" || text != "Hello" {
		t.Errorf("body %s %q, want text/plain Hello", mt, text)
	}
}

func TestRelayDownThenUp(t *testing.T) {
	db := openDB(t)
	r := newRelayAddr(t)
	s := newSender(t, db, fast(r.url()))
	run(t, s)
	for i := range 3 {
		enqueue(t, db, simple(i))
	}
	time.Sleep(300 * time.Millisecond) // several attempts fail
	if n, err := s.Pending(context.Background()); err != nil || n != 3 {
		t.Fatalf("Pending while the relay is down = %d, %v; want 3", n, err)
	}
	var attempts int
	if err := db.QueryRow(`SELECT min(attempts) FROM mail_outbox`).Scan(&attempts); err != nil || attempts < 2 {
		t.Fatalf("attempts while down = %d, %v; want retries", attempts, err)
	}
	r.start()
	r.waitFor(3, 2*time.Second)
	time.Sleep(300 * time.Millisecond)
	seen := map[string]int{}
	for _, m := range r.mails() {
		seen[m.msg.Header.Get("Message-ID")]++
	}
	if len(seen) != 3 {
		t.Errorf("distinct mails %d, want 3", len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	if n, err := s.Pending(context.Background()); err != nil || n != 0 {
		t.Errorf("Pending = %d, %v; want 0", n, err)
	}
}

func TestPermanentRejectionFailsAtOnceAndRetryDelivers(t *testing.T) {
	db := openDB(t)
	r := startRelay(t)
	r.setReject(func(int) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	})
	s := newSender(t, db, fast(r.url()))
	run(t, s)
	id := enqueue(t, db, simple(1))
	var failed []mail.Failure
	deadline := time.Now().Add(2 * time.Second)
	for len(failed) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		var err error
		if failed, err = s.Failed(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if len(failed) != 1 {
		t.Fatalf("Failed = %v, want the rejected mail", failed)
	}
	f := failed[0]
	if f.ID != id || f.Attempts != 1 || f.To != "customer@example.test" || f.Subject != "Ticket B" || f.Ticket != 1001 ||
		!strings.Contains(f.LastError, "550") || !strings.Contains(f.LastError, "no such mailbox") || time.Since(f.Created) > time.Minute {
		t.Errorf("failure = %+v", f)
	}
	if n, _ := s.Pending(context.Background()); n != 0 {
		t.Errorf("Pending = %d after a permanent failure", n)
	}
	if err := s.Retry(context.Background(), id+100); !errors.Is(err, mail.ErrNotFound) {
		t.Errorf("Retry(unknown) = %v, want ErrNotFound", err)
	}
	r.setReject(nil)
	if err := s.Retry(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	got := r.waitFor(1, time.Second)
	if len(got) != 1 || got[0].msg.Header.Get("Subject") != "Ticket B" {
		t.Errorf("after Retry: %v", got)
	}
	time.Sleep(50 * time.Millisecond)
	if failed, _ := s.Failed(context.Background()); len(failed) != 0 {
		t.Errorf("Failed after delivery = %v", failed)
	}
	if err := s.Retry(context.Background(), id); !errors.Is(err, mail.ErrNotFailed) {
		t.Errorf("Retry(sent) = %v, want ErrNotFailed", err)
	}
}

func TestTemporaryRejectionIsRetried(t *testing.T) {
	db := openDB(t)
	r := startRelay(t)
	r.setReject(func(attempt int) error {
		if attempt <= 2 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	})
	s := newSender(t, db, fast(r.url()))
	run(t, s)
	id := enqueue(t, db, simple(1))
	r.waitFor(1, 2*time.Second)
	time.Sleep(100 * time.Millisecond)
	if n := len(r.mails()); n != 1 {
		t.Errorf("delivered %d times", n)
	}
	var attempts int
	var state string
	if err := db.QueryRow(`SELECT attempts, state FROM mail_outbox WHERE id = ?`, id).Scan(&attempts, &state); err != nil {
		t.Fatal(err)
	}
	if attempts != 3 || state != "sent" {
		t.Errorf("attempts %d, state %s; want 3, sent", attempts, state)
	}
}

func TestMaxAttemptsFails(t *testing.T) {
	db := openDB(t)
	r := startRelay(t)
	r.setReject(func(int) error {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "busy"}
	})
	cfg := fast(r.url())
	cfg.MaxAttempts = 3
	s := newSender(t, db, cfg)
	run(t, s)
	id := enqueue(t, db, simple(1))
	var failed []mail.Failure
	deadline := time.Now().Add(3 * time.Second)
	for len(failed) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		failed, _ = s.Failed(context.Background())
	}
	if len(failed) != 1 || failed[0].ID != id || failed[0].Attempts != 3 || !strings.Contains(failed[0].LastError, "451") {
		t.Fatalf("Failed = %+v, want the mail after 3 attempts", failed)
	}
}

func TestSenderRestartedDeliversWhatWasLeft(t *testing.T) {
	db := openDB(t)
	r := newRelayAddr(t)
	old := newSender(t, db, fast(r.url()))
	stop := run(t, old)
	for i := range 2 {
		enqueue(t, db, simple(i))
	}
	time.Sleep(100 * time.Millisecond)
	stop()
	if n, err := old.Pending(context.Background()); err != nil || n != 2 {
		t.Fatalf("Pending after the old sender stopped = %d, %v; want 2", n, err)
	}
	r.start()
	run(t, newSender(t, db, fast(r.url())))
	r.waitFor(2, 2*time.Second)
	time.Sleep(100 * time.Millisecond)
	if n := len(r.mails()); n != 2 {
		t.Errorf("delivered %d, want 2", n)
	}
}

func TestNoURLQueuesOnly(t *testing.T) {
	db := openDB(t)
	var logs bytes.Buffer
	s, err := mail.NewSender(db, mail.SenderConfig{}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	enqueue(t, db, simple(1))
	done := make(chan error, 1)
	go func() { done <- s.Run(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run without a URL did not return")
	}
	if !strings.Contains(logs.String(), "mail is queued but not sent: no --smtp-url") {
		t.Errorf("log %q", logs.String())
	}
	if n, err := s.Pending(context.Background()); err != nil || n != 1 {
		t.Errorf("Pending = %d, %v; want 1", n, err)
	}
}

func TestBadSettings(t *testing.T) {
	db := openDB(t)
	for _, tc := range []struct {
		url, from, want string
	}{
		{"http://mail.example", "a@b.test", "--smtp-url: the scheme must be smtp"},
		{"smtp://", "a@b.test", "--smtp-url: no host"},
		{"smtp://mail.example:0", "a@b.test", "--smtp-url: port"},
		{"smtp://mail.example:99999", "a@b.test", "--smtp-url: port"},
		{"smtp://mail.example:x", "a@b.test", "--smtp-url:"},
		{"smtp://mail.example?tls=ssl", "a@b.test", "--smtp-url: tls must be starttls, implicit or none"},
		{"smtp://mail.example?tsl=none", "a@b.test", "--smtp-url: unknown parameter"},
		{"smtp://mail.example/path", "a@b.test", "--smtp-url: unexpected path"},
		{"smtp://:secret@mail.example", "a@b.test", "--smtp-url: a password without a user name"},
		{"smtp://mail.example", "", "--mail-from"},
		{"smtp://mail.example", "not an address", "--mail-from"},
	} {
		_, err := mail.NewSender(db, mail.SenderConfig{SMTPURL: tc.url, From: tc.from}, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q, %q: %v; want %q", tc.url, tc.from, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: the error shows the password: %v", tc.url, err)
		}
	}
	_, err := mail.ParseSMTPURL("smtp://user:pa%ss@mail.example")
	if err == nil || strings.Contains(err.Error(), "pa%ss") {
		t.Errorf("bad escape: %v (must fail without the password)", err)
	}
}

func TestParseSMTPURL(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want mail.Relay
	}{
		{"smtp://mail.example", mail.Relay{Host: "mail.example", Port: 587, TLS: "starttls"}},
		{"smtp://mail.example?tls=implicit", mail.Relay{Host: "mail.example", Port: 465, TLS: "implicit"}},
		{"smtp://mail.example?tls=none", mail.Relay{Host: "mail.example", Port: 25, TLS: "none"}},
		{"smtp://u%40x:p%3Ass@mail.example:2525?tls=starttls", mail.Relay{Host: "mail.example", Port: 2525, TLS: "starttls", User: "u@x", Password: "p:ss"}},
		{"smtp://[::1]:25?tls=none", mail.Relay{Host: "::1", Port: 25, TLS: "none"}},
	} {
		got, err := mail.ParseSMTPURL(tc.url)
		if err != nil || got != tc.want {
			t.Errorf("%q = %+v, %v; want %+v", tc.url, got, err, tc.want)
		}
		// String is a URL that reads back the same, without the password.
		again, err := mail.ParseSMTPURL(got.String())
		tc.want.Password = ""
		if err != nil || again != tc.want {
			t.Errorf("%q: String %q reads back as %+v, %v", tc.url, got.String(), again, err)
		}
	}
	r, _ := mail.ParseSMTPURL("smtp://u:secret@mail.example")
	if s := r.String(); strings.Contains(s, "secret") {
		t.Errorf("String shows the password: %s", s)
	}
}

func TestEnqueueRefusesBadMessages(t *testing.T) {
	db := openDB(t)
	newSender(t, db, mail.SenderConfig{}) // the migrations
	for _, tc := range []struct {
		edit  func(*mail.Message)
		field string
	}{
		{func(m *mail.Message) { m.To = "" }, "to:"},
		{func(m *mail.Message) { m.To = "jana at example" }, "to:"},
		{func(m *mail.Message) { m.Subject = "  " }, "subject:"},
		{func(m *mail.Message) { m.Subject = "a\r\nBcc: x@y.test" }, "subject:"},
		{func(m *mail.Message) { m.Text = "" }, "text:"},
		{func(m *mail.Message) { m.MessageID = "no-brackets@x" }, "message_id:"},
		{func(m *mail.Message) { m.InReplyTo = "<a b@c>" }, "in_reply_to:"},
		{func(m *mail.Message) { m.References = "<a@b> c" }, "references:"},
		{func(m *mail.Message) { m.Headers = map[string]string{"Bcc": "x@y.test"} }, "headers:"},
		{func(m *mail.Message) { m.Headers = map[string]string{"X-A": "1\r\nBcc: x@y.test"} }, "headers:"},
	} {
		m := simple(1)
		tc.edit(&m)
		err := db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
			_, err := mail.Enqueue(tx, m)
			return err
		})
		if !errors.Is(err, mail.ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: %v; want ErrInvalid naming %s", m, err, tc.field)
		}
	}
	// The same Message-ID twice is refused by the outbox.
	m := simple(1)
	m.MessageID = "<once@portal.test>"
	enqueue(t, db, m)
	err := db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
		_, err := mail.Enqueue(tx, m)
		return err
	})
	if err == nil {
		t.Error("a duplicate Message-ID was accepted")
	}
}

func TestTLSAndLogin(t *testing.T) {
	for _, implicit := range []bool{false, true} {
		name := map[bool]string{false: "starttls", true: "implicit"}[implicit]
		t.Run(name, func(t *testing.T) {
			db := openDB(t)
			serverTLS, clientTLS := testCert(t)
			r := &relay{t: t, addr: "127.0.0.1:0", tls: serverTLS, implicit: implicit, user: "portal", pass: "s3cret:/@"}
			r.start()
			cfg := fast(r.url())
			cfg.TLSConfig = clientTLS
			run(t, newSender(t, db, cfg))
			enqueue(t, db, simple(1))
			got := r.waitFor(1, 2*time.Second)
			if !got[0].tls || got[0].user != "portal" {
				t.Errorf("delivered with tls %v, user %q; want TLS and the login", got[0].tls, got[0].user)
			}
		})
	}
}

func TestStartTLSIsRequired(t *testing.T) {
	db := openDB(t)
	r := startRelay(t) // offers no STARTTLS
	cfg := fast(strings.Replace(r.url(), "tls=none", "tls=starttls", 1))
	cfg.MaxAttempts = 2
	s := newSender(t, db, cfg)
	run(t, s)
	enqueue(t, db, simple(1))
	var failed []mail.Failure
	deadline := time.Now().Add(3 * time.Second)
	for len(failed) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
		failed, _ = s.Failed(context.Background())
	}
	if len(failed) != 1 || !strings.Contains(strings.ToLower(failed[0].LastError), "starttls") {
		t.Fatalf("Failed = %+v, want a STARTTLS failure", failed)
	}
	if n := len(r.mails()); n != 0 {
		t.Errorf("%d mails went out without TLS", n)
	}
}

func TestBackoffDoublesFrom30sToAnHour(t *testing.T) {
	db := openDB(t)
	r := startRelay(t)
	r.setReject(func(int) error {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "not now"}
	})
	var mu sync.Mutex
	clock := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	s := newSender(t, db, mail.SenderConfig{SMTPURL: r.url(), From: "support@portal.test", MaxAttempts: 11,
		Poll: 10 * time.Millisecond, Now: now})
	run(t, s)
	id := enqueue(t, db, simple(1))
	mu.Lock()
	clock = time.Now().Add(time.Second) // Enqueue stamps mails with the real time
	mu.Unlock()
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour, time.Hour}
	for i, wait := range want {
		var attempts int
		var next string
		deadline := time.Now().Add(3 * time.Second)
		for attempts < i+1 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			if err := db.QueryRow(`SELECT attempts, next_attempt_at FROM mail_outbox WHERE id = ?`, id).Scan(&attempts, &next); err != nil {
				t.Fatal(err)
			}
		}
		if attempts != i+1 {
			t.Fatalf("attempt %d did not happen (attempts %d)", i+1, attempts)
		}
		at, _ := sqlitedb.ParseTime(next)
		if got := at.Sub(now().Truncate(time.Millisecond)); got != wait {
			t.Errorf("after attempt %d: next in %v, want %v", i+1, got, wait)
		}
		mu.Lock()
		clock = at
		mu.Unlock()
	}
	var failed []mail.Failure
	deadline := time.Now().Add(3 * time.Second)
	for len(failed) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
		failed, _ = s.Failed(context.Background())
	}
	if len(failed) != 1 || failed[0].Attempts != 11 {
		t.Fatalf("Failed = %+v, want the mail after 11 attempts", failed)
	}
}

func TestSendingKeepsUp(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 500 mails")
	}
	const n = 500
	db := openDB(t)
	r := startRelay(t)
	cfg := fast(r.url())
	s := newSender(t, db, cfg)
	err := db.Write(context.Background(), func(tx *sqlitedb.Tx) error {
		for i := range n {
			m := simple(0)
			m.Subject = "Mail " + strconv.Itoa(i)
			if _, err := mail.Enqueue(tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	run(t, s)
	got := r.waitFor(n, 30*time.Second)
	took := time.Since(start)
	t.Logf("%d mails in %v: %.0f mails/s", n, took, n/took.Seconds())
	seen := map[string]bool{}
	for i, m := range got {
		if want := "Mail " + strconv.Itoa(i); m.msg.Header.Get("Subject") != want {
			t.Fatalf("mail %d is %q, want %q (oldest first)", i, m.msg.Header.Get("Subject"), want)
		}
		id := m.msg.Header.Get("Message-ID")
		if seen[id] {
			t.Fatalf("%s sent twice", id)
		}
		seen[id] = true
	}
}

func TestMessageIDs(t *testing.T) {
	a, b := mail.TicketMessageID(1001, "reply-7", "portal.example"), mail.TicketMessageID(1001, "reply-7", "portal.example")
	if a == b {
		t.Errorf("two Message-IDs are the same: %s", a)
	}
	if !strings.HasPrefix(a, "<ticket-1001.reply-7.") || !strings.HasSuffix(a, "@portal.example>") {
		t.Errorf("TicketMessageID = %s", a)
	}
	if id := mail.NewMessageID("", ""); !strings.HasPrefix(id, "<") || !strings.Contains(id, "@") || strings.ContainsAny(id, " \r\n") {
		t.Errorf("NewMessageID = %q", id)
	}
}

// TestSecretOnlyWhileQueued: a secret (a ticket's link) goes into the mail
// in place of SecretMark and is forgotten once the mail is sent; a secret
// with no mark for it is refused.
func TestSecretOnlyWhileQueued(t *testing.T) {
	db := openDB(t)
	r := startRelay(t)
	s := newSender(t, db, fast(r.url())) // migrates; runs below
	m := simple(0)
	m.Text = "Your ticket: " + mail.SecretMark
	m.HTML = `<p><a href="` + mail.SecretMark + `">Your ticket</a></p>`
	m.Secret = "https://help.example/tickets/1001?token=a&b"
	id := enqueue(t, db, m)
	var stored string
	if err := db.QueryRow(`SELECT secret FROM mail_outbox WHERE id = ?`, id).Scan(&stored); err != nil || stored != m.Secret {
		t.Fatalf("queued secret = %q, %v", stored, err)
	}
	run(t, s)
	got := r.waitFor(1, 2*time.Second)
	_, text, html := parts(t, got[0].msg)
	if text != "Your ticket: "+m.Secret || !strings.Contains(html, `href="https://help.example/tickets/1001?token=a&amp;b"`) {
		t.Errorf("bodies: %q / %q", text, html)
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		var left sql.NullString
		if err := db.QueryRow(`SELECT secret FROM mail_outbox WHERE id = ?`, id).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if !left.Valid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("secret still stored after sending: %q", left.String)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, bad := range []mail.Message{
		{To: "a@example.com", Subject: "s", Text: "no mark", Secret: "x"},
	} {
		err := db.Write(context.Background(), func(tx *sqlitedb.Tx) error { _, err := mail.Enqueue(tx, bad); return err })
		if !errors.Is(err, mail.ErrInvalid) || !strings.Contains(err.Error(), "secret") {
			t.Errorf("%+v: %v, want an error naming secret", bad, err)
		}
	}
}
