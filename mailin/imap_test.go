package mailin

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/backend/memory"
	"github.com/emersion/go-imap/client"
	"github.com/emersion/go-imap/server"

	"github.com/orbitask/portal/inbound"
	"github.com/orbitask/portal/internal/testlog"
	"github.com/orbitask/portal/ratelimit"
)

// imapServer is go-imap's own server over its memory backend (user
// "username", password "password"; INBOX holds one seen mail) on a
// loopback port.
type imapServer struct {
	t    *testing.T
	addr string
	srv  *server.Server
	tls  *tls.Config // the client's: trusts the server's certificate
}

// startIMAP starts a server, its INBOX holding mails besides; with
// withTLS it offers STARTTLS and refuses to log in without it. The memory
// backend is not safe for concurrent use: a test whose poller runs on its
// own (Run) gives it its mails here, before it serves, not by appendMail.
func startIMAP(t *testing.T, addr string, withTLS bool, mails ...string) *imapServer {
	t.Helper()
	be := memory.New()
	if len(mails) > 0 {
		u, err := be.Login(nil, "username", "password")
		if err != nil {
			t.Fatal(err)
		}
		mb, err := u.GetMailbox("INBOX")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mails {
			if err := mb.CreateMessage(nil, time.Now(), bytes.NewBufferString(m)); err != nil {
				t.Fatal(err)
			}
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &imapServer{t: t, addr: ln.Addr().String(), srv: server.New(be)}
	s.srv.ErrorLog = errorLog{slog.New(slog.DiscardHandler)}
	if withTLS {
		s.srv.TLSConfig, s.tls = selfSigned(t)
	} else {
		s.srv.AllowInsecureAuth = true
	}
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

func selfSigned(t *testing.T) (srv, cli *tls.Config) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// client logs a test's own client in (to append mails and read flags).
func (s *imapServer) client() *client.Client {
	s.t.Helper()
	c, err := client.Dial(s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	if s.tls != nil {
		if err := c.StartTLS(s.tls); err != nil {
			s.t.Fatal(err)
		}
	}
	if err := c.Login("username", "password"); err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *imapServer) appendMail(raw string) {
	s.t.Helper()
	c := s.client()
	defer c.Logout()
	if err := c.Append("INBOX", nil, time.Now(), bytes.NewBufferString(raw)); err != nil {
		s.t.Fatal(err)
	}
}

func (s *imapServer) create(folder string) {
	s.t.Helper()
	c := s.client()
	defer c.Logout()
	if err := c.Create(folder); err != nil {
		s.t.Fatal(err)
	}
}

// flags maps each mail's Message-ID in folder to its flags.
func (s *imapServer) flags(folder string) map[string][]string {
	s.t.Helper()
	c := s.client()
	defer c.Logout()
	mb, err := c.Select(folder, true)
	if err != nil {
		s.t.Fatal(err)
	}
	out := map[string][]string{}
	if mb.Messages == 0 {
		return out
	}
	set := new(imap.SeqSet)
	set.AddRange(1, mb.Messages)
	ch := make(chan *imap.Message, 100)
	if err := c.Fetch(set, []imap.FetchItem{imap.FetchFlags, imap.FetchEnvelope}, ch); err != nil {
		s.t.Fatal(err)
	}
	for m := range ch {
		f := slices.Clone(m.Flags)
		slices.Sort(f)
		out[m.Envelope.MessageId] = f
	}
	return out
}

func (s *imapServer) mailbox() Mailbox {
	m := Mailbox{Address: s.addr, TLS: IMAPNoTLS, User: "username", Password: "password", Folder: "INBOX", Poll: 50 * time.Millisecond}
	if s.tls != nil {
		m.TLS = IMAPStartTLS
	}
	return m
}

func polledMail(id, returnPath string) string {
	rp := ""
	if returnPath != "-" {
		rp = "Return-Path: " + returnPath + "\r\n"
	}
	return rp + "Delivered-To: support@help.example\r\nFrom: Ann <ann@acme.example>\r\n" +
		"To: Support <support+1001.ABCDEFGHIJKLMNOP@help.example>, bob@acme.example\r\nSubject: Printer\r\n" +
		"Message-ID: <" + id + ">\r\n\r\nIt is on fire.\r\n"
}

func newTestPoller(t *testing.T, cfg PollerConfig) *Poller {
	t.Helper()
	if cfg.Accept == nil {
		cfg.Accept = ours
	}
	p, err := NewPoller(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestParseIMAPURL(t *testing.T) {
	m, err := ParseIMAPURL("imaps://support%40help.example:p%40ss:word@imap.example/Support/Inbox?poll=45s")
	want := Mailbox{Address: "imap.example:993", TLS: IMAPImplicitTLS, User: "support@help.example", Password: "p@ss:word",
		Folder: "Support/Inbox", Poll: 45 * time.Second}
	if err != nil || m != want {
		t.Fatalf("got %+v, %v; want %+v", m, err, want)
	}
	if s := m.String(); strings.Contains(s, "word") || !strings.Contains(s, "imap.example:993") {
		t.Errorf("String() = %q: must show the mailbox, never the password", s)
	}
	m, err = ParseIMAPURL("imap://u:p@127.0.0.1:1143?tls=none")
	if err != nil || m.TLS != IMAPNoTLS || m.Address != "127.0.0.1:1143" || m.Folder != "INBOX" || m.Poll != DefaultPoll {
		t.Fatalf("plain: %+v, %v", m, err)
	}
	if m, err := ParseIMAPURL("imap://u:p@mail.example"); err != nil || m.TLS != IMAPStartTLS || m.Address != "mail.example:143" {
		t.Fatalf("STARTTLS default: %+v, %v", m, err)
	}
	for _, in := range []string{"", "pop3://u:p@h", "imaps://h:993", "imaps://u@h", "imaps://u:@h", "imaps://u:p@:993",
		"imaps://u:p@h:99999", "imaps://u:p@h?poll=1ms", "imaps://u:p@h?poll=x", "imaps://u:p@h?tls=none",
		"imap://u:p@h?tls=implicit", "imaps://u:p@h?idle=1", "imaps://u:secret@h?poll=1s&poll=2s", "imaps://u:p@h#f"} {
		_, err := ParseIMAPURL(in)
		if err == nil || !strings.HasPrefix(err.Error(), "--imap-url: ") {
			t.Errorf("ParseIMAPURL(%q): %v, want an error naming --imap-url", in, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseIMAPURL(%q): the error shows the password: %v", in, err)
		}
	}
}

// Unseen mails are delivered once each with the envelope the headers
// record, then \Seen; the next poll delivers nothing; a mail seen before
// the portal came is left alone.
func TestPollDeliversOnceAndMarksSeen(t *testing.T) {
	s := startIMAP(t, "127.0.0.1:0", false)
	s.appendMail(polledMail("a@acme.example", "<Ann@Acme.example>"))
	s.appendMail(polledMail("bounce@acme.example", "<>"))
	s.appendMail(polledMail("norp@acme.example", "-"))
	var box inbox
	p := newTestPoller(t, PollerConfig{Mailbox: s.mailbox(), Deliver: box.deliver})
	res, err := p.Poll(context.Background())
	if err != nil || res != (PollResult{Delivered: 3}) {
		t.Fatalf("first poll: %+v, %v; want 3 delivered", res, err)
	}
	got := box.delivered()
	if len(got) != 3 {
		t.Fatalf("%d deliveries, want 3", len(got))
	}
	wantRcpts := "support@help.example,support+1001.ABCDEFGHIJKLMNOP@help.example"
	for i, from := range []string{"Ann@Acme.example", "", "ann@acme.example"} {
		if got[i].from != from || strings.Join(got[i].rcpts, ",") != wantRcpts || !strings.Contains(got[i].raw, "It is on fire.") {
			t.Errorf("delivery %d: from %q rcpts %v; want from %q rcpts %s", i, got[i].from, got[i].rcpts, from, wantRcpts)
		}
	}
	flags := s.flags("INBOX")
	for _, id := range []string{"<a@acme.example>", "<bounce@acme.example>", "<norp@acme.example>"} {
		if !slices.Equal(flags[id], []string{imap.SeenFlag}) {
			t.Errorf("%s: flags %v, want \\Seen", id, flags[id])
		}
	}
	res, err = p.Poll(context.Background())
	if err != nil || res != (PollResult{}) || len(box.delivered()) != 3 {
		t.Fatalf("second poll: %+v, %v, %d deliveries; want nothing new", res, err, len(box.delivered()))
	}
}

// A temporary failure leaves the mail unseen, and the next poll delivers
// it; a permanent refusal sets it aside: \Seen and \Flagged in place when
// the mailbox has no portal-refused folder.
func TestPollTemporaryThenPermanent(t *testing.T) {
	s := startIMAP(t, "127.0.0.1:0", false)
	s.appendMail(polledMail("temp@acme.example", "<ann@acme.example>"))
	s.appendMail(polledMail("bad@acme.example", "<ann@acme.example>"))
	box := inbox{answer: func(n int) error {
		switch n {
		case 1:
			return errors.New("database is busy")
		case 2, 4:
			return fmt.Errorf("route: %w", inbound.ErrMalformed)
		}
		return nil
	}}
	p := newTestPoller(t, PollerConfig{Mailbox: s.mailbox(), Deliver: box.deliver})
	res, err := p.Poll(context.Background())
	if err != nil || res != (PollResult{Refused: 1, Deferred: 1}) {
		t.Fatalf("first poll: %+v, %v", res, err)
	}
	flags := s.flags("INBOX")
	if len(flags["<temp@acme.example>"]) != 0 {
		t.Errorf("temporary failure: flags %v, want unseen", flags["<temp@acme.example>"])
	}
	if !slices.Equal(flags["<bad@acme.example>"], []string{imap.FlaggedFlag, imap.SeenFlag}) {
		t.Errorf("refused: flags %v, want \\Flagged \\Seen", flags["<bad@acme.example>"])
	}
	res, err = p.Poll(context.Background())
	if err != nil || res != (PollResult{Delivered: 1}) {
		t.Fatalf("second poll: %+v, %v; want the deferred one delivered", res, err)
	}
	if got := box.delivered(); len(got) != 1 || !strings.Contains(got[0].raw, "temp@acme.example") {
		t.Fatalf("delivered %+v", got)
	}
	if f := s.flags("INBOX")["<temp@acme.example>"]; !slices.Equal(f, []string{imap.SeenFlag}) {
		t.Errorf("after delivery: flags %v, want \\Seen", f)
	}
}

// With a portal-refused folder, a refused mail moves there (flagged), and
// so does the surplus of a flooding sender; the log names the flood once.
func TestPollRefusedFolderAndFlood(t *testing.T) {
	s := startIMAP(t, "127.0.0.1:0", false)
	s.create(RefusedFolder)
	s.appendMail(polledMail("bad@acme.example", "<ann@acme.example>"))
	for i := range 3 {
		s.appendMail(polledMail(fmt.Sprintf("flood%d@spam.example", i), "<flood@spam.example>"))
	}
	box := inbox{answer: func(n int) error {
		if n == 1 {
			return fmt.Errorf("route: %w", inbound.ErrRefused)
		}
		return nil
	}}
	var logs testlog.Buffer
	p := newTestPoller(t, PollerConfig{Mailbox: s.mailbox(), Deliver: box.deliver, Flood: ratelimit.Rule{Burst: 1, Every: time.Hour},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	res, err := p.Poll(context.Background())
	if err != nil || res != (PollResult{Delivered: 1, Refused: 3}) {
		t.Fatalf("poll: %+v, %v; want 1 delivered, 3 set aside", res, err)
	}
	inboxFlags, refused := s.flags("INBOX"), s.flags(RefusedFolder)
	if len(inboxFlags) != 2 || !slices.Equal(inboxFlags["<flood0@spam.example>"], []string{imap.SeenFlag}) {
		t.Errorf("INBOX after the poll: %v; want the old mail and the first flood mail, \\Seen", inboxFlags)
	}
	for _, id := range []string{"<bad@acme.example>", "<flood1@spam.example>", "<flood2@spam.example>"} {
		if !slices.Equal(refused[id], []string{imap.FlaggedFlag, imap.SeenFlag}) {
			t.Errorf("%s in %s: flags %v, want \\Flagged \\Seen", id, RefusedFolder, refused[id])
		}
	}
	if n := strings.Count(logs.String(), "sender=flood@spam.example"); n != 1 {
		t.Errorf("flood logged %d times, want once:\n%s", n, logs.String())
	}
}

// imap:// means STARTTLS: the poller upgrades before it logs in (this
// server refuses a login in clear), checking the certificate.
func TestPollOverSTARTTLS(t *testing.T) {
	s := startIMAP(t, "127.0.0.1:0", true)
	s.appendMail(polledMail("tls@acme.example", "<ann@acme.example>"))
	var box inbox
	p := newTestPoller(t, PollerConfig{Mailbox: s.mailbox(), Deliver: box.deliver, TLS: s.tls})
	if res, err := p.Poll(context.Background()); err != nil || res.Delivered != 1 {
		t.Fatalf("poll: %+v, %v", res, err)
	}
	// Without trusting the certificate: no connection, and the error
	// never shows the password.
	m := s.mailbox()
	m.Password = "hunter2-secret"
	p2 := newTestPoller(t, PollerConfig{Mailbox: m, Deliver: box.deliver})
	_, err := p2.Poll(context.Background())
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

// Run polls on its own, and when the server goes away it reconnects (with
// backoff) once the server is back.
func TestRunReconnects(t *testing.T) {
	s := startIMAP(t, "127.0.0.1:0", false, polledMail("one@acme.example", "<ann@acme.example>"))
	var box inbox
	var logs testlog.Buffer
	p := newTestPoller(t, PollerConfig{Mailbox: s.mailbox(), Deliver: box.deliver, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor(t, func() bool { return len(box.delivered()) == 1 })

	s.srv.Close()
	waitFor(t, func() bool { return strings.Contains(logs.String(), "IMAP poll failed") })
	startIMAP(t, s.addr, false, polledMail("two@acme.example", "<ann@acme.example>")) // a new server on the same port
	waitFor(t, func() bool { return len(box.delivered()) == 2 })
	if got := box.delivered(); !strings.Contains(got[1].raw, "two@acme.example") {
		t.Fatalf("after reconnecting: %+v", got[1])
	}
	if strings.Contains(logs.String(), "password=") || strings.Contains(logs.String(), ":password@") {
		t.Fatalf("the log shows the password:\n%s", logs.String())
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stopping Run does not wait for a server that accepted the connection
// and never answers.
func TestRunStopsWithASilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c // held open, silent
		}
	}()
	var box inbox
	p := newTestPoller(t, PollerConfig{Mailbox: Mailbox{Address: ln.Addr().String(), TLS: IMAPNoTLS, User: "u", Password: "p"}, Deliver: box.deliver})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	c := <-accepted
	defer c.Close()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run still waiting on the silent server 2 s after its context ended")
	}
	t.Logf("stopped in %v", time.Since(start))
}
