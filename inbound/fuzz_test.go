package inbound

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds Parse broken and hostile variants of the samples: it must
// never panic, and what it returns must be UTF-8 text with a Text whenever
// there is a FullText. (go test runs the seeds; go test -fuzz=FuzzParse
// explores.)
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.eml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("From: a@b.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"))
	f.Add([]byte("From: a@b.example\r\nContent-Type: text/html\r\n\r\n<blockquote type=cite><div class=gmail_quote>"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := Parse(raw, "a@b.example")
		if err != nil {
			return
		}
		for _, s := range []string{m.Text, m.FullText, m.Subject, m.From, m.FromName} {
			if !utf8.ValidString(s) {
				t.Fatalf("not UTF-8: %q", s)
			}
		}
		if strings.TrimSpace(m.FullText) != "" && strings.TrimSpace(m.Text) == "" {
			t.Fatalf("Text empty, FullText %q", m.FullText)
		}
	})
}
