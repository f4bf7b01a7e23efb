package inbound

import (
	"bufio"
	"bytes"
	"fmt"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestSamples parses every testdata/*.eml (Gmail, Outlook, Apple Mail and
// Thunderbird replies in English, German, French and Czech, plus automatic
// traffic) and compares Text with NAME.want.txt and Auto with NAME.auto.txt
// ("" when absent). The envelope sender is the sample's Return-Path, as the
// IMAP transport passes it.
func TestSamples(t *testing.T) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil || len(files) < 16 {
		t.Fatalf("want at least 16 samples, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(raw, []byte("X-Portal-Testdata: constructed")) {
				t.Errorf("%s does not say it is constructed (X-Portal-Testdata header)", f)
			}
			m, w, err := parse(raw, returnPath(t, raw))
			if err != nil {
				t.Fatal(err)
			}
			for field, v := range map[string]string{"From": m.From, "FromName": m.FromName, "Subject": m.Subject, "MessageID": m.MessageID} {
				if v == "" && !(field == "FromName" && strings.HasPrefix(name, "bounce")) || strings.Contains(v, "=?") || !utf8.ValidString(v) {
					t.Errorf("%s = %q", field, v)
				}
			}
			if m.Date.IsZero() {
				t.Error("Date not read")
			}
			if !strings.HasPrefix(name, "list") && !strings.HasPrefix(name, "bounce") && (len(m.To) == 0 || !strings.HasPrefix(m.To[0], "support+1001.")) {
				t.Errorf("To = %q", m.To)
			}
			want := readWant(t, "testdata/"+name+".want.txt")
			if m.Text != want {
				t.Errorf("Text differs from %s.want.txt:\n%s", name, diff(want, m.Text))
			}
			wantAuto := ""
			if b, err := os.ReadFile("testdata/" + name + ".auto.txt"); err == nil {
				wantAuto = strings.TrimSpace(string(b))
			}
			if m.Auto != wantAuto {
				t.Errorf("Auto = %q, want %q", m.Auto, wantAuto)
			}
			if strings.TrimSpace(m.FullText) == "" || (want != m.FullText && !strings.Contains(m.FullText, firstLine(want))) {
				t.Errorf("FullText lacks the new text: %q", m.FullText)
			}
			// The HTML alone must give the same words: mails without a
			// plain-text part are stripped by their structure.
			if w.html() != "" && w.plain() != "" {
				text, _ := stripHTML(w.html())
				got := strings.Join(strings.Fields(text), " ")
				if wantWords := strings.Join(strings.Fields(want), " "); got != wantWords {
					t.Errorf("HTML part alone gives\n%s\nwant\n%s", got, wantWords)
				}
			}
		})
	}
}

func readWant(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

func returnPath(t *testing.T, raw []byte) string {
	t.Helper()
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Trim(h.Get("Return-Path"), " ")
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// diff lists the lines of want and got side by side from the first
// difference on.
func diff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var sb strings.Builder
	same := 0
	for same < len(wl) && same < len(gl) && wl[same] == gl[same] {
		same++
	}
	sb.WriteString(fmt.Sprintf("(first difference at line %d)\n", same+1))
	for i := same; i < len(wl) || i < len(gl); i++ {
		if i < len(wl) {
			sb.WriteString("- " + wl[i] + "\n")
		}
		if i < len(gl) {
			sb.WriteString("+ " + gl[i] + "\n")
		}
	}
	return sb.String()
}

// The samples' attachments come out with their names, types and bytes.
func TestSampleAttachments(t *testing.T) {
	log := "2026-12-02 08:12:03 ERROR export: job 5521 failed"
	cases := []struct {
		sample string
		names  []string
		types  []string
		starts string // the first attachment's data begins so
	}{
		{"gmail-en", []string{"export-2026-12-02.log"}, []string{"text/plain"}, log},
		{"outlook-de", []string{"Export-Protokoll 02.12.2026.log"}, []string{"application/octet-stream"}, log},
		{"thunderbird-cs", []string{"export-2026-12-02.log"}, []string{"text/x-log"}, log},
		{"bounce-dsn", []string{"delivery-status.txt", "headers.txt"}, []string{"message/delivery-status", "text/rfc822-headers"}, "Reporting-MTA: dns; mx1.acme.example"},
		{"outlook-en", nil, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.sample, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/" + c.sample + ".eml")
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(raw, returnPath(t, raw))
			if err != nil {
				t.Fatal(err)
			}
			var names, types []string
			for _, a := range m.Attachments {
				names = append(names, a.Name)
				types = append(types, a.ContentType)
			}
			if fmt.Sprint(names) != fmt.Sprint(c.names) || fmt.Sprint(types) != fmt.Sprint(c.types) {
				t.Fatalf("attachments %q %q, want %q %q", names, types, c.names, c.types)
			}
			if c.starts != "" && !strings.HasPrefix(strings.ReplaceAll(string(m.Attachments[0].Data), "\r\n", "\n"), c.starts) {
				t.Errorf("data = %.80q, want it to start %q", m.Attachments[0].Data, c.starts)
			}
		})
	}
}
