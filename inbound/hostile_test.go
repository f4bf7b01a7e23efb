package inbound

import (
	"strings"
	"testing"
)

// hostileMails are large mails built to hit quadratic paths or deep
// recursion; scale sets their size in MiB (the test uses a few; the
// benchmark note in the report used 24).
func hostileMails(scale int) map[string][]byte {
	n := scale << 20
	head := "From: a@example.com\r\nSubject: x\r\n"
	flowed := strings.Repeat("word word word word word word word word word word word ", n/56)
	return map[string][]byte{
		"flowed paragraph": []byte(head + "Content-Type: text/plain; charset=utf-8; format=flowed\r\n\r\nHi \r\n" +
			strings.ReplaceAll(flowed, "word word word word word word word word word word word ", "word word word word word word word word word word word \r\n")),
		"nested divs": []byte(head + "Content-Type: text/html\r\n\r\nHi" + strings.Repeat("<div>", n/5)),
		"many cite quotes": []byte(head + "Content-Type: text/html\r\n\r\nHi" +
			strings.Repeat(`<blockquote type="cite">q</blockquote>t`, n/40)),
		"one long line": []byte(head + "Content-Type: text/plain\r\n\r\nOn " + strings.Repeat("x", n) + " wrote:\r\n"),
		"many lines":    []byte(head + "Content-Type: text/plain\r\n\r\n" + strings.Repeat("On Monday, Jan wrote\r\n> q\r\n", n/27)),
	}
}

// Large crafted mails are read in bounded time and stack: no quadratic
// joining, no unbounded recursion over a deep HTML tree.
func TestParseHostile(t *testing.T) {
	for name, raw := range hostileMails(1) {
		t.Run(name, func(t *testing.T) {
			m, err := Parse(raw, "a@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(m.Text, "Hi") && !strings.HasPrefix(m.Text, "On") {
				t.Errorf("Text starts %.40q", m.Text)
			}
		})
	}
}

func BenchmarkParseHostile(b *testing.B) {
	for name, raw := range hostileMails(24) {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				if _, err := Parse(raw, "a@example.com"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
