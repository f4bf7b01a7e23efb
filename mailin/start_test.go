package mailin

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/orbitask/portal/internal/testlog"
	"github.com/orbitask/portal/ratelimit"
)

// Start runs both ways in at once, and a sender's flood bucket is the same
// on both: a mail over LMTP and one polled from IMAP count together.
func TestStartBothShareFloodLimit(t *testing.T) {
	s := startIMAP(t, "127.0.0.1:0", false, polledMail("polled@acme.example", "<ann@acme.example>"))
	var box inbox
	var logs testlog.Buffer
	r, err := Start(Config{Listen: "lmtp://127.0.0.1:0", IMAPURL: "imap://username:password@" + s.addr + "/INBOX?tls=none&poll=1s",
		Accept: ours, Deliver: box.deliver, Flood: ratelimit.Rule{Burst: 1, Every: time.Hour}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	log := logs.String()
	if !strings.Contains(log, "listen=lmtp://127.0.0.1:") || !strings.Contains(log, "mailbox=imap://username@"+s.addr+"/INBOX") ||
		strings.Contains(log, "password@") {
		t.Fatalf("start-up log:\n%s", log)
	}
	// The first poll delivers the polled mail, taking ann's one mail…
	waitFor(t, func() bool { return strings.Contains(logs.String(), "delivered=1") })
	// …so her mail over LMTP is accepted and dropped.
	c := lmtpClient(t, r.Listener)
	if err := c.SendMail("ANN@acme.example", []string{"support@help.example"}, strings.NewReader(sample)); err != nil {
		t.Fatalf("a mail over LMTP after one polled: %v, want 250 (dropped)", err)
	}
	if !strings.Contains(logs.String(), "sender=ann@acme.example via=lmtp://") {
		t.Fatalf("the flood over LMTP is not logged:\n%s", logs.String())
	}
	if err := c.SendMail("bob@acme.example", []string{"support@help.example"}, strings.NewReader(sample)); err != nil {
		t.Fatalf("another sender: %v", err)
	}
	if n := len(box.delivered()); n != 2 {
		t.Fatalf("%d deliveries, want 2", n)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

// Neither setting: nothing runs, and the log says incoming mail is off.
func TestStartOff(t *testing.T) {
	var logs testlog.Buffer
	r, err := Start(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil || r.Listener != nil || r.Poller != nil {
		t.Fatalf("%+v, %v", r, err)
	}
	if !strings.Contains(logs.String(), "incoming mail is off") {
		t.Fatalf("log:\n%s", logs.String())
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(Config{IMAPURL: "imaps://u:p@h", Accept: ours}); err == nil {
		t.Fatal("started without Deliver")
	}
}
