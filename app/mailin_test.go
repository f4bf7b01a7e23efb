package app

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/orbitask/portal/internal/testlog"
	"github.com/orbitask/portal/mailin"
)

// TestRunMailIn: the listener RunMailIn starts accepts the support address
// and its reply tags (as ticket mails carry them) and refuses strangers,
// hands the mail to the Deliver given, says in the log what receives mail,
// and stops with Close.
func TestRunMailIn(t *testing.T) {
	var logs testlog.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	a, err := Open(Config{Data: t.TempDir(), Content: content(t), FeedInterval: time.Hour, HashMemoryKiB: 64, HashTime: 1,
		SupportAddress: "Support <support@help.example>", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var mu sync.Mutex
	var got [][]string
	deliver := func(_ context.Context, from string, rcpts []string, raw []byte) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, append([]string{from}, rcpts...))
		return nil
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0") // a free port
	addr := ln.Addr().String()
	ln.Close()
	if err := a.RunMailIn(mailin.Config{Listen: "lmtp://" + addr, Deliver: deliver, Logger: log}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "receiving mail") || !strings.Contains(logs.String(), "lmtp://"+addr) {
		t.Fatalf("start-up log does not say what receives mail:\n%s", logs.String())
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	tagged := a.ReplyTags.Address(1001)
	if err := c.Mail("jana@acme.example", nil); err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"support@help.example", tagged} {
		if err := c.Rcpt(to, nil); err != nil {
			t.Fatalf("RCPT %s: %v", to, err)
		}
	}
	var se *smtp.SMTPError
	if err := c.Rcpt("postmaster@help.example", nil); !errors.As(err, &se) || se.Code != 550 {
		t.Fatalf("RCPT to another address: %v, want 550", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("From: jana@acme.example\r\nSubject: hi\r\n\r\nhello\r\n"))
	if _, err := w.CloseWithLMTPResponse(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	want := "jana@acme.example support@help.example " + tagged
	if len(got) != 1 || strings.Join(got[0], " ") != want {
		t.Fatalf("delivered %v, want [%s]", got, want)
	}
	mu.Unlock()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("still listening after Close")
	}
}

// Without settings, incoming mail is off and says so; a bad setting is
// refused naming it.
func TestRunMailInOff(t *testing.T) {
	var logs testlog.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	a, err := Open(Config{Data: t.TempDir(), Content: content(t), FeedInterval: time.Hour, HashMemoryKiB: 64, HashTime: 1, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.RunMailIn(mailin.Config{Logger: log}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "incoming mail is off") {
		t.Fatalf("log:\n%s", logs.String())
	}
	if err := a.RunMailIn(mailin.Config{Listen: "lmtp://127.0.0.1", Deliver: func(context.Context, string, []string, []byte) error { return nil }}); err == nil || !strings.Contains(err.Error(), "--mail-listen") {
		t.Fatalf("a bad --mail-listen: %v", err)
	}
}

// TestMailInReachesTheRouter: without a Deliver of its own, the listener
// hands mail to the portal's router: a question sent over LMTP is answered
// into the outbox.
func TestMailInReachesTheRouter(t *testing.T) {
	a, err := Open(Config{Data: t.TempDir(), Content: content(t), FeedInterval: time.Hour, HashMemoryKiB: 64, HashTime: 1,
		SupportAddress: "support@help.example", PublicURL: "https://help.example/"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0") // a free port
	addr := ln.Addr().String()
	ln.Close()
	if err := a.RunMailIn(mailin.Config{Listen: "lmtp://" + addr}); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Mail("jana@acme.example", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("support@help.example", nil); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("From: Jana <jana@acme.example>\r\nTo: support@help.example\r\nMessage-ID: <q1@acme.example>\r\n" +
		"Subject: Reset password\r\n\r\nHow do I reset my password? I forgot it.\r\n"))
	if _, err := w.CloseWithLMTPResponse(); err != nil {
		t.Fatalf("the router refused a question: %v", err)
	}
	var n int
	if err := a.DB.QueryRow(`SELECT count(*) FROM mail_outbox WHERE kind = 'question' AND to_addr LIKE '%jana@acme.example%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d answers in the outbox, want 1", n)
	}
}
