package inbound_test

import (
	"testing"

	"github.com/orbitask/portal/inbound"
)

// TestInlineParts: a part is inline when its Content-Disposition says so or
// the HTML refers to its Content-ID; a file attached is not, nor is a part
// with a Content-ID nothing refers to.
func TestInlineParts(t *testing.T) {
	raw := "From: jana@acme.example\r\nTo: support@help.example\r\nSubject: x\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n" +
		"--r\r\nContent-Type: text/html\r\n\r\n<p>Hi</p><img src=\"CID:Logo@x\">\r\n" +
		"--r\r\nContent-Type: image/png; name=\"logo.png\"\r\nContent-ID: <logo@x>\r\n\r\npng\r\n" +
		"--r\r\nContent-Type: image/png; name=\"pasted.png\"\r\nContent-Disposition: inline; filename=\"pasted.png\"\r\n\r\npng\r\n" +
		"--r\r\nContent-Type: image/png; name=\"unused.png\"\r\nContent-ID: <unused@x>\r\n\r\npng\r\n--r--\r\n" +
		"--m\r\nContent-Type: text/plain; name=\"export.log\"\r\nContent-Disposition: attachment; filename=\"export.log\"\r\n\r\nlog\r\n--m--\r\n"
	m, err := inbound.Parse([]byte(raw), "jana@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"logo.png": true, "pasted.png": true, "unused.png": false, "export.log": false}
	if len(m.Attachments) != len(want) {
		t.Fatalf("%d attachments, want %d", len(m.Attachments), len(want))
	}
	for _, a := range m.Attachments {
		if a.Inline != want[a.Name] {
			t.Errorf("%s: Inline = %v, want %v", a.Name, a.Inline, want[a.Name])
		}
	}
}
