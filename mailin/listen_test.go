package mailin

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	netsmtp "net/smtp"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/orbitask/portal/inbound"
	"github.com/orbitask/portal/internal/testlog"
	"github.com/orbitask/portal/ratelimit"
)

// inbox is a Deliver that keeps what it gets; answer, if set, decides
// each delivery's outcome.
type inbox struct {
	mu     sync.Mutex
	got    []delivery
	answer func(n int) error // n counts calls from 1
	calls  int
}

type delivery struct {
	from  string
	rcpts []string
	raw   string
}

func (b *inbox) deliver(_ context.Context, from string, rcpts []string, raw []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.answer != nil {
		if err := b.answer(b.calls); err != nil {
			return err
		}
	}
	b.got = append(b.got, delivery{from, append([]string(nil), rcpts...), string(raw)})
	return nil
}

func (b *inbox) delivered() []delivery {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]delivery(nil), b.got...)
}

// ours accepts the support address and its tagged forms, as app wires it
// with replytag.
func ours(rcpt string) bool {
	local, domain, _ := strings.Cut(strings.ToLower(rcpt), "@")
	return domain == "help.example" && (local == "support" || strings.HasPrefix(local, "support+"))
}

func startListener(t *testing.T, cfg ListenConfig) *Listener {
	t.Helper()
	if cfg.Accept == nil {
		cfg.Accept = ours
	}
	l, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

const sample = "From: Ann <ann@acme.example>\r\nTo: support@help.example\r\nSubject: Printer\r\nMessage-ID: <m1@acme.example>\r\n\r\nIt is on fire.\r\n"

func lmtpClient(t *testing.T, l *Listener) *smtp.Client {
	t.Helper()
	e := l.Endpoint()
	conn, err := net.Dial(e.Network, e.Address)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClientLMTP(conn)
	t.Cleanup(func() { c.Close() })
	if err := c.Hello("mx.help.example"); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestParseListen(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Endpoint
	}{
		{"lmtp://127.0.0.1:2424", Endpoint{LMTP: true, Network: "tcp", Address: "127.0.0.1:2424"}},
		{"lmtp:///run/portal/lmtp.sock", Endpoint{LMTP: true, Network: "unix", Address: "/run/portal/lmtp.sock"}},
		{"smtp://[::1]:2525/", Endpoint{Network: "tcp", Address: "[::1]:2525"}},
		{"smtp:///tmp/s.sock", Endpoint{Network: "unix", Address: "/tmp/s.sock"}},
	} {
		got, err := ParseListen(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseListen(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"", "127.0.0.1:2424", "http://127.0.0.1:1", "lmtp://127.0.0.1", "lmtp://127.0.0.1:x",
		"lmtp://host:1/path", "lmtp://u:p@127.0.0.1:1", "smtp://127.0.0.1:25?tls=none", "lmtp://", "lmtp:relative"} {
		_, err := ParseListen(in)
		if err == nil || !strings.HasPrefix(err.Error(), "--mail-listen: ") {
			t.Errorf("ParseListen(%q): error %v, want one naming --mail-listen", in, err)
		}
	}
}

// Over LMTP (a unix socket, as a local Postfix uses it), a mail to two of
// our addresses and one stranger's is refused for the stranger at RCPT
// (no open relay), delivered once with both of ours, and each of ours
// gets its own 250.
func TestLMTPDeliversOnceWithEveryRecipient(t *testing.T) {
	var box inbox
	sock := filepath.Join(t.TempDir(), "lmtp.sock")
	l := startListener(t, ListenConfig{Endpoint: Endpoint{LMTP: true, Network: "unix", Address: sock}, Deliver: box.deliver})
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket: %v, %v; want mode 0660", fi, err)
	}
	c := lmtpClient(t, l)
	if err := c.Mail("Ann@Acme.example", nil); err != nil {
		t.Fatal(err)
	}
	tagged := "support+1001.ABCDEFGHIJKLMNOP@help.example"
	for _, to := range []string{"support@help.example", tagged} {
		if err := c.Rcpt(to, nil); err != nil {
			t.Fatalf("RCPT %s: %v", to, err)
		}
	}
	var se *smtp.SMTPError
	if err := c.Rcpt("someone@elsewhere.example", nil); !errors.As(err, &se) || se.Code != 550 {
		t.Fatalf("RCPT to a stranger: %v, want 550", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(sample))
	resp, err := w.CloseWithLMTPResponse()
	if err != nil {
		t.Fatalf("DATA: %v", err)
	}
	if len(resp) != 2 || resp["support@help.example"] == nil || resp[tagged] == nil {
		t.Fatalf("LMTP replies: %v, want one per accepted recipient", resp)
	}
	got := box.delivered()
	if len(got) != 1 {
		t.Fatalf("%d deliveries, want 1", len(got))
	}
	d := got[0]
	if d.from != "Ann@Acme.example" || strings.Join(d.rcpts, ",") != "support@help.example,"+tagged || d.raw != sample {
		t.Fatalf("delivered %+v", d)
	}
}

// Deliver's errors: a temporary one is 451 for every recipient (the mail
// server keeps the mail and retries); a permanent one (inbound.ErrRefused,
// inbound.ErrMalformed) is 250 and the mail dropped with a log line naming
// the sender, the Message-ID and the reason: a 5xx would make the mail
// server bounce the mail to its (forgeable) envelope sender, backscatter.
func TestLMTPTemporaryAndPermanentFailures(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
	}{
		{errors.New("database is busy"), 451},
		{fmt.Errorf("mailroute: %w: ticket closed", inbound.ErrRefused), 250},
		{fmt.Errorf("inbound: %w: no header", inbound.ErrMalformed), 250},
	} {
		var logs testlog.Buffer
		box := inbox{answer: func(int) error { return c.err }}
		l := startListener(t, ListenConfig{Endpoint: Endpoint{LMTP: true, Network: "tcp", Address: "127.0.0.1:0"}, Deliver: box.deliver,
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		cl := lmtpClient(t, l)
		cl.Mail("victim@third.example", nil)
		cl.Rcpt("support@help.example", nil)
		cl.Rcpt("support+7.X@help.example", nil)
		w, err := cl.Data()
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(sample))
		resp, err := w.CloseWithLMTPResponse()
		if c.code == 250 {
			if err != nil || len(resp) != 2 {
				t.Fatalf("%v: DATA: %v %v, want 250 for both recipients", c.err, resp, err)
			}
			for _, want := range []string{"incoming mail dropped", "from=victim@third.example", "message_id=<m1@acme.example>", c.err.Error()} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("%v: log lacks %q:\n%s", c.err, want, logs.String())
				}
			}
			continue
		}
		var le smtp.LMTPDataError
		if !errors.As(err, &le) || len(le) != 2 {
			t.Fatalf("%v: DATA: %v, want an error per recipient", c.err, err)
		}
		for rcpt, e := range le {
			if e.Code != c.code {
				t.Errorf("%v: %s got %d %q, want %d", c.err, rcpt, e.Code, e.Message, c.code)
			}
		}
	}
}

// Plain SMTP over TCP, as net/smtp sends: delivered; a stranger as
// recipient is refused.
func TestSMTPOverTCP(t *testing.T) {
	var box inbox
	l := startListener(t, ListenConfig{Endpoint: Endpoint{Network: "tcp", Address: "127.0.0.1:0"}, Deliver: box.deliver})
	addr := l.Addr().String()
	if err := netsmtp.SendMail(addr, nil, "ann@acme.example", []string{"support@help.example"}, []byte(sample)); err != nil {
		t.Fatal(err)
	}
	if got := box.delivered(); len(got) != 1 || got[0].raw != sample || got[0].from != "ann@acme.example" {
		t.Fatalf("delivered %+v", got)
	}
	err := netsmtp.SendMail(addr, nil, "ann@acme.example", []string{"root@help.example"}, []byte(sample))
	if err == nil || !strings.HasPrefix(err.Error(), "550") {
		t.Fatalf("relaying to a stranger: %v, want 550", err)
	}
	if n := len(box.delivered()); n != 1 {
		t.Fatalf("%d deliveries after the refused one, want 1", n)
	}
	// An international sender (SMTPUTF8).
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("jiří@acme.example", &smtp.MailOptions{UTF8: true}); err != nil {
		t.Fatalf("MAIL FROM with SMTPUTF8: %v", err)
	}
	c.Rcpt("support@help.example", nil)
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(sample))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := box.delivered(); len(got) != 2 || got[1].from != "jiří@acme.example" {
		t.Fatalf("delivered %+v", got)
	}
}

