package inbound

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// crlf turns a readable message written with "\n" into the wire form.
func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimLeft(s, "\n"), "\n", "\r\n"))
}

func TestParseHeaders(t *testing.T) {
	raw := crlf(`
From: =?UTF-8?Q?Jan_Nov=C3=A1k?= <Jan.Novak@Example.CZ>
To: "Support" <support+1001.abc@portal.example>, other@example.com
Cc: Eva <eva@example.cz>
Reply-To: jan.private@example.cz
Subject: =?ISO-8859-2?Q?P=F8=EDli=B9_=BEluou=E8k=FD_k=F9=F2?= =?UTF-8?B?IMO6cMSbbA==?=
Message-ID: <CAF+abc123@mail.gmail.com>
In-Reply-To: <ticket-1001.filed.x1@portal.example>
References: <ticket-1001.filed.x1@portal.example> (comment)
 <ticket-1001.reply.x2@portal.example>
Date: Mon, 1 Dec 2026 10:00:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

Hello
`)
	m, err := Parse(raw, "jan.novak@example.cz")
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"From", m.From, "Jan.Novak@example.cz"},
		{"FromName", m.FromName, "Jan Novák"},
		{"ReplyTo", m.ReplyTo, "jan.private@example.cz"},
		{"To", strings.Join(m.To, ","), "support+1001.abc@portal.example,other@example.com,eva@example.cz"},
		{"Subject", m.Subject, "Příliš žluoučký kůň úpěl"},
		{"MessageID", m.MessageID, "<CAF+abc123@mail.gmail.com>"},
		{"InReplyTo", m.InReplyTo, "<ticket-1001.filed.x1@portal.example>"},
		{"References", strings.Join(m.References, " "), "<ticket-1001.filed.x1@portal.example> <ticket-1001.reply.x2@portal.example>"},
		{"Text", m.Text, "Hello"},
		{"Auto", m.Auto, ""},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if want := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC); !m.Date.Equal(want) {
		t.Errorf("Date = %v, want %v", m.Date, want)
	}
}

// The charsets Czech, German and French mail comes in, each with the
// transfer encodings clients use.
func TestParseCharsets(t *testing.T) {
	cases := []struct {
		name, ct, cte, body, want string
	}{
		{"iso-8859-2 qp", "text/plain; charset=iso-8859-2", "quoted-printable",
			"Dobr=FD den, pros=EDm o pomoc s =FA=E8tem.", "Dobrý den, prosím o pomoc s účtem."},
		{"windows-1250 8bit", "text/plain; charset=windows-1250", "8bit",
			"\x8eluou\xe8k\xfd k\xf9\xf2, \x9aest \x9d", "Žluoučký kůň, šest ť"},
		{"iso-8859-1 qp", "text/plain; charset=ISO-8859-1", "quoted-printable",
			"Gr=FC=DFe, =E0 bient=F4t", "Grüße, à bientôt"},
		{"windows-1252 8bit", "text/plain; charset=windows-1252", "8bit",
			"\x93quoted\x94 \x80 caf\xe9", "“quoted” € café"},
		{"utf-8 base64", "text/plain; charset=utf-8", "base64",
			"UMWZw61sacWhIMW+bHXFpW91xI1rw70ga8WvxYg=", "Příliš žluťoučký kůň"},
		{"cp1250 label", "text/plain; charset=cp1250", "8bit", "P\xf8\xedli\x9a", "Příliš"},
		{"latin2 label", "text/plain; charset=\"latin2\"", "8bit", "P\xf8\xedli\xb9", "Příliš"},
		{"no charset, latin-1 bytes", "text/plain", "8bit",
			"caf\xe9", "café"},
		{"unknown charset", "text/plain; charset=x-nonsense", "7bit",
			"plain ascii", "plain ascii"},
		{"html in iso-8859-2", "text/html; charset=iso-8859-2", "quoted-printable",
			"<p>D=ECkuji <b>moc</b></p>", "Děkuji moc"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			raw := []byte("From: a@example.com\r\nContent-Type: " + c.ct + "\r\nContent-Transfer-Encoding: " + c.cte + "\r\n\r\n" + c.body + "\r\n")
			m, err := Parse(raw, "a@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if m.Text != c.want || m.FullText != c.want {
				t.Errorf("Text = %q, FullText = %q, want %q", m.Text, m.FullText, c.want)
			}
		})
	}
}

func TestParseAttachments(t *testing.T) {
	raw := crlf(`
From: a@example.com
Subject: screenshot
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

See the picture.
--alt
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: text/html; charset=utf-8

<div>See the <b>picture</b>.<img src="cid:img1"></div>
--rel
Content-Type: image/png
Content-Transfer-Encoding: base64
Content-ID: <img1>
Content-Disposition: inline

iVBORw0KGgo=
--rel--
--alt--
--outer
Content-Type: text/plain; charset=iso-8859-2; name*=iso-8859-2''%FA%E8et.txt
Content-Disposition: attachment; filename*=iso-8859-2''%FA%E8et.txt
Content-Transfer-Encoding: quoted-printable

=FA=E8et
--outer
Content-Type: application/pdf; name="=?UTF-8?Q?faktura_=C4=8D._1.pdf?="
Content-Disposition: attachment; filename="=?UTF-8?Q?faktura_=C4=8D._1.pdf?="
Content-Transfer-Encoding: base64

JVBERi0xLjQK
--outer
Content-Type: application/octet-stream; name="../../etc/passwd"
Content-Disposition: attachment; filename="../../etc/passwd"

root
--outer--
`)
	m, err := Parse(raw, "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if m.Text != "See the picture." {
		t.Errorf("Text = %q", m.Text)
	}
	want := []Attachment{
		{Name: "attachment.png", ContentType: "image/png", Data: []byte("\x89PNG\r\n\x1a\n")},
		{Name: "účet.txt", ContentType: "text/plain", Data: []byte("\xfa\xe8et")}, // bytes as sent
		{Name: "faktura č. 1.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4\n")},
		{Name: "passwd", ContentType: "application/octet-stream", Data: []byte("root")},
	}
	if len(m.Attachments) != len(want) {
		t.Fatalf("%d attachments, want %d: %+v", len(m.Attachments), len(want), m.Attachments)
	}
	for i, w := range want {
		g := m.Attachments[i]
		if g.Name != w.Name || g.ContentType != w.ContentType || !bytes.Equal(g.Data, w.Data) {
			t.Errorf("attachment %d = %q %q %q, want %q %q %q", i, g.Name, g.ContentType, g.Data, w.Name, w.ContentType, w.Data)
		}
	}
}

