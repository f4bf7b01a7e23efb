package mailroute_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestForgedFromGetsNoAnswer: the answer to a question goes to its From,
// which anyone can forge. A From whose domain is not the envelope
// sender's (rotating strangers forging victim+N@gmail.example), or that
// the organisation's mail server marks dmarc=fail or spf=fail, gets no
// answer; the mail is recorded as seen all the same (a repeat does
// nothing). A forwarder's envelope with dmarc=pass is answered.
func TestForgedFromGetsNoAnswer(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	for i := range 20 {
		from := fmt.Sprintf("\"WIN 1000 EUR at http://evil.example/claim\" <victim+%d@gmail.example>", i)
		raw := rawMail(from, support, "Your invoice is ready: http://evil.example/pay", fmt.Sprintf("<bs%d@evil.example>", i), "", "How do I reset my password?\n")
		if err := p.Route.Deliver(ctx, fmt.Sprintf("rotating%d@evil.example", i), []string{support}, raw); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range []struct{ envelope, ar string }{
		{"victim@gmail.example", "mx.help.example; spf=pass smtp.mailfrom=gmail.example; dmarc=fail header.from=gmail.example"},
		{"victim@gmail.example", "mx.help.example; spf=fail (not allowed) smtp.mailfrom=gmail.example"},
	} {
		raw := rawMail("victim@gmail.example", support, "Password", fmt.Sprintf("<ar%d@evil.example>", i),
			"Authentication-Results: "+c.ar+"\r\nAuthentication-Results: evil.example; dmarc=pass\r\n", "How do I reset my password?\n")
		for range 2 {
			if err := p.Route.Deliver(ctx, c.envelope, []string{support}, raw); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := p.answers(t); n != 0 {
		t.Errorf("%d answers to forged senders, want none", n)
	}
	if n := p.count(t, `SELECT count(*) FROM mailroute_seen WHERE outcome = 'limited'`); n != 22 {
		t.Errorf("%d mails recorded as seen unanswered, want 22", n)
	}
	// Through a forwarder: another envelope domain, DMARC passed.
	raw := rawMail("Petr <petr@firm.example>", support, "Password", "<fwd@firm.example>",
		"Authentication-Results: mx.help.example; spf=pass smtp.mailfrom=lists.example; dmarc=pass header.from=firm.example\r\n", "How do I reset my password?\n")
	if err := p.Route.Deliver(ctx, "SRS0=ab=cd=firm.example=petr@lists.example", []string{support}, raw); err != nil {
		t.Fatal(err)
	}
	// A bounce address in a subdomain of From's.
	raw = rawMail("Eva <eva@firm.example>", support, "Password", "<sub@firm.example>", "", "How do I reset my password?\n")
	if err := p.Route.Deliver(ctx, "bounces+x@mail.firm.example", []string{support}, raw); err != nil {
		t.Fatal(err)
	}
	if n := p.answers(t); n != 2 {
		t.Errorf("%d answers, want the forwarded mail's and the subdomain's", n)
	}
}

// TestAnswerCaps: answers to questions are capped per mailbox (5 an hour;
// victim+N@ is one mailbox), per domain (20) and in all (200).
func TestAnswerCaps(t *testing.T) {
	p := open(t)
	ctx := context.Background()
	ask := func(from, id string) {
		t.Helper()
		raw := rawMail(from, support, "Password", "<"+id+">", "", "How do I reset my password?\n")
		if err := p.Route.Deliver(ctx, from, []string{support}, raw); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 20 {
		ask(fmt.Sprintf("Victim+%d@gmail.example", i), fmt.Sprintf("v%d@x", i))
	}
	if n := p.count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'question'`); n != 5 {
		t.Errorf("%d answers to one mailbox through +ext variants, want 5", n)
	}
	for i := range 30 {
		ask(fmt.Sprintf("user%d@corp.example", i), fmt.Sprintf("c%d@x", i))
	}
	if n := p.count(t, `SELECT count(*) FROM mail_outbox WHERE kind = 'question' AND to_addr LIKE '%@corp.example'`); n != 20 {
		t.Errorf("%d answers to one domain, want 20", n)
	}
	for d := range 10 {
		for i := range 20 {
			ask(fmt.Sprintf("user%d@d%d.example", i, d), fmt.Sprintf("d%d-%d@x", d, i))
		}
	}
	if n := p.answers(t); n != 200 {
		t.Errorf("%d answers in the hour, want 200 (the cap in all)", n)
	}
}

// TestAnswerEchoesNoSendersWords: the answer greets without the display
// name, is addressed without it, and quotes the subject cut to 80
// characters after "Re: ".
func TestAnswerEchoesNoSendersWords(t *testing.T) {
	p := open(t)
	subject := "Password " + strings.Repeat("reset please ", 20)
	raw := rawMail("\"WIN 1000 EUR at http://evil.example/claim\" <petr@firm.example>", support, subject, "<name@firm.example>", "", "How do I reset my password?\n")
	if err := p.Route.Deliver(context.Background(), "petr@firm.example", []string{support}, raw); err != nil {
		t.Fatal(err)
	}
	m := p.relay.wait(t, 1)[0]
	text := body(t, m)
	if strings.Contains(text, "evil.example") || strings.Contains(m.Header.Get("To"), "WIN") || !strings.HasPrefix(text, "Hello,\n") {
		t.Errorf("the answer echoes the display name: To %q\n%s", m.Header.Get("To"), text)
	}
	if got, want := decode(m.Header.Get("Subject")), "Re: "+strings.TrimSpace(subject[:80]); got != want {
		t.Errorf("Subject %q, want %q", got, want)
	}
}