// A mail larger than inbound.MaxSize is accepted (250) and dropped with a
// log line, whether the client announces its size or not: a 552 would be
// bounced to the envelope sender. The mail server's own size limit
// (Postfix: message_size_limit) refuses it while the sender is connected.
// The listener announces SIZE without a number, so that the mail server
// never bounces a mail for exceeding it.
func TestTooLargeDropped(t *testing.T) {
	var box inbox
	var logs testlog.Buffer
	l := startListener(t, ListenConfig{Endpoint: Endpoint{Network: "tcp", Address: "127.0.0.1:0"}, Deliver: box.deliver,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	c, err := smtp.Dial(l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("mx.help.example"); err != nil {
		t.Fatal(err)
	}
	if ok, v := c.Extension("SIZE"); !ok || v != "" {
		t.Fatalf("SIZE extension %v %q, want announced without a limit", ok, v)
	}
	line := strings.Repeat("x", 998) + "\r\n"
	big := sample + strings.Repeat(line, inbound.MaxSize/len(line)+10)
	for _, size := range []int64{int64(len(big)), 0} {
		if err := c.Mail("ann@acme.example", &smtp.MailOptions{Size: size}); err != nil {
			t.Fatalf("MAIL SIZE=%d: %v, want 250", size, err)
		}
		c.Rcpt("support@help.example", nil)
		w, err := c.Data()
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(big))
		if err := w.Close(); err != nil {
			t.Fatalf("DATA over the limit (SIZE=%d): %v, want 250", size, err)
		}
	}
	if n := len(box.delivered()); n != 0 {
		t.Fatalf("%d deliveries, want 0", n)
	}
	if n := strings.Count(logs.String(), "incoming mail dropped: larger than"); n != 2 {
		t.Fatalf("%d drop lines, want 2:\n%s", n, logs.String())
	}
	// The connection goes on.
	if err := c.Mail("ann@acme.example", nil); err != nil {
		t.Fatal(err)
	}
	c.Rcpt("support@help.example", nil)
	w, _ := c.Data()
	w.Write([]byte(sample))
	if err := w.Close(); err != nil || len(box.delivered()) != 1 {
		t.Fatalf("a mail after the big ones: %v, %d deliveries", err, len(box.delivered()))
	}
}

// A sender past its burst is accepted (250: a 451 would keep the flood in
// the mail server's queue for days, then bounce it to the envelope
// sender) and its mails dropped; case does not make a new sender; another
// sender goes on; the null sender is one bucket; the drops are logged
// once, not per mail.
func TestFloodLimit(t *testing.T) {
	var box inbox
	var logs testlog.Buffer
	l := startListener(t, ListenConfig{Endpoint: Endpoint{LMTP: true, Network: "tcp", Address: "127.0.0.1:0"}, Deliver: box.deliver,
		Flood: ratelimit.Rule{Burst: 2, Every: time.Hour}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	c := lmtpClient(t, l)
	send := func(from string) error {
		if err := c.Mail(from, nil); err != nil {
			c.Reset()
			return err
		}
		if err := c.Rcpt("support@help.example", nil); err != nil {
			return err
		}
		w, err := c.Data()
		if err != nil {
			return err
		}
		w.Write([]byte(sample))
		_, err = w.CloseWithLMTPResponse()
		return err
	}
	for i, from := range []string{"flood@spam.example", "FLOOD@spam.example"} {
		if err := send(from); err != nil {
			t.Fatalf("mail %d within the burst: %v", i+1, err)
		}
	}
	for range 5 {
		if err := send("Flood@Spam.example"); err != nil {
			t.Fatalf("mail past the burst: %v, want 250 (accepted and dropped)", err)
		}
	}
	if n := len(box.delivered()); n != 2 {
		t.Fatalf("%d deliveries after the flood, want 2", n)
	}
	if err := send("ann@acme.example"); err != nil {
		t.Fatalf("another sender: %v", err)
	}
	for range 3 {
		if err := send(""); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(box.delivered()); n != 5 {
		t.Fatalf("%d deliveries, want 5 (2 + 1 + 2): the null sender should be one bucket", n)
	}
	if n := strings.Count(logs.String(), "sender=flood@spam.example"); n != 1 {
		t.Fatalf("flooding sender logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "sender=<>") {
		t.Fatalf("null sender's flood not logged:\n%s", logs.String())
	}
}

// Connections beyond MaxConnections are told 421 at once; once one
// closes, a new one is served.
func TestMaxConnections(t *testing.T) {
	var box inbox
	l := startListener(t, ListenConfig{Endpoint: Endpoint{Network: "tcp", Address: "127.0.0.1:0"}, Deliver: box.deliver, MaxConnections: 2})
	greet := func() (net.Conn, string) {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return c, line
	}
	a, la := greet()
	b, lb := greet()
	_, lc := greet()
	if !strings.HasPrefix(la, "220") || !strings.HasPrefix(lb, "220") || !strings.HasPrefix(lc, "421") {
		t.Fatalf("greetings %q %q %q, want 220 220 421", la, lb, lc)
	}
	a.Close()
	defer b.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, line := greet()
		c.Close()
		if strings.HasPrefix(line, "220") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after a close, still %q", line)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Close waits for a mail being delivered and its reply, refuses new mails
// meanwhile, then stops listening and removes its socket.
func TestCloseWaitsForDelivery(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	deliver := func(ctx context.Context, from string, rcpts []string, raw []byte) error {
		close(entered)
		<-release
		return nil
	}
	sock := filepath.Join(t.TempDir(), "lmtp.sock")
	l, err := Listen(ListenConfig{Endpoint: Endpoint{LMTP: true, Network: "unix", Address: sock}, Accept: ours, Deliver: deliver})
	if err != nil {
		t.Fatal(err)
	}
	c := lmtpClient(t, l)
	idle := lmtpClient(t, l)
	sent := make(chan error, 1)
	go func() {
		c.Mail("ann@acme.example", nil)
		c.Rcpt("support@help.example", nil)
		w, err := c.Data()
		if err != nil {
			sent <- err
			return
		}
		w.Write([]byte(sample))
		_, err = w.CloseWithLMTPResponse()
		sent <- err
	}()
	<-entered
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a mail was being delivered", err)
	default:
	}
	var se *smtp.SMTPError
	if err := idle.Mail("bob@acme.example", nil); !errors.As(err, &se) || se.Code != 421 {
		t.Fatalf("a new mail while closing: %v, want 421", err)
	}
	close(release)
	if err := <-sent; err != nil {
		t.Fatalf("the mail under way: %v, want delivered", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left behind: %v", err)
	}
}

// A socket file left by a portal that died is replaced; one that a live
// process listens on is not.
func TestStaleSocket(t *testing.T) {
	var box inbox
	sock := filepath.Join(t.TempDir(), "lmtp.sock")
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	e := Endpoint{LMTP: true, Network: "unix", Address: sock}
	if _, err := Listen(ListenConfig{Endpoint: e, Accept: ours, Deliver: box.deliver}); err == nil || !strings.Contains(err.Error(), "another process") {
		t.Fatalf("Listen on a live socket: %v", err)
	}
	old.SetUnlinkOnClose(false)
	old.Close()
	l := startListener(t, ListenConfig{Endpoint: e, Deliver: box.deliver})
	c := lmtpClient(t, l)
	if err := c.Noop(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkLMTP: mails through the LMTP listener (TCP loopback, one
// connection, one recipient, a 2 KB mail) to a Deliver that keeps nothing.
func BenchmarkLMTP(b *testing.B) {
	l, err := Listen(ListenConfig{Endpoint: Endpoint{LMTP: true, Network: "tcp", Address: "127.0.0.1:0"}, Accept: ours,
		Deliver: func(context.Context, string, []string, []byte) error { return nil }, Flood: ratelimit.Rule{Burst: 1 << 30, Every: time.Nanosecond}})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("mx.help.example"); err != nil {
		b.Fatal(err)
	}
	msg := []byte(sample + strings.Repeat("Some more text of the mail, line after line.\r\n", 40))
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for b.Loop() {
		if err := c.Mail("ann@acme.example", nil); err != nil {
			b.Fatal(err)
		}
		if err := c.Rcpt("support@help.example", nil); err != nil {
			b.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			b.Fatal(err)
		}
		w.Write(msg)
		if _, err := w.CloseWithLMTPResponse(); err != nil {
			b.Fatal(err)
		}
	}
}

// Past MaxRecipients a recipient gets 452 (the client sends it in another
// transaction); a client idle past ReadTimeout is told 421 and cut off.
func TestRecipientAndTimeLimits(t *testing.T) {
	var box inbox
	l := startListener(t, ListenConfig{Endpoint: Endpoint{LMTP: true, Network: "tcp", Address: "127.0.0.1:0"}, Deliver: box.deliver,
		MaxRecipients: 2, ReadTimeout: 200 * time.Millisecond})
	c := lmtpClient(t, l)
	c.Mail("ann@acme.example", nil)
	c.Rcpt("support+1.A@help.example", nil)
	c.Rcpt("support+2.B@help.example", nil)
	var se *smtp.SMTPError
	if err := c.Rcpt("support+3.C@help.example", nil); !errors.As(err, &se) || se.Code != 452 {
		t.Fatalf("third recipient: %v, want 452", err)
	}
	conn, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(conn)
	r.ReadString('\n') // the greeting
	start := time.Now()
	line, _ := r.ReadString('\n')
	if !strings.HasPrefix(line, "421") || time.Since(start) > 2*time.Second {
		t.Fatalf("idle client: %q after %v, want 421 after about 200 ms", line, time.Since(start))
	}
}

// With MaxDeliveries 1, two mails sent at once on two connections are
// read and delivered one after the other (Deliver never runs twice at
// once), and both are delivered.
func TestMaxDeliveriesOneAtATime(t *testing.T) {
	var running, most, done atomic.Int32
	deliver := func(context.Context, string, []string, []byte) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(200 * time.Millisecond)
		done.Add(1)
		return nil
	}
	l := startListener(t, ListenConfig{Endpoint: Endpoint{LMTP: true, Network: "tcp", Address: "127.0.0.1:0"}, Deliver: deliver, MaxDeliveries: 1})
	errs := make(chan error, 2)
	for i := range 2 {
		c := lmtpClient(t, l)
		go func() {
			errs <- c.SendMail(fmt.Sprintf("ann%d@acme.example", i), []string{"support@help.example"}, strings.NewReader(sample))
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("a mail: %v, want delivered", err)
		}
	}
	if done.Load() != 2 || most.Load() != 1 {
		t.Fatalf("%d delivered, at most %d at once; want 2, 1", done.Load(), most.Load())
	}
}

// A mail that waits longer than QueueWait for its turn is told 451 (the
// mail server tries again later) and is not delivered.
func TestMaxDeliveriesWaitTooLong(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var box inbox
	first := true
	var mu sync.Mutex
	deliver := func(ctx context.Context, from string, rcpts []string, raw []byte) error {
		mu.Lock()
		f := first
		first = false
		mu.Unlock()
		if f {
			close(entered)
			<-release
		}
		return box.deliver(ctx, from, rcpts, raw)
	}
	l := startListener(t, ListenConfig{Endpoint: Endpoint{LMTP: true, Network: "tcp", Address: "127.0.0.1:0"}, Deliver: deliver,
		MaxDeliveries: 1, QueueWait: 100 * time.Millisecond})
	a, b := lmtpClient(t, l), lmtpClient(t, l)
	sent := make(chan error, 1)
	go func() {
		sent <- a.SendMail("ann@acme.example", []string{"support@help.example"}, strings.NewReader(sample))
	}()
	<-entered
	var se *smtp.SMTPError
	if err := b.SendMail("bob@acme.example", []string{"support@help.example"}, strings.NewReader(sample)); !errors.As(err, &se) || se.Code != 451 {
		t.Fatalf("a mail waiting too long: %v, want 451", err)
	}
	close(release)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	if got := box.delivered(); len(got) != 1 || got[0].from != "ann@acme.example" {
		t.Fatalf("delivered %+v, want ann's only", got)
	}
}

// readMail reads a mail whole, into one buffer when the size is declared
// (the mail server's SIZE counts LF line ends; CRLF arrives), and stops
// past inbound.MaxSize.
func TestReadMail(t *testing.T) {
	data := []byte(strings.Repeat(strings.Repeat("x", 76)+"\r\n", 10<<20/78))
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	got, err := readMail(bytes.NewReader(data), int64(len(data))*77/78)
	runtime.ReadMemStats(&b)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("readMail: %d bytes, %v; want the %d bytes", len(got), err, len(data))
	}
	if alloc := b.TotalAlloc - a.TotalAlloc; alloc > uint64(len(data))*11/10 {
		t.Errorf("allocated %d bytes for a %d-byte mail with its SIZE declared, want one buffer", alloc, len(data))
	}
	for _, declared := range []int64{0, 1000, inbound.MaxSize + 5} {
		big := io.MultiReader(bytes.NewReader(data), bytes.NewReader(data), bytes.NewReader(data))
		if _, err := readMail(big, declared); !errors.Is(err, errTooLarge) {
			t.Errorf("a 30 MB mail, SIZE %d: %v, want errTooLarge", declared, err)
		}
	}
	if got, err := readMail(strings.NewReader(sample), 0); err != nil || string(got) != sample {
		t.Errorf("no SIZE: %q, %v", got, err)
	}
}