func TestParseHTMLOnly(t *testing.T) {
	raw := crlf(`
From: a@example.com
Content-Type: text/html; charset=utf-8

<html><head><style>p{color:red}</style><title>x</title></head><body>
<p>First   paragraph
continues.</p><p>Second<br>line two</p>
<ul><li>one</li><li>two</li></ul><ol><li>first</li><li>second</li></ol>
<p>See <a href="https://example.com/kb/1">the article</a> and <a href="https://example.com/">https://example.com/</a>.</p>
<p>&lt;script&gt;alert(1)&lt;/script&gt;<script>alert(2)</script></p>
<blockquote>Quoted<br><a href="https://example.com/t/1">https://example.com/t/1</a></blockquote>
</body></html>
`)
	m, err := Parse(raw, "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := "First paragraph continues.\n\nSecond\nline two\n\n- one\n- two\n1. first\n2. second\n\nSee the article <https://example.com/kb/1> and https://example.com/.\n\n<script>alert(1)</script>\n\n> Quoted\n> https://example.com/t/1"
	if m.FullText != want {
		t.Errorf("FullText =\n%s\nwant\n%s", m.FullText, want)
	}
}

func TestParseRefused(t *testing.T) {
	big := append([]byte("From: a@example.com\r\n\r\n"), bytes.Repeat([]byte("x"), MaxSize)...)
	cases := []struct {
		name      string
		raw       []byte
		malformed bool
		says      string
	}{
		{"too large", big, false, "larger than"},
		{"empty", []byte("\r\n"), true, "empty"},
		{"no From", crlf("To: a@example.com\nSubject: x\n\nbody\n"), true, "From"},
		{"From without address", crlf("From: nobody at all\n\nbody\n"), true, "From"},
		{"multipart without its parts", crlf("From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\nno parts\n"), true, `no part starts with boundary "b"`},
		{"multipart without boundary", crlf("From: a@example.com\nContent-Type: multipart/mixed\n\nbody\n"), true, "boundary"},
		{"bad base64", crlf("From: a@example.com\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n!!!not base64!!!\n"), true, "text/plain body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.raw, "a@example.com")
			if !errors.Is(err, ErrRefused) {
				t.Fatalf("err = %v, want ErrRefused", err)
			}
			if errors.Is(err, ErrMalformed) != c.malformed {
				t.Errorf("err = %v, malformed want %v", err, c.malformed)
			}
			if !strings.Contains(err.Error(), c.says) {
				t.Errorf("err = %v, want it to say %q", err, c.says)
			}
		})
	}
}

// Mails a little broken in ways mailers really break them are read.
func TestParseLenient(t *testing.T) {
	cases := []struct {
		name, raw, text string
		atts            int
	}{
		{"no closing boundary", "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nHello there\n", "Hello there", 0},
		{"attachment cut short is dropped, text kept", "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nHello there\n--b\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n", "Hello there", 0},
		{"unknown transfer encoding", "From: a@example.com\nContent-Type: text/plain\nContent-Transfer-Encoding: 8bits\n\nHello there\n", "Hello there", 0},
		{"unquoted boundary with =", "From: a@example.com\nContent-Type: multipart/alternative; boundary=Apple-Mail=_1\n\n--Apple-Mail=_1\nContent-Type: text/plain\n\nHello there\n--Apple-Mail=_1--\n", "Hello there", 0},
		{"broken Date and Cc", "From: a@example.com\nCc: ,,, ;;\nDate: yesterday-ish\n\nHello there\n", "Hello there", 0},
		{"unparseable From name with an address", "From: Novák, Jan (IT) <jan@example.cz>\n\nHello there\n", "Hello there", 0},
		{"unparseable encoded From name", "From: =?iso-8859-2?Q?Nov=E1k=2C_Ji=F8=ED?= (IT), <jan@example.cz>\n\nHello there\n", "Hello there", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Parse(crlf(c.raw), "a@example.com")
			if err != nil {
				t.Fatal(err)
			}
			wantName := map[string]string{"unparseable From name with an address": "Novák, Jan (IT)", "unparseable encoded From name": "Novák, Jiří (IT),"}[c.name]
			if wantName != "" && (m.From != "jan@example.cz" || m.FromName != wantName) {
				t.Errorf("From %q, FromName %q, want %q", m.From, m.FromName, wantName)
			}
			if m.Text != c.text || len(m.Attachments) != c.atts {
				t.Errorf("Text %q, %d attachments; want %q, %d", m.Text, len(m.Attachments), c.text, c.atts)
			}
		})
	}
}
